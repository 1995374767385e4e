//! `reciprocity generate`: a synthetic population written as Parquet datasets.
//!
//! Writes `OUT/follows/`, `OUT/interactions/` and `OUT/accounts/`, several objects each, with
//! the contract's default column names. Deterministic for a seed (whatever the thread count).

pub mod activity;
pub mod population;

use std::sync::Arc;
use std::time::Instant;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use rayon::prelude::*;

use crate::cli::GenerateArgs;
use crate::error::{Error, Result};
use crate::io::write::encode_parquet;
use crate::store::{self, Location, StorageOptions};
use activity::KINDS;
use population::Kind;

const DATASETS: [&str; 3] = ["follows", "interactions", "accounts"];

/// Generates and writes a population; returns a one-line report.
pub fn run(args: &GenerateArgs) -> Result<String> {
    if args.accounts < 2 || args.accounts > u32::MAX as u64 {
        return Err(Error::Config(format!("--accounts {} must be between 2 and {}", args.accounts, u32::MAX)));
    }
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

    let n = args.accounts as usize;
    let ids = population::account_ids(n, args.seed);
    let kinds = population::kinds(n, args.seed);
    let follows = population::follows(&kinds, args.following, args.seed);
    let interactions = activity::interactions(n, &follows, args.interactions, args.seed);

    let id_column =
        |idx: &[u32]| -> ArrayRef { Arc::new(Int64Array::from_iter_values(idx.iter().map(|&i| ids[i as usize]))) };
    let utc = |values: Vec<Option<i64>>| -> ArrayRef {
        Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
    };
    let files = |rows: usize| args.files.unwrap_or(8).min(rows.div_ceil(1000)).max(1);

    let mut parts: Vec<(String, RecordBatch)> = Vec::new();
    for (i, range) in split(follows.follower.len(), files(follows.follower.len())).into_iter().enumerate() {
        let batch = RecordBatch::try_from_iter([
            ("follower_id", id_column(&follows.follower[range.clone()])),
            ("followee_id", id_column(&follows.followee[range.clone()])),
            ("created_at", utc(follows.created_us[range].to_vec())),
        ]);
        parts.push((format!("follows/part-{i:05}"), batch.map_err(|e| Error::internal("building follows", e))?));
    }
    for (i, range) in split(interactions.actor.len(), files(interactions.actor.len())).into_iter().enumerate() {
        let kinds: StringArray = interactions.kind[range.clone()].iter().map(|&k| Some(KINDS[k as usize])).collect();
        let batch = RecordBatch::try_from_iter([
            ("actor_id", id_column(&interactions.actor[range.clone()])),
            ("target_id", id_column(&interactions.target[range.clone()])),
            ("created_at", utc(interactions.created_us[range.clone()].iter().map(|&t| Some(t)).collect())),
            ("kind", Arc::new(kinds) as ArrayRef),
        ]);
        parts.push((
            format!("interactions/part-{i:05}"),
            batch.map_err(|e| Error::internal("building interactions", e))?,
        ));
    }
    for (i, range) in split(n, files(n)).into_iter().enumerate() {
        let account_idx: Vec<u32> = (range.start as u32..range.end as u32).collect();
        let types: StringArray =
            kinds[range].iter().map(|&k| Some(if k == Kind::Brand { "brand" } else { "person" })).collect();
        let batch = RecordBatch::try_from_iter([
            ("account_id", id_column(&account_idx)),
            ("account_type", Arc::new(types) as ArrayRef),
        ]);
        parts.push((format!("accounts/part-{i:05}"), batch.map_err(|e| Error::internal("building accounts", e))?));
    }

    let encoded: Vec<_> = parts
        .par_iter()
        .map(|(name, batch)| encode_parquet(name, batch).map(|bytes| (name.clone(), bytes)))
        .collect::<Result<_>>()?;
    runtime.block_on(async {
        for (name, bytes) in encoded {
            let path = out.child(&format!("{name}.parquet"));
            out.store.put(&path, bytes.into()).await.map_err(|e| Error::storage(out.display(&path), "write", e))?;
        }
        Ok::<_, Error>(())
    })?;
    Ok(format!(
        "generated {} accounts ({} brands), {} follow rows, {} interaction rows -> {} in {:.1}s",
        n,
        kinds.iter().filter(|&&k| k == Kind::Brand).count(),
        follows.follower.len(),
        interactions.actor.len(),
        out.url(),
        start.elapsed().as_secs_f64()
    ))
}

/// `parts` contiguous ranges covering `0..len`.
fn split(len: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    (0..parts).map(|i| (len * i / parts)..(len * (i + 1) / parts)).collect()
}

/// Refuses to mix with an earlier population unless `overwrite`, which deletes it.
async fn clear_previous(out: &Location, overwrite: bool) -> Result<()> {
    for dataset in DATASETS {
        let prefix = out.child(dataset);
        let existing: Vec<_> = out
            .store
            .list(Some(&prefix))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(|e| Error::storage(out.display(&prefix), "list", e))?;
        if !existing.is_empty() && !overwrite {
            return Err(Error::Config(format!(
                "{} already holds data; pass --overwrite to replace it",
                out.display(&prefix)
            )));
        }
        for path in existing {
            out.store.delete(&path).await.map_err(|e| Error::storage(out.display(&path), "delete", e))?;
        }
    }
    Ok(())
}
