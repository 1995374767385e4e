//! Parquet out: encoding batches, cutting tables into parts, uploading objects under names
//! derived from their content. What the objects are called and in which order a run writes
//! them is the output folder's business (`output/folder.rs`).

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
use crate::io::store::Location;

/// An object this run wrote.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WrittenObject {
    /// Relative to OUT.
    pub path: String,
    pub size: u64,
    pub rows: u64,
    pub sha256: String,
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

/// Uploads encoded bytes under the name `name(sha256 hex)` gives (relative to OUT): names
/// derived from the content make a rerun write the same objects, and two attempts never
/// overwrite each other's.
pub async fn write_hashed(
    out: &Location,
    name: impl FnOnce(&str) -> String,
    rows: u64,
    encoded: Bytes,
) -> Result<WrittenObject> {
    let sha256 = format!("{:x}", Sha256::digest(&encoded));
    let relative = name(&sha256);
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
