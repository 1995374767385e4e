//! The output folder: its object names, and the order a run writes them in.
//!
//! A reader trusts OUT only once `_SUCCESS` exists. The order: `_SUCCESS` of an earlier run
//! is removed first; parts are uploaded under content-derived names (`part-00000-<sha256
//! prefix>.parquet`: a rerun of the same inputs writes the same names and bytes, a different
//! attempt never overwrites another's); the manifest lists them with their checksums; objects
//! under the table folders that the manifest does not list (an earlier run's, a failed
//! attempt's) are deleted; `_SUCCESS` comes last. A crash anywhere leaves no `_SUCCESS`. Only
//! objects this job writes (its table folders, `_manifest.json`, `_SUCCESS`, `report.html`,
//! `_LOCK`) are ever deleted: pointing `--out` at a folder with other things in it does not
//! destroy them.

use std::collections::{BTreeMap, BTreeSet};

use arrow_array::RecordBatch;
use bytes::Bytes;
use object_store::{ObjectStoreExt, PutPayload};
use parquet::basic::Compression;

use crate::error::{Error, Result};
use crate::io::store::Location;
use crate::io::write::{encode_parquet, part_ranges, write_hashed, TableEntry, WrittenObject};
use crate::output::tables;

pub const SUCCESS: &str = "_SUCCESS";
pub const MANIFEST: &str = "_manifest.json";

pub const REPORT: &str = "report.html";

/// Every table a run may write, in order.
pub const TABLES: [&str; 5] = [
    tables::ACCOUNT_METRICS,
    tables::POPULATION_SUMMARY,
    tables::RECIPROCITY_BY_FOLLOWERS,
    tables::BRAND_AUDIENCE,
    tables::FOLLOW_CHANGES,
];

/// A part's name, relative to OUT: `<table>/part-<NNNNN>-<first 16 hex digits of its sha256>.parquet`.
pub fn part_path(table: &str, part: usize, sha256: &str) -> String {
    format!("{table}/part-{part:05}-{}.parquet", &sha256[..16])
}

/// Uploads an encoded part of `table` under its [`part_path`].
pub async fn write_part(out: &Location, table: &str, part: usize, rows: u64, encoded: Bytes) -> Result<WrittenObject> {
    let written = write_hashed(out, |sha| part_path(table, part, sha), rows, encoded).await?;
    crate::fault::point("after_part");
    Ok(written)
}

/// What OUT holds before a run writes to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existing {
    /// No completed run (or one `--overwrite` replaces).
    Nothing,
    /// A completed run, and its manifest's fingerprint of its inputs and settings.
    Complete { fingerprint: String },
}

/// Looks at OUT before any input is read. A completed OUT is refused unless `overwrite`,
/// except that one whose manifest has a fingerprint is let through, to be compared with
/// the run's own once its inputs are scanned (the same run again is a no-op; see
/// [`Existing::is_same_run`]).
pub async fn check_output(out: &Location, overwrite: bool) -> Result<Existing> {
    if overwrite || !is_complete(out).await? {
        return Ok(Existing::Nothing);
    }
    let fingerprint = read_manifest(out).await.ok().flatten().and_then(|m| fingerprint_of(&m));
    match fingerprint {
        Some(fingerprint) => Ok(Existing::Complete { fingerprint }),
        None => Err(Error::OutputExists { out: out.url() }),
    }
}

impl Existing {
    /// True if OUT already holds this very run (same fingerprint); an error if it holds
    /// another completed one.
    pub fn is_same_run(&self, out: &Location, fingerprint: &str) -> Result<bool> {
        match self {
            Existing::Nothing => Ok(false),
            Existing::Complete { fingerprint: theirs } if theirs == fingerprint => Ok(true),
            Existing::Complete { .. } => Err(Error::OutputExists { out: out.url() }),
        }
    }
}

/// OUT's `_manifest.json`, parsed; None if there is none (or it is not JSON).
pub async fn read_manifest(out: &Location) -> Result<Option<serde_json::Value>> {
    let path = out.child(MANIFEST);
    let read = |e| Error::storage(out.display(&path), "read manifest", e);
    let bytes = match out.store.get(&path).await {
        Ok(found) => found.bytes().await.map_err(read)?,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(read(e)),
    };
    Ok(serde_json::from_slice(&bytes).ok())
}

/// The `fingerprint` a manifest records (output/manifest.rs), if it has one.
pub fn fingerprint_of(manifest: &serde_json::Value) -> Option<String> {
    manifest.get("fingerprint").and_then(|f| f.as_str()).map(str::to_string)
}

/// Whether OUT holds a completed run.
pub async fn is_complete(out: &Location) -> Result<bool> {
    let success = out.child(SUCCESS);
    match out.store.head(&success).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(Error::storage(out.display(&success), "head", e)),
    }
}

/// Removes the `_SUCCESS` of an earlier run, so readers stop trusting OUT before it changes.
pub async fn unmark_success(out: &Location) -> Result<()> {
    out.delete(&out.child(SUCCESS)).await
}

/// Deletes every object under the table folders that is not in `keep` (paths relative to OUT).
pub async fn remove_unlisted(out: &Location, tables: &[&str], keep: &BTreeSet<String>) -> Result<usize> {
    let mut removed = 0;
    for table in tables {
        for path in out.list_under(table).await? {
            if out.relative(&path).is_none_or(|r| !keep.contains(&r)) {
                out.delete(&path).await?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Before the first part of a run is uploaded: readers stop trusting OUT (its `_SUCCESS` is
/// removed), and an earlier run's report, which would describe other tables, goes.
pub async fn retract(out: &Location) -> Result<()> {
    unmark_success(out).await?;
    out.delete(&out.child(REPORT)).await
}

/// Encodes every table (in parallel, on the calling rayon pool) and uploads them. The caller
/// has already retracted OUT ([`retract`]): account_metrics, written first, does it.
pub fn write_tables(
    runtime: &tokio::runtime::Runtime,
    out: &Location,
    batches: &[(&str, RecordBatch)],
    codec: Compression,
) -> Result<BTreeMap<String, TableEntry>> {
    use rayon::prelude::*;
    // Large tables are cut into consecutive parts encoded in parallel (one encoder is
    // single-threaded).
    let parts: Vec<(&str, usize, RecordBatch)> = batches
        .iter()
        .flat_map(|(name, batch)| {
            part_ranges(batch.num_rows())
                .into_iter()
                .enumerate()
                .map(move |(i, range)| (*name, i, batch.slice(range.start, range.len())))
        })
        .collect();
    let encoded: Vec<_> = parts
        .par_iter()
        .map(|(name, i, batch)| {
            encode_parquet(name, batch, codec).map(|bytes| (*name, *i, batch.num_rows() as u64, bytes))
        })
        .collect::<Result<_>>()?;
    runtime.block_on(async {
        let mut written: BTreeMap<String, TableEntry> = BTreeMap::new();
        for (name, part, rows, bytes) in encoded {
            let object = write_part(out, name, part, rows, bytes).await?;
            let entry = written.entry(name.to_string()).or_insert(TableEntry { rows: 0, objects: Vec::new() });
            entry.rows += rows;
            entry.objects.push(object);
        }
        Ok(written)
    })
}

/// Writes `_manifest.json`.
pub async fn write_manifest(out: &Location, json: String) -> Result<()> {
    let path = out.child(MANIFEST);
    out.store
        .put(&path, PutPayload::from(json.into_bytes()))
        .await
        .map_err(|e| Error::storage(out.display(&path), "write", e))?;
    crate::fault::point("after_manifest");
    Ok(())
}

/// Writes `_SUCCESS`: the run is complete and OUT may be read.
pub async fn mark_success(out: &Location) -> Result<()> {
    let path = out.child(SUCCESS);
    crate::fault::point("before_success");
    out.store.put(&path, PutPayload::default()).await.map_err(|e| Error::storage(out.display(&path), "write", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_carry_the_table_the_part_number_and_a_prefix_of_the_checksum() {
        let sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(part_path("account_metrics", 3, sha), "account_metrics/part-00003-0123456789abcdef.parquet");
        assert_eq!(part_path("brand_audience", 12345, sha), "brand_audience/part-12345-0123456789abcdef.parquet");
    }

    #[test]
    fn success_comes_last_and_a_completed_folder_is_refused_without_overwrite() {
        let runtime = crate::io::runtime(1).unwrap();
        let out = crate::io::store::open("memory://folder-rules/", &Default::default()).unwrap();
        runtime.block_on(async {
            assert_eq!(check_output(&out, false).await.unwrap(), Existing::Nothing);
            let part = write_part(&out, tables::BRAND_AUDIENCE, 0, 1, Bytes::from_static(b"x")).await.unwrap();
            let stray = write_part(&out, tables::BRAND_AUDIENCE, 1, 1, Bytes::from_static(b"y")).await.unwrap();
            write_manifest(&out, "{}".into()).await.unwrap();
            let removed = remove_unlisted(&out, &TABLES, &BTreeSet::from([part.path.clone()])).await.unwrap();
            assert_eq!(removed, 1, "{} is not in the manifest", stray.path);
            check_output(&out, false).await.unwrap();
            mark_success(&out).await.unwrap();
            let refused = check_output(&out, false).await.unwrap_err();
            assert!(matches!(refused, Error::OutputExists { .. }), "a manifest without a fingerprint: {refused}");
            write_manifest(&out, r#"{"fingerprint": "abc"}"#.into()).await.unwrap();
            let existing = check_output(&out, false).await.unwrap();
            assert!(existing.is_same_run(&out, "abc").unwrap());
            assert!(matches!(existing.is_same_run(&out, "abd"), Err(Error::OutputExists { .. })));
            assert_eq!(check_output(&out, true).await.unwrap(), Existing::Nothing);
            retract(&out).await.unwrap();
            check_output(&out, false).await.unwrap();
        });
    }
}
