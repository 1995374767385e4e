//! `reciprocity history ROOT --out URL`: the completed nights under ROOT (`dt=YYYY-MM-DD/`
//! folders with `_SUCCESS`) put together — population_history, brand_history, brand_growth,
//! tie_survival and the "does following back pay?" findings.
//!
//! It reads only the small tables (population_summary, brand_audience, tie_decay), so a year
//! of nights takes seconds, and it publishes as `run` does: the lock, tables, a manifest,
//! `_SUCCESS` last; the same history again on a completed OUT is a no-op.

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use chrono::NaiveDate;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::compute::brand_growth::{brand_growth, findings, BrandNight, Findings};
use crate::compute::survival::BinCounts;
use crate::config::cli::HistoryArgs;
use crate::error::{Error, Result};
use crate::id_type::IdType;
use crate::io::decode::id_keys_into;
use crate::io::leased_store::leased;
use crate::io::lock::{self, LockTerms};
use crate::io::store::{self, Location, StorageOptions};
use crate::io::table_reader::{read_optional_table, read_table};
use crate::output::folder::{
    check_output, fingerprint_of, is_complete, mark_success, read_manifest, remove_unlisted, retract, write_manifest,
    write_tables,
};
use crate::output::history_tables::{self as tables, BrandHistoryRow, HISTORY_TABLES};
use crate::output::progress::{new_run_id, Reporter};

/// What a finished history reports back.
#[derive(Debug, Clone)]
pub struct HistoryOutcome {
    pub summary: String,
    pub findings: Option<Findings>,
}

/// One completed night, read.
struct Night {
    date: NaiveDate,
    population: RecordBatch,
    /// Its brand_audience rows (`night.night` is set once the nights are counted).
    brands: Vec<BrandHistoryRow>,
    id_type: Option<IdType>,
    ties: Option<Vec<(String, i32, u64, u64)>>,
    fingerprint: String,
}

/// Runs `reciprocity history`.
pub fn history(args: &HistoryArgs) -> Result<HistoryOutcome> {
    let reporter = Reporter::new(args.log_format, new_run_id());
    let storage = StorageOptions::default();
    let (root, out) = (store::open(&args.root, &storage)?, store::open(&args.out, &storage)?);
    let day = |flag: &str, text: &Option<String>| {
        text.as_deref()
            .map(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|e| Error::Config(format!("{flag} '{t}': {e}"))))
            .transpose()
    };
    let (from, to) = (day("--from", &args.from)?, day("--to", &args.to)?);
    let runtime = crate::io::runtime(2).map_err(|e| Error::internal("starting the I/O runtime", e))?;
    let existing = runtime.block_on(check_output(&out, args.overwrite))?;
    let dates = runtime.block_on(completed_nights(&root, from, to, &reporter))?;
    let nights = runtime.block_on(futures::future::try_join_all(dates.iter().map(|&d| read_night(&root, d))))?;
    let fingerprint = history_fingerprint(&nights);
    if existing.is_same_run(&out, &fingerprint)? {
        return Ok(HistoryOutcome {
            summary: format!("{} already holds this history; nothing to do\n", out.url()),
            findings: None,
        });
    }
    let lock = runtime.block_on(lock::acquire(&out, reporter.run_id(), LockTerms::default(), |m| reporter.warn(m)))?;
    let outcome = publish(&runtime, &leased(&out, lock.lease()), &root, &nights, &fingerprint, &reporter);
    let outcome = outcome.map_err(|e| lock.lease().check().err().unwrap_or(e));
    let released = runtime.block_on(lock.release());
    let outcome = outcome?;
    released?;
    Ok(outcome)
}

/// The dates of the completed nights under ROOT within [from, to], in order; warns of
/// nights without `_SUCCESS` (skipped) and of gaps between dates.
async fn completed_nights(
    root: &Location,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    reporter: &Reporter,
) -> Result<Vec<NaiveDate>> {
    let listed =
        root.store.list_with_delimiter(Some(&root.path)).await.map_err(|e| Error::storage(root.url(), "list", e))?;
    let mut dates: Vec<NaiveDate> = listed
        .common_prefixes
        .iter()
        .filter_map(|p| p.filename()?.strip_prefix("dt=").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()))
        .filter(|d| from.is_none_or(|f| *d >= f) && to.is_none_or(|t| *d <= t))
        .collect();
    dates.sort();
    let mut complete = Vec::with_capacity(dates.len());
    for date in dates {
        if is_complete(&root.at(&format!("dt={date}"))).await? {
            complete.push(date);
        } else {
            reporter.warn(format!(
                "skipping night {date}: no _SUCCESS under {}/dt={date}/ (failed or still running)",
                root.url()
            ));
        }
    }
    for pair in complete.windows(2) {
        if (pair[1] - pair[0]).num_days() != 1 {
            reporter.warn(format!(
                "a gap between nights {} and {}: tie_survival assumes nights one day apart",
                pair[0], pair[1]
            ));
        }
    }
    if complete.is_empty() {
        return Err(Error::Input {
            object: root.url(),
            problem: "no completed nights (dt=YYYY-MM-DD/ folders with _SUCCESS) here".into(),
        });
    }
    Ok(complete)
}

async fn read_night(root: &Location, date: NaiveDate) -> Result<Night> {
    let night = root.at(&format!("dt={date}"));
    let population = read_table(&night, "population_summary", None).await?;
    let population = match population.as_slice() {
        [one] if one.num_rows() == 1 => one.clone(),
        _ => return Err(Error::Input { object: night.url(), problem: "population_summary is not one row".into() }),
    };
    let columns = ["account_id", "followers", "follow_back_rate", "followers_engaged_share", "engagement_in"];
    let (mut brands, mut id_type) = (Vec::new(), None);
    for batch in read_table(&night, "brand_audience", Some(&columns)).await? {
        let object = format!("{}/brand_audience", night.url());
        let column =
            |name: &str| batch.column_by_name(name).ok_or_else(|| Error::column(&object, name, "missing column"));
        let ids = column("account_id")?;
        id_type = IdType::of(ids.data_type());
        let mut keys = vec![0u64; batch.num_rows()];
        id_keys_into(ids.as_ref(), &mut keys).map_err(|p| Error::column(&object, "account_id", p))?;
        let (followers, rate) = (
            column("followers")?.as_primitive::<Int64Type>().clone(),
            column("follow_back_rate")?.as_primitive::<Float64Type>().clone(),
        );
        let (share, engagement) = (
            column("followers_engaged_share")?.as_primitive::<Float64Type>().clone(),
            column("engagement_in")?.as_primitive::<Int64Type>().clone(),
        );
        let opt = |a: &arrow_array::Float64Array, i: usize| a.is_valid(i).then(|| a.value(i));
        for (i, key) in keys.into_iter().enumerate() {
            let night =
                BrandNight { key, night: 0, followers: followers.value(i) as u64, follow_back_rate: opt(&rate, i) };
            let (followers_engaged_share, engagement_in) = (opt(&share, i), engagement.value(i) as u64);
            brands.push(BrandHistoryRow { day: days(date), night, followers_engaged_share, engagement_in });
        }
    }
    let ties = read_optional_table(&night, "tie_decay", Some(&["tie_kind", "age_bin", "ties", "broken"])).await?.map(
        |batches| {
            batches
                .iter()
                .flat_map(|b| {
                    let (kind, bin) =
                        (b.column(0).as_string::<i32>().clone(), b.column(1).as_primitive::<Int32Type>().clone());
                    let (ties, broken) = (
                        b.column(2).as_primitive::<Int64Type>().clone(),
                        b.column(3).as_primitive::<Int64Type>().clone(),
                    );
                    (0..b.num_rows()).map(move |i| {
                        (kind.value(i).to_string(), bin.value(i), ties.value(i) as u64, broken.value(i) as u64)
                    })
                })
                .collect()
        },
    );
    // A night written before manifests had fingerprints stands for its whole manifest.
    let manifest = read_manifest(&night).await?.unwrap_or_default();
    let fingerprint =
        fingerprint_of(&manifest).unwrap_or_else(|| format!("{:x}", Sha256::digest(manifest.to_string().as_bytes())));
    Ok(Night { date, population, brands, id_type, ties, fingerprint })
}

/// What the history depends on: this program's version and each night's fingerprint.
fn history_fingerprint(nights: &[Night]) -> String {
    let of = json!({
        "reciprocity_version": env!("CARGO_PKG_VERSION"),
        "nights": nights.iter().map(|n| (n.date.to_string(), n.fingerprint.clone())).collect::<Vec<_>>(),
    });
    format!("{:x}", Sha256::digest(of.to_string().as_bytes()))
}

fn days(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch")).num_days() as i32
}

/// Builds the tables and writes them, the manifest and `_SUCCESS`.
fn publish(
    runtime: &tokio::runtime::Runtime,
    out: &Location,
    root: &Location,
    nights: &[Night],
    fingerprint: &str,
    reporter: &Reporter,
) -> Result<HistoryOutcome> {
    let started_at = chrono::Utc::now();
    let id_type = nights.iter().find_map(|n| n.id_type).unwrap_or(IdType::Int64);
    let mut rows: Vec<BrandHistoryRow> = Vec::new();
    for (index, n) in nights.iter().enumerate() {
        if n.id_type.is_some_and(|t| t != id_type) {
            return Err(Error::column(
                format!("{}/dt={}/brand_audience", root.url(), n.date),
                "account_id",
                format!("ids are not {id_type} as in earlier nights"),
            ));
        }
        rows.extend(
            n.brands.iter().map(|r| BrandHistoryRow { night: BrandNight { night: index as u32, ..r.night }, ..*r }),
        );
    }
    rows.sort_by_key(|r| (r.night.key, r.night.night));
    let growth = brand_growth(&rows.iter().map(|r| r.night).collect::<Vec<_>>(), nights.len() as u32 - 1);
    let found = findings(&growth);
    let mut kinds: BTreeMap<String, (u64, BinCounts)> = BTreeMap::new();
    for ties in nights.iter().filter_map(|n| n.ties.as_ref()) {
        let mut seen: Vec<&str> = Vec::new();
        for (kind, bin, count, broken) in ties {
            let entry = kinds.entry(kind.clone()).or_default();
            entry.1.add(*bin, *count, *broken);
            if !seen.contains(&kind.as_str()) {
                seen.push(kind);
                entry.0 += 1;
            }
        }
    }
    let kinds: Vec<(String, u64, BinCounts)> = kinds.into_iter().map(|(k, (n, c))| (k, n, c)).collect();
    let population = nights.iter().map(|n| (days(n.date), n.population.clone())).collect::<Vec<_>>();
    let batches = vec![
        (tables::POPULATION_HISTORY, tables::population_history(&population)?),
        (tables::BRAND_HISTORY, tables::brand_history(id_type, &rows)?),
        (tables::BRAND_GROWTH, tables::brand_growth(id_type, &growth)?),
        (tables::TIE_SURVIVAL, tables::tie_survival(&kinds)?),
    ];
    runtime.block_on(retract(out))?;
    let written = write_tables(runtime, out, &batches, parquet::basic::Compression::SNAPPY)?;
    let summary = summary(out, nights, &kinds, &found);
    let manifest = json!({
        "reciprocity_version": env!("CARGO_PKG_VERSION"),
        "fingerprint": fingerprint,
        "run_id": reporter.run_id(),
        "command": "history",
        "root": root.url(),
        "output": out.url(),
        "started_at": started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "finished_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "nights": nights.iter().map(|n| n.date.to_string()).collect::<Vec<_>>(),
        "tables": written,
        "findings": found,
        "warnings": reporter.warnings(),
    });
    let listed = written.values().flat_map(|t| t.objects.iter().map(|o| o.path.clone())).collect();
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| Error::internal("serializing the manifest", e))?;
    runtime.block_on(async {
        write_manifest(out, json).await?;
        remove_unlisted(out, &HISTORY_TABLES, &listed).await?;
        mark_success(out).await
    })?;
    reporter.event("history", "history_end", json!({ "output": out.url(), "nights": nights.len(), "findings": found }));
    Ok(HistoryOutcome { summary, findings: Some(found) })
}

/// The lines printed at the end: the nights, tie survival, and whether following back paid.
fn summary(out: &Location, nights: &[Night], kinds: &[(String, u64, BinCounts)], found: &Findings) -> String {
    let (first, last) = (nights[0].date, nights[nights.len() - 1].date);
    let mut text = format!("history   {} nights, {first} to {last} -> {}\n", nights.len(), out.url());
    let year = |kind: &str| {
        let counts = kinds.iter().find(|k| k.0 == kind)?.2;
        crate::compute::survival::survival(counts.hazards())[4]
    };
    let prob = |p: Option<f64>| p.map_or("unknown (too few ties in some age bin)".to_string(), |p| format!("{p:.2}"));
    text += &match kinds.is_empty() {
        true => "ties      no tie_decay in these nights (it needs runs with a previous night)\n".to_string(),
        false => format!(
            "ties      a follow-back survives a year with probability {}; one-way ties {}\n",
            prob(year("mutual")),
            prob(year("one_way"))
        ),
    };
    let pct = |g: Option<f64>| g.map_or("n/a".to_string(), |g| format!("{:.1}%", 100.0 * g));
    let q = &found.median_growth_by_follow_back_quartile;
    text += &format!(
        "brands    {} brands: the top follow-back quartile grew {} (median) vs {} in the bottom; Spearman {}\n",
        found.brands,
        pct(q[3]),
        pct(q[0]),
        found.spearman_follow_back_vs_growth.map_or("n/a".to_string(), |r| format!("{r:.2}"))
    );
    text
}
