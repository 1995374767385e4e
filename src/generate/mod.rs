//! `reciprocity generate`: a synthetic population written as Parquet datasets.
//!
//! Writes `OUT/follows/`, `OUT/interactions/` and `OUT/accounts/`, several objects each, with
//! the contract's default column names. Deterministic for a seed (whatever the thread count).
//! `--evolve-from` writes the next night of an existing population instead (`evolve.rs`).

pub mod activity;
pub mod evolve;
pub mod population;

use std::sync::Arc;
use std::time::Instant;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use rayon::prelude::*;

use crate::config::cli::GenerateArgs;
use crate::error::{Error, Result};
use crate::io::store::{self, Location, StorageOptions};
use crate::io::write::ObjectWriter;
use activity::{InteractionRows, KINDS};
use population::{FollowRows, Kind};

const DATASETS: [&str; 3] = ["follows", "interactions", "accounts"];

/// Generated inputs are zstd-compressed (level 1), as warehouse exports usually are; fixed,
/// so that a seed always gives the same bytes (and the benchmark's inputs never change).
fn input_codec() -> parquet::basic::Compression {
    crate::config::cli::TableCompression::Zstd.codec()
}

/// A population by account index: ids, brand flags, follow and interaction rows (the next
/// night of a population, which is evolved in memory).
pub struct Population {
    pub ids: Vec<i64>,
    pub brand: Vec<bool>,
    pub follows: FollowRows,
    pub interactions: InteractionRows,
}

/// What was written.
struct Written {
    accounts: usize,
    brands: usize,
    follows: u64,
    interactions: u64,
}

/// Generates (or evolves) and writes a population; returns a one-line report.
pub fn run(args: &GenerateArgs) -> Result<String> {
    if !(args.following >= 0.0 && args.interactions >= 0.0) {
        return Err(Error::Config("--following and --interactions must be non-negative".into()));
    }
    if args.files == Some(0) {
        return Err(Error::Config("--files must be at least 1".into()));
    }
    let start = Instant::now();
    let out = store::open(&args.out, &StorageOptions::default())?;
    let runtime = crate::io::runtime(2).map_err(|e| Error::internal("starting the I/O runtime", e))?;
    runtime.block_on(clear_previous(&out, args.overwrite))?;
    let files = args.files.unwrap_or(8);

    let written = match (&args.evolve_from, args.accounts) {
        (Some(from), _) => {
            let population = evolve::next_night(&runtime, from, args.interactions, args.seed)?;
            write_population(&runtime, &out, &population, files)?
        }
        (None, Some(n)) if (2..=u64::from(u32::MAX)).contains(&n) => {
            write_fresh(&runtime, &out, n as usize, args, files)?
        }
        (None, Some(n)) => {
            return Err(Error::Config(format!("--accounts {n} must be between 2 and {}", u32::MAX)));
        }
        (None, None) => return Err(Error::Config("pass --accounts N (or --evolve-from URL)".into())),
    };
    Ok(format!(
        "generated {} accounts ({} brands), {} follow rows, {} interaction rows -> {} in {:.2}s",
        written.accounts,
        written.brands,
        written.follows,
        written.interactions,
        out.url(),
        start.elapsed().as_secs_f64()
    ))
}

/// A fresh population, block by block: each object of follows and of interactions is the
/// rows of a run of consecutive blocks, drawn and encoded as it is written, so memory holds
/// the shared per-account tables (ids, kinds, popularity) and one block per thread, whatever
/// the size.
fn write_fresh(
    runtime: &tokio::runtime::Runtime,
    out: &Location,
    n: usize,
    args: &GenerateArgs,
    files: usize,
) -> Result<Written> {
    let ids = population::account_ids(n, args.seed);
    let kinds = population::kinds(n, args.seed);
    let model = population::FollowModel::new(&kinds, args.following, args.seed);
    let groups = split(model.blocks(), files.min(model.blocks()));
    let counts: Vec<(u64, u64)> = groups
        .par_iter()
        .enumerate()
        .with_max_len(1)
        .map(|(i, blocks)| {
            let follows_name = format!("follows/part-{i:05}");
            let events_name = format!("interactions/part-{i:05}");
            let mut follows = ObjectWriter::create(runtime, out, &follows_name, input_codec())?;
            let mut events = ObjectWriter::create(runtime, out, &events_name, input_codec())?;
            let (mut follow_rows, mut event_rows) = (0u64, 0u64);
            for b in blocks.clone() {
                let block = model.block(b);
                let drawn = activity::block_interactions(n, b, &block, args.interactions, args.seed);
                follow_rows += block.rows.follower.len() as u64;
                event_rows += drawn.actor.len() as u64;
                follows.write(&follows_batch(&ids, &block.rows, 0..block.rows.follower.len())?)?;
                events.write(&interactions_batch(&ids, &drawn, 0..drawn.actor.len())?)?;
            }
            follows.finish()?;
            events.finish()?;
            Ok((follow_rows, event_rows))
        })
        .collect::<Result<_>>()?;
    let brand: Vec<bool> = kinds.iter().map(|&k| k == Kind::Brand).collect();
    write_accounts(runtime, out, &ids, &brand, files)?;
    Ok(Written {
        accounts: n,
        brands: brand.iter().filter(|&&b| b).count(),
        follows: counts.iter().map(|c| c.0).sum(),
        interactions: counts.iter().map(|c| c.1).sum(),
    })
}

fn parts_of(rows: usize, files: usize) -> Vec<std::ops::Range<usize>> {
    split(rows, files.min(rows.div_ceil(1000)).max(1))
}

/// Writes an evolved population: each dataset split into up to `files` objects, written
/// a few at a time (one per core).
fn write_population(
    runtime: &tokio::runtime::Runtime,
    out: &Location,
    p: &Population,
    files: usize,
) -> Result<Written> {
    let (follows, events) = (&p.follows, &p.interactions);
    let mut parts: Vec<(String, bool, std::ops::Range<usize>)> = Vec::new();
    for (i, range) in parts_of(follows.follower.len(), files).into_iter().enumerate() {
        parts.push((format!("follows/part-{i:05}"), true, range));
    }
    for (i, range) in parts_of(events.actor.len(), files).into_iter().enumerate() {
        parts.push((format!("interactions/part-{i:05}"), false, range));
    }
    parts.par_iter().with_max_len(1).try_for_each(|(name, is_follows, range)| {
        let batch = match is_follows {
            true => follows_batch(&p.ids, follows, range.clone())?,
            false => interactions_batch(&p.ids, events, range.clone())?,
        };
        let mut writer = ObjectWriter::create(runtime, out, name, input_codec())?;
        writer.write(&batch)?;
        writer.finish()
    })?;
    write_accounts(runtime, out, &p.ids, &p.brand, files)?;
    Ok(Written {
        accounts: p.ids.len(),
        brands: p.brand.iter().filter(|&&b| b).count(),
        follows: follows.follower.len() as u64,
        interactions: events.actor.len() as u64,
    })
}

fn write_accounts(
    runtime: &tokio::runtime::Runtime,
    out: &Location,
    ids: &[i64],
    brand: &[bool],
    files: usize,
) -> Result<()> {
    parts_of(ids.len(), files).into_par_iter().enumerate().with_max_len(1).try_for_each(|(i, range)| {
        let types: StringArray =
            brand[range.clone()].iter().map(|&b| Some(if b { "brand" } else { "person" })).collect();
        let batch = RecordBatch::try_from_iter([
            ("account_id", Arc::new(Int64Array::from(ids[range].to_vec())) as ArrayRef),
            ("account_type", Arc::new(types) as ArrayRef),
        ])
        .map_err(|e| Error::internal("building accounts", e))?;
        let mut writer = ObjectWriter::create(runtime, out, &format!("accounts/part-{i:05}"), input_codec())?;
        writer.write(&batch)?;
        writer.finish()
    })
}

fn id_column(ids: &[i64], idx: &[u32]) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(idx.iter().map(|&i| ids[i as usize])))
}

fn utc(values: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
}

/// Follow rows `range`, with the contract's default column names.
fn follows_batch(ids: &[i64], f: &FollowRows, range: std::ops::Range<usize>) -> Result<RecordBatch> {
    RecordBatch::try_from_iter([
        ("follower_id", id_column(ids, &f.follower[range.clone()])),
        ("followee_id", id_column(ids, &f.followee[range.clone()])),
        ("created_at", utc(f.created_us[range].to_vec())),
    ])
    .map_err(|e| Error::internal("building follows", e))
}

/// Interaction rows `range`, with the contract's default column names.
fn interactions_batch(ids: &[i64], e: &InteractionRows, range: std::ops::Range<usize>) -> Result<RecordBatch> {
    let kinds: StringArray = e.kind[range.clone()].iter().map(|&k| Some(KINDS[k as usize])).collect();
    RecordBatch::try_from_iter([
        ("actor_id", id_column(ids, &e.actor[range.clone()])),
        ("target_id", id_column(ids, &e.target[range.clone()])),
        ("created_at", utc(e.created_us[range].iter().map(|&t| Some(t)).collect())),
        ("kind", Arc::new(kinds) as ArrayRef),
    ])
    .map_err(|e| Error::internal("building interactions", e))
}

/// `parts` contiguous ranges covering `0..len`.
fn split(len: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    (0..parts).map(|i| (len * i / parts)..(len * (i + 1) / parts)).collect()
}

/// Refuses to mix with an earlier population unless `overwrite`, which deletes it.
async fn clear_previous(out: &Location, overwrite: bool) -> Result<()> {
    for dataset in DATASETS {
        let existing = out.list_under(dataset).await?;
        if !existing.is_empty() && !overwrite {
            return Err(Error::Config(format!(
                "{} already holds data; pass --overwrite to replace it",
                out.display(&out.child(dataset))
            )));
        }
        for path in existing {
            out.delete(&path).await?;
        }
    }
    Ok(())
}
