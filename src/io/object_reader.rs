//! A Parquet [`AsyncFileReader`] over an [`ObjectStore`] object of known size.
//!
//! Replaces the deprecated `ParquetObjectReader` as the parquet crate's own example does, but
//! reads the footer with `load_and_finish(size)` (size from the listing) rather than a suffix
//! range request, which Azure rejects.
//!
//! A local file being decoded is memory-mapped instead ([`ObjectReader::with_local_file`]):
//! its column chunks are then the page cache's own pages, not copies into fresh buffers.
//!
//! An input is read as the version the scan listed ([`ObjectReader::expecting`]): every
//! request is conditional on its ETag (`If-Match`), and a local file is checked against it
//! when mapped, so an export rewritten or removed mid-run fails the read with
//! `Precondition`/`NotFound` ([`read_error`] turns either into "input changed during the run")
//! instead of mixing two snapshots. A mapped file is immune to a rewrite by rename (the map
//! keeps the old inode); one truncated in place under a run would fault it.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt, OBJECT_STORE_COALESCE_DEFAULT};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use crate::error::Error;

/// The version of an object a run listed, which every later read must still find.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectVersion {
    /// The store's ETag (local files: inode, mtime and size), if it has one.
    pub e_tag: Option<String>,
    /// The store's version id, where versioning is on.
    pub version: Option<String>,
    pub last_modified: chrono::DateTime<chrono::Utc>,
}

impl ObjectVersion {
    pub fn of(meta: &ObjectMeta) -> Self {
        ObjectVersion { e_tag: meta.e_tag.clone(), version: meta.version.clone(), last_modified: meta.last_modified }
    }

    /// Options for a read of this version: `If-Match` on the ETag, else not modified since.
    fn get_options(&self, range: Option<Range<u64>>) -> GetOptions {
        GetOptions {
            if_match: self.e_tag.clone(),
            if_unmodified_since: self.e_tag.is_none().then_some(self.last_modified),
            range: range.map(GetRange::from),
            ..Default::default()
        }
    }
}

/// A read's failure as the run reports it: an object whose version changed or that vanished
/// since the scan is "input changed during the run"; other storage failures are storage
/// errors; the rest is the object's own content.
pub fn read_error(object: &str, operation: &'static str, source: ParquetError) -> Error {
    match source {
        ParquetError::External(inner) => match inner.downcast::<object_store::Error>() {
            Ok(storage) => match *storage {
                changed @ (object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => {
                    Error::InputChanged { object: object.to_string(), source: changed }
                }
                storage => Error::storage(object, operation, storage),
            },
            Err(other) => Error::Parquet { object: object.to_string(), source: ParquetError::External(other) },
        },
        source => Error::Parquet { object: object.to_string(), source },
    }
}

#[derive(Debug, Clone)]
pub struct ObjectReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
    /// The version every read must find (None: whatever is there, e.g. our own output).
    expected: Option<ObjectVersion>,
    /// The object as a local file, and the whole of it once mapped.
    local: Option<(PathBuf, Option<Mapped>)>,
}

/// A mapped file, shared by the `Bytes` cut from it.
#[derive(Debug, Clone)]
struct Mapped(Arc<memmap2::Mmap>);

impl AsRef<[u8]> for Mapped {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl ObjectReader {
    pub fn new(store: Arc<dyn ObjectStore>, path: Path, size: u64) -> Self {
        ObjectReader { store, path, size, expected: None, local: None }
    }

    /// Reads only `version` of the object; a changed or removed object fails the read.
    pub fn expecting(mut self, version: ObjectVersion) -> Self {
        self.expected = Some(version);
        self
    }

    /// Reads through a memory map of `file` (the same object on local disk), if given.
    pub fn with_local_file(mut self, file: Option<PathBuf>) -> Self {
        self.local = file.map(|f| (f, None));
        self
    }

    /// The mapped file, mapped on first use; `None` for objects read through the store.
    async fn mapped(&mut self) -> Result<Option<&Mapped>> {
        let Some((file, mapped)) = &mut self.local else { return Ok(None) };
        if mapped.is_none() {
            if let Some(expected) = &self.expected {
                // The same check a store makes of If-Match, before the file is mapped.
                let found = self.store.head(&self.path).await.map_err(external)?;
                if found.e_tag != expected.e_tag || found.size != self.size {
                    return Err(external(object_store::Error::Precondition {
                        path: self.path.to_string(),
                        source: format!(
                            "listed as {} bytes (ETag {:?}), now {} bytes (ETag {:?})",
                            self.size, expected.e_tag, found.size, found.e_tag
                        )
                        .into(),
                    }));
                }
            }
            let opened = std::fs::File::open(&*file).map_err(|e| ParquetError::External(Box::new(e)))?;
            // SAFETY: inputs are not modified while a run reads them (module docs); the map
            // is read-only and lives as long as any Bytes cut from it.
            let map = unsafe { memmap2::Mmap::map(&opened) }.map_err(|e| ParquetError::External(Box::new(e)))?;
            *mapped = Some(Mapped(Arc::new(map)));
        }
        Ok(mapped.as_ref())
    }

    /// `range` of the mapped file (which must still hold it). The kernel is asked to read it
    /// ahead, so that a file not yet in the page cache is read in large requests rather than
    /// fault by fault.
    fn cut(whole: &Mapped, range: Range<u64>) -> Result<Bytes> {
        let len = whole.0.len();
        if range.end > len as u64 {
            return Err(ParquetError::EOF(format!(
                "bytes {range:?} asked of a file of {len} bytes (it changed since it was listed)"
            )));
        }
        let (start, end) = (range.start as usize, range.end as usize);
        // A hint: a refusal changes nothing but speed.
        let _ = whole.0.advise_range(memmap2::Advice::WillNeed, start, end - start);
        Ok(Bytes::from_owner(whole.clone()).slice(start..end))
    }
}

/// `range` of `version` of the object, or `Precondition` if the store holds another.
async fn fetch(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    version: &ObjectVersion,
    range: Range<u64>,
) -> object_store::Result<Bytes> {
    store.get_opts(path, version.get_options(Some(range))).await?.bytes().await
}

fn external(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl AsyncFileReader for ObjectReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, Result<Bytes>> {
        async move {
            if let Some(whole) = self.mapped().await? {
                return Self::cut(whole, range);
            }
            match &self.expected {
                None => self.store.get_range(&self.path, range).await.map_err(external),
                Some(version) => fetch(&self.store, &self.path, version, range).await.map_err(external),
            }
        }
        .boxed()
    }

    fn get_byte_ranges(&mut self, ranges: Vec<Range<u64>>) -> BoxFuture<'_, Result<Vec<Bytes>>> {
        async move {
            if let Some(whole) = self.mapped().await? {
                return ranges.into_iter().map(|r| Self::cut(whole, r)).collect();
            }
            // Nearby ranges are coalesced into fewer requests, as object_store's own get_ranges does.
            let Some(version) = &self.expected else {
                return self.store.get_ranges(&self.path, &ranges).await.map_err(external);
            };
            let (store, path) = (&self.store, &self.path);
            object_store::coalesce_ranges(&ranges, |r| fetch(store, path, version, r), OBJECT_STORE_COALESCE_DEFAULT)
                .await
                .map_err(external)
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .with_prefetch_hint(Some(64 * 1024))
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapped_file_gives_the_store_s_bytes_and_refuses_past_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("object.parquet");
        std::fs::write(&file, (0..=255u8).collect::<Vec<_>>()).unwrap();
        let location = crate::io::store::open(file.to_str().unwrap(), &Default::default()).unwrap();
        assert_eq!(location.local_file(&location.path), Some(file.clone()));
        let mut fetched = ObjectReader::new(Arc::clone(&location.store), location.path.clone(), 256);
        let mut mapped = fetched.clone().with_local_file(location.local_file(&location.path));
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            assert_eq!(mapped.get_bytes(3..9).await.unwrap(), fetched.get_bytes(3..9).await.unwrap());
            let ranges = vec![0..2, 250..256];
            let (a, b) = (mapped.get_byte_ranges(ranges.clone()).await, fetched.get_byte_ranges(ranges).await);
            assert_eq!(a.unwrap(), b.unwrap());
            let err = mapped.get_bytes(250..300).await.unwrap_err().to_string();
            assert!(err.contains("changed since it was listed"), "{err}");
        });
    }
}
