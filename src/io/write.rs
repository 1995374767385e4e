//! The output folder: claiming it, writing table parts, the manifest, and `_SUCCESS` last.
//!
//! A reader trusts OUT only once `_SUCCESS` exists. The order: `_SUCCESS` of an earlier run
//! is removed first; parts are uploaded under content-derived names (`part-00000-<sha256
//! prefix>.parquet`: a rerun of the same inputs writes the same names and bytes, a different
//! attempt never overwrites another's); the manifest lists them with their checksums; objects
//! under the table folders that the manifest does not list (an earlier run's, a failed
//! attempt's) are deleted; `_SUCCESS` comes last. A crash anywhere leaves no `_SUCCESS`. Only
//! objects this job writes (its table folders, `_manifest.json`, `_SUCCESS`, `_LOCK`) are ever
//! deleted: pointing `--out` at a folder with other things in it does not destroy them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow_array::RecordBatch;
use bytes::Bytes;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{Error, Result};
use crate::store::Location;

pub const SUCCESS: &str = "_SUCCESS";
pub const MANIFEST: &str = "_manifest.json";

/// An object this run wrote.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WrittenObject {
    /// Relative to OUT.
    pub path: String,
    pub size: u64,
    pub rows: u64,
    pub sha256: String,
}

/// Refuses a completed OUT unless `overwrite`: checked before any input is read.
pub async fn check_output(out: &Location, overwrite: bool) -> Result<()> {
    let success = out.child(SUCCESS);
    match out.store.head(&success).await {
        Ok(_) if !overwrite => Err(Error::OutputExists { out: out.url() }),
        Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
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

/// How every Parquet object of ours is encoded, compressed with `codec`. Dictionaries only
/// where values repeat (strings such as camp and account_type): on ids, counts and ratios the
/// writer would build one, find it too big and fall back, per page.
fn writer_properties(schema: &arrow_schema::Schema, codec: Compression) -> WriterProperties {
    let mut properties = WriterProperties::builder().set_compression(codec).set_dictionary_enabled(false);
    for field in schema.fields() {
        if matches!(field.data_type(), arrow_schema::DataType::Utf8) {
            properties = properties.set_column_dictionary_enabled(ColumnPath::from(field.name().as_str()), true);
        }
    }
    properties.build()
}

/// Encodes a table as one Parquet file in memory (CPU work, no I/O).
pub fn encode_parquet(table: &str, batch: &RecordBatch, codec: Compression) -> Result<Bytes> {
    encode_parquet_batches(table, [Ok(batch.clone())], codec)
}

/// Encodes a table handed over as consecutive batches of one schema (at least one) as one
/// Parquet file in memory. Its values are those of the batches concatenated; its bytes also
/// depend on where the batches are cut (levels and page boundaries are encoded per batch),
/// so callers cut by row index only.
pub fn encode_parquet_batches(
    table: &str,
    batches: impl IntoIterator<Item = Result<RecordBatch>>,
    codec: Compression,
) -> Result<Bytes> {
    let failed = |e: parquet::errors::ParquetError| Error::internal(format!("encoding table {table}"), e);
    let mut writer: Option<ArrowWriter<Vec<u8>>> = None;
    for batch in batches {
        let batch = batch?;
        if writer.is_none() {
            let properties = writer_properties(&batch.schema(), codec);
            writer = Some(ArrowWriter::try_new(Vec::new(), batch.schema(), Some(properties)).map_err(failed)?);
        }
        writer.as_mut().expect("created above").write(&batch).map_err(failed)?;
    }
    let writer = writer.ok_or_else(|| Error::internal(format!("encoding table {table}"), "no batch to encode"))?;
    Ok(Bytes::from(writer.into_inner().map_err(failed)?))
}

/// Bytes handed to the upload at a time.
const UPLOAD_CHUNK: usize = 8 << 20;

/// The bytes of one object, uploaded as they are encoded (multipart when large): a
/// synchronous `Write` over an async upload, for objects too big to hold.
struct UploadSink {
    runtime: tokio::runtime::Handle,
    upload: BufWriter,
}

impl std::io::Write for UploadSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.runtime.block_on(self.upload.write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One Parquet object written batch by batch, a row group at a time, never held whole.
/// Used from outside the runtime (a rayon or the main thread); `finish` completes it.
pub struct ObjectWriter {
    display: String,
    runtime: tokio::runtime::Handle,
    path: Path,
    store: Arc<dyn ObjectStore>,
    writer: Option<ArrowWriter<std::io::BufWriter<UploadSink>>>,
    codec: Compression,
}

impl ObjectWriter {
    /// Will write `OUT/<name>.parquet`, with the schema of the first batch.
    pub fn create(
        runtime: &tokio::runtime::Runtime,
        out: &Location,
        name: &str,
        codec: Compression,
    ) -> Result<ObjectWriter> {
        let path = out.child(&format!("{name}.parquet"));
        let display = out.display(&path);
        Ok(ObjectWriter {
            display,
            runtime: runtime.handle().clone(),
            path,
            store: Arc::clone(&out.store),
            writer: None,
            codec,
        })
    }

    fn failed(&self, e: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::storage(
            self.display.clone(),
            "write",
            object_store::Error::Generic { store: "upload", source: Box::new(e) },
        )
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if self.writer.is_none() {
            let sink = UploadSink {
                runtime: self.runtime.clone(),
                upload: BufWriter::new(Arc::clone(&self.store), self.path.clone()),
            };
            let properties = writer_properties(&batch.schema(), self.codec);
            let writer = ArrowWriter::try_new(
                std::io::BufWriter::with_capacity(UPLOAD_CHUNK, sink),
                batch.schema(),
                Some(properties),
            )
            .map_err(|e| self.failed(e))?;
            self.writer = Some(writer);
        }
        let writer = self.writer.as_mut().expect("created above");
        let result = writer.write(batch);
        result.map_err(|e| self.failed(e))
    }

    /// Writes the footer and completes the upload.
    pub fn finish(mut self) -> Result<()> {
        let Some(writer) = self.writer.take() else {
            return Err(Error::internal(format!("writing {}", self.display), "no rows were written"));
        };
        let buffered = writer.into_inner().map_err(|e| self.failed(e))?;
        let mut sink = buffered.into_inner().map_err(|e| self.failed(e.into_error()))?;
        self.runtime.block_on(sink.upload.shutdown()).map_err(|e| self.failed(e))
    }
}

/// Rows above which a table is written as several parts (encoded in parallel).
const ROWS_PER_PART: usize = 256 * 1024;

/// The row ranges of a table's parts: consecutive, in row order (so the table stays sorted
/// by key), cut by rows only, never by threads: the same inputs give the same objects anywhere.
pub fn part_ranges(rows: usize) -> Vec<std::ops::Range<usize>> {
    let count = rows.div_ceil(ROWS_PER_PART).max(1);
    let per_part = rows.div_ceil(count).max(1);
    (0..count).map(|i| (i * per_part).min(rows)..((i + 1) * per_part).min(rows)).collect()
}

/// Before the first part of a run is uploaded: readers stop trusting OUT (its `_SUCCESS` is
/// removed), and an earlier run's report, which would describe other tables, goes.
pub async fn retract(out: &Location) -> Result<()> {
    unmark_success(out).await?;
    out.delete(&out.child(crate::io::report::REPORT)).await
}

/// Uploads an encoded part as `OUT/<table>/part-<NNNNN>-<sha256 prefix>.parquet`.
pub async fn write_table(out: &Location, table: &str, part: usize, rows: u64, encoded: Bytes) -> Result<WrittenObject> {
    let sha256 = format!("{:x}", Sha256::digest(&encoded));
    let relative = format!("{table}/part-{part:05}-{}.parquet", &sha256[..16]);
    let path = out.child(&relative);
    let size = encoded.len() as u64;
    upload(&out.store, &path, encoded).await.map_err(|e| Error::storage(out.display(&path), "write", e))?;
    Ok(WrittenObject { path: relative, size, rows, sha256 })
}

/// Writes bytes to an object, as a multipart upload when large.
async fn upload(store: &Arc<dyn ObjectStore>, path: &Path, bytes: Bytes) -> object_store::Result<()> {
    if bytes.len() < 8 * 1024 * 1024 {
        store.put(path, PutPayload::from(bytes)).await?;
        return Ok(());
    }
    let mut writer = BufWriter::new(Arc::clone(store), path.clone());
    let result = async {
        writer.write_all(&bytes).await?;
        writer.shutdown().await
    }
    .await;
    if let Err(e) = result {
        let _ = writer.abort().await;
        return Err(object_store::Error::Generic { store: "upload", source: Box::new(e) });
    }
    Ok(())
}

/// A table as written: its rows and objects.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TableEntry {
    pub rows: u64,
    pub objects: Vec<WrittenObject>,
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
            let object = write_table(out, name, part, rows, bytes).await?;
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
    Ok(())
}

/// Writes `_SUCCESS`: the run is complete and OUT may be read.
pub async fn mark_success(out: &Location) -> Result<()> {
    let path = out.child(SUCCESS);
    out.store.put(&path, PutPayload::default()).await.map_err(|e| Error::storage(out.display(&path), "write", e))?;
    Ok(())
}
