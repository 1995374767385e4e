//! `reciprocity`: who follows back, and who actually talks to whom.
//!
//! The whole job is one straight line, and [`run`] is that line:
//!
//! ```text
//! job config -> read (object_store + Parquet) -> clean/validate -> compute (pure kernels)
//!            -> write tables -> manifest -> _SUCCESS -> human summary
//! ```
//!
//! `job` and `cli` parse and validate; `io` and `store` are the only async, I/O-doing code;
//! `compute` holds pure kernels; `tables`, `manifest` and `summary` turn results into bytes
//! and text.

pub mod cli;
pub mod compute;
pub mod error;
pub mod generate;
pub mod id_type;
pub mod io;
pub mod job;
pub mod manifest;
pub mod progress;
pub mod store;
pub mod summary;
pub mod tables;

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::RecordBatch;
use rayon::prelude::*;
use serde_json::json;

use compute::account_metrics::{account_metrics, CampRule};
use compute::accounts::{brands, clean_accounts, AccountList, AccountTypes};
use compute::brands::brand_audience;
use compute::by_followers::by_followers;
use compute::clean::{clean_edges, Window};
use compute::follow_graph::FollowGraph;
use compute::interaction_graph::InteractionGraph;
use compute::population::{population, Population};
use compute::universe::{Universe, MAX_ACCOUNTS};
use error::{Error, Result};
use io::inputs::{describe, read_inputs, scan_inputs};
use io::write::{encode_parquet, mark_success, prepare_output, write_manifest, write_table};
use job::Job;
use manifest::{Manifest, Parameters, Rejected, TableEntry};
use progress::Reporter;
use summary::{BrandLine, SummaryInput};

/// Every table a run writes, in order.
pub const TABLES: [&str; 4] =
    [tables::ACCOUNT_METRICS, tables::POPULATION_SUMMARY, tables::RECIPROCITY_BY_FOLLOWERS, tables::BRAND_AUDIENCE];

/// What a finished run reports back.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub manifest: Manifest,
    pub population: Population,
    pub summary: String,
}

/// Runs a job end to end. Nothing is written to OUT until every input has been read and
/// every metric computed; `_SUCCESS` is written last.
pub fn run(job: &Job, reporter: &Reporter) -> Result<RunOutcome> {
    let started_at = chrono::Utc::now();
    let threads = job.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::internal("starting the compute threads", e))?;
    let runtime = io::runtime(threads).map_err(|e| Error::internal("starting the I/O runtime", e))?;
    let out = store::open(&job.out, &job.storage)?;
    let concurrency = threads * 2;

    // job config -> read
    let scans = reporter.stage(
        "scan",
        || {
            runtime.block_on(async {
                io::write::check_output(&out, job.overwrite).await?;
                scan_inputs(job, concurrency).await
            })
        },
        |s| json!({ "objects": s.all().map(|d| d.objects.len()).sum::<usize>(), "rows": s.all().map(|d| d.rows()).sum::<u64>() }),
    )?;
    let id_type = scans.id_type;
    let total_rows: u64 = scans.all().map(|d| d.rows()).sum();
    let bar = reporter.bar("read", total_rows);
    let on_rows = {
        let bar = bar.clone();
        Arc::new(move |rows: u64| bar.inc(rows))
    };
    let inputs = reporter.stage(
        "read",
        || runtime.block_on(read_inputs(&scans, concurrency, on_rows)),
        |_| json!({ "rows": total_rows }),
    )?;
    bar.finish_and_clear();

    pool.install(|| {
        // clean/validate
        let window = Window {
            start: job.params.window_start_ns,
            end: job.params.window_end_ns,
        };
        let ((follows, follow_drops), (interactions, interaction_drops), (account_list, account_drops)) = reporter
            .stage(
                "clean",
                || -> Result<_> {
                    let follows = clean_edges(inputs.follows, Window::default(), true);
                    let interactions = inputs.interactions.map(|raw| clean_edges(raw, window, false)).unzip();
                    let accounts = inputs.accounts.map(clean_accounts).unzip();
                    Ok((follows, interactions, accounts))
                },
                |((f, _), (i, _), _)| json!({ "follows": f.len(), "interactions": i.as_ref().map(|i| i.len()) }),
            )?;
        let account_list = account_list.unwrap_or_else(AccountList::default);

        // compute (pure kernels)
        let (universe, follow_graph) = reporter.stage(
            "dyads",
            || {
                let empty = Vec::new();
                let (i_src, i_dst) = interactions.as_ref().map_or((&empty, &empty), |i| (&i.src, &i.dst));
                let universe = Universe::from_columns(&[&follows.src, &follows.dst, i_src, i_dst, &account_list.keys]);
                if universe.len() > MAX_ACCOUNTS {
                    return Err(Error::Resource(format!(
                        "{} accounts exceed the {MAX_ACCOUNTS} one run can hold",
                        universe.len()
                    )));
                }
                let (src, dst) = (universe.dense(&follows.src), universe.dense(&follows.dst));
                let graph = FollowGraph::build(universe.len(), &src, &dst, follows.ts.as_deref());
                Ok((universe, graph))
            },
            |(u, g)| json!({ "accounts": u.len(), "follow_edges": g.edges(), "duplicate_follows": g.duplicates_removed }),
        )?;
        drop(follows);
        let n = universe.len();
        let interaction_graph = reporter.stage(
            "interactions",
            || -> Result<_> {
                Ok(match &interactions {
                    Some(rows) => InteractionGraph::build(n, &universe.dense(&rows.src), &universe.dense(&rows.dst)),
                    None => InteractionGraph::empty(n),
                })
            },
            |g| json!({ "events": g.events, "pairs": g.pairs() }),
        )?;
        drop(interactions);

        let rule = CampRule {
            min_followers: job.params.min_followers,
            follows_back_all_rate: job.params.follows_back_all_rate,
            selective_rate: job.params.selective_rate,
        };
        let (types, pass, population, buckets, brand_rows) = reporter.stage(
            "stats",
            || -> Result<_> {
                let types = AccountTypes::build(&universe, &account_list);
                let pass = account_metrics(&follow_graph, &interaction_graph, &rule);
                let population = population(&follow_graph, &interaction_graph, &pass);
                let buckets = by_followers(&pass.rows);
                let (listed, unfit): (Vec<_>, Vec<_>) =
                    job.params.brands.iter().map(|&id| (id, id_type.key_of(id))).partition(|(_, k)| k.is_some());
                let listed_keys: Vec<u64> = listed.iter().filter_map(|(_, k)| *k).collect();
                let (brand_ids, missing) = brands(&universe, &types, &listed_keys);
                let not_accounts: Vec<String> = unfit
                    .iter()
                    .map(|(id, _)| id.to_string())
                    .chain(missing.iter().map(|&k| id_type.id_of(k).to_string()))
                    .collect();
                if !not_accounts.is_empty() {
                    reporter.warn(format!("listed brands that are not accounts: {}", not_accounts.join(", ")));
                }
                let brand_rows = brand_audience(&brand_ids, &follow_graph, &interaction_graph, &pass.rows);
                Ok((types, pass, population, buckets, brand_rows))
            },
            |(_, _, _, _, b)| json!({ "brands": b.len() }),
        )?;

        // write tables -> manifest -> _SUCCESS
        let keys = universe.keys();
        let batches: Vec<(&str, RecordBatch)> = vec![
            (tables::ACCOUNT_METRICS, tables::account_metrics(id_type, keys, &types, &pass.rows)?),
            (tables::POPULATION_SUMMARY, tables::population_summary(&population)?),
            (tables::RECIPROCITY_BY_FOLLOWERS, tables::reciprocity_by_followers(&buckets)?),
            (tables::BRAND_AUDIENCE, tables::brand_audience(id_type, keys, &brand_rows)?),
        ];
        let written = reporter.stage(
            "write",
            || -> Result<_> {
                let encoded: Vec<_> = batches
                    .par_iter()
                    .map(|(name, batch)| encode_parquet(name, batch).map(|bytes| (*name, batch.num_rows() as u64, bytes)))
                    .collect::<Result<_>>()?;
                runtime.block_on(async {
                    prepare_output(&out, job.overwrite, &TABLES).await?;
                    let mut written = BTreeMap::new();
                    for (name, rows, bytes) in encoded {
                        let object = write_table(&out, name, rows, bytes).await?;
                        written.insert(name.to_string(), TableEntry { rows, objects: vec![object] });
                    }
                    Ok::<_, Error>(written)
                })
            },
            |w| json!({ "tables": w.len() }),
        )?;

        let rejected = Rejected::new(follow_drops, follow_graph.duplicates_removed, interaction_drops, account_drops);
        let mut inputs_described = BTreeMap::new();
        for scan in scans.all() {
            inputs_described.insert(scan.dataset.clone(), describe(scan));
        }
        let manifest = Manifest {
            reciprocity_version: env!("CARGO_PKG_VERSION"),
            run_id: reporter.run_id().to_string(),
            run_date: job.run_date.to_string(),
            started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            output: out.url(),
            id_type: id_type.to_string(),
            inputs: inputs_described,
            parameters: Parameters::of(job),
            rejected,
            accounts: n as u64,
            tables: written,
            versions: manifest::versions(),
            timings_s: reporter.timings(),
            warnings: reporter.warnings(),
        };
        let json = serde_json::to_string_pretty(&manifest).map_err(|e| Error::internal("serializing the manifest", e))?;
        runtime.block_on(async {
            write_manifest(&out, json).await?;
            mark_success(&out).await
        })?;

        // human summary
        let mut top: Vec<_> = brand_rows.iter().collect();
        top.sort_by(|a, b| b.followers.cmp(&a.followers).then(a.account.cmp(&b.account)));
        let top_brands = top
            .iter()
            .take(5)
            .map(|b| BrandLine {
                id: id_type.id_of(keys[b.account as usize]).to_string(),
                followers: b.followers,
                follow_back_rate: b.follow_back_rate,
                followers_engaged_share: b.followers_engaged_share,
                reach_2hop: b.reach_2hop,
            })
            .collect();
        let summary = summary::render(&SummaryInput {
            out: &manifest.output,
            population: &population,
            brands: brand_rows.len(),
            top_brands,
            rejected: &manifest.rejected,
            timings: &manifest.timings_s,
        });
        reporter.event("run", "run_end", json!({ "accounts": n, "output": manifest.output }));
        Ok(RunOutcome {
            manifest,
            population,
            summary,
        })
    })
}

/// An id for this run's log lines and manifest (not part of any result).
pub fn new_run_id() -> String {
    let now = chrono::Utc::now();
    format!("{}-{:x}", now.format("%Y%m%dT%H%M%S"), std::process::id())
}
