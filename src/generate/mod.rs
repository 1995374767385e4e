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
use object_store::ObjectStoreExt;
use rayon::prelude::*;

use crate::cli::GenerateArgs;
use crate::error::{Error, Result};
use crate::io::write::encode_parquet;
use crate::store::{self, Location, StorageOptions};
use activity::{InteractionRows, KINDS};
use population::{FollowRows, Kind};

const DATASETS: [&str; 3] = ["follows", "interactions", "accounts"];

/// A population by account index: ids, brand flags, follow and interaction rows.
pub struct Population {
    pub ids: Vec<i64>,
    pub brand: Vec<bool>,
    pub follows: FollowRows,
    pub interactions: InteractionRows,
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

    let population = match (&args.evolve_from, args.accounts) {
        (Some(from), _) => evolve::next_night(&runtime, from, args.interactions, args.seed)?,
        (None, Some(n)) if (2..=u64::from(u32::MAX)).contains(&n) => fresh(n as usize, args),
        (None, Some(n)) => {
            return Err(Error::Config(format!("--accounts {n} must be between 2 and {}", u32::MAX)));
        }
        (None, None) => return Err(Error::Config("pass --accounts N (or --evolve-from URL)".into())),
    };
    write_population(&runtime, &out, &population, args.files.unwrap_or(8))?;
    Ok(format!(
        "generated {} accounts ({} brands), {} follow rows, {} interaction rows -> {} in {:.2}s",
        population.ids.len(),
        population.brand.iter().filter(|&&b| b).count(),
        population.follows.follower.len(),
        population.interactions.actor.len(),
        out.url(),
        start.elapsed().as_secs_f64()
    ))
}

fn fresh(n: usize, args: &GenerateArgs) -> Population {
    let ids = population::account_ids(n, args.seed);
    let kinds = population::kinds(n, args.seed);
    let follows = population::follows(&kinds, args.following, args.seed);
    let interactions = activity::interactions(n, &follows, args.interactions, args.seed);
    Population { ids, brand: kinds.iter().map(|&k| k == Kind::Brand).collect(), follows, interactions }
}

/// One object to write: a row range of one dataset.
enum Part {
    Follows(std::ops::Range<usize>),
    Interactions(std::ops::Range<usize>),
    Accounts(std::ops::Range<usize>),
}

/// Writes the three datasets, each split into up to `files` objects. Objects are built,
/// encoded and written a few at a time (one per core), so only those are ever held twice.
fn write_population(runtime: &tokio::runtime::Runtime, out: &Location, p: &Population, files: usize) -> Result<()> {
    let parts_of = |rows: usize| files.min(rows.div_ceil(1000)).max(1);
    let mut parts: Vec<(String, Part)> = Vec::new();
    let (follow_rows, event_rows, n) = (p.follows.follower.len(), p.interactions.actor.len(), p.ids.len());
    for (i, range) in split(follow_rows, parts_of(follow_rows)).into_iter().enumerate() {
        parts.push((format!("follows/part-{i:05}"), Part::Follows(range)));
    }
    for (i, range) in split(event_rows, parts_of(event_rows)).into_iter().enumerate() {
        parts.push((format!("interactions/part-{i:05}"), Part::Interactions(range)));
    }
    for (i, range) in split(n, parts_of(n)).into_iter().enumerate() {
        parts.push((format!("accounts/part-{i:05}"), Part::Accounts(range)));
    }
    for group in parts.chunks(rayon::current_num_threads().max(1)) {
        let encoded: Vec<(String, bytes::Bytes)> = group
            .par_iter()
            .map(|(name, part)| encode_parquet(name, &part_batch(p, part)?).map(|bytes| (name.clone(), bytes)))
            .collect::<Result<_>>()?;
        runtime.block_on(async {
            for (name, bytes) in encoded {
                let path = out.child(&format!("{name}.parquet"));
                out.store.put(&path, bytes.into()).await.map_err(|e| Error::storage(out.display(&path), "write", e))?;
            }
            Ok::<_, Error>(())
        })?;
    }
    Ok(())
}

/// The rows of one object, as a record batch with the contract's default column names.
fn part_batch(p: &Population, part: &Part) -> Result<RecordBatch> {
    let ids = &p.ids;
    let id_column =
        |idx: &[u32]| -> ArrayRef { Arc::new(Int64Array::from_iter_values(idx.iter().map(|&i| ids[i as usize]))) };
    let utc = |values: Vec<Option<i64>>| -> ArrayRef {
        Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
    };
    let (name, batch) = match part {
        Part::Follows(range) => {
            let f = &p.follows;
            let batch = RecordBatch::try_from_iter([
                ("follower_id", id_column(&f.follower[range.clone()])),
                ("followee_id", id_column(&f.followee[range.clone()])),
                ("created_at", utc(f.created_us[range.clone()].to_vec())),
            ]);
            ("follows", batch)
        }
        Part::Interactions(range) => {
            let e = &p.interactions;
            let kinds: StringArray = e.kind[range.clone()].iter().map(|&k| Some(KINDS[k as usize])).collect();
            let batch = RecordBatch::try_from_iter([
                ("actor_id", id_column(&e.actor[range.clone()])),
                ("target_id", id_column(&e.target[range.clone()])),
                ("created_at", utc(e.created_us[range.clone()].iter().map(|&t| Some(t)).collect())),
                ("kind", Arc::new(kinds) as ArrayRef),
            ]);
            ("interactions", batch)
        }
        Part::Accounts(range) => {
            let accounts: Vec<u32> = (range.start as u32..range.end as u32).collect();
            let types: StringArray =
                p.brand[range.clone()].iter().map(|&b| Some(if b { "brand" } else { "person" })).collect();
            let batch = RecordBatch::try_from_iter([
                ("account_id", id_column(&accounts)),
                ("account_type", Arc::new(types) as ArrayRef),
            ]);
            ("accounts", batch)
        }
    };
    batch.map_err(|e| Error::internal(format!("building {name}"), e))
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
