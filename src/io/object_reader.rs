//! A Parquet [`AsyncFileReader`] over an [`ObjectStore`] object of known size.
//!
//! Replaces the deprecated `ParquetObjectReader` as the parquet crate's own example does, but
//! reads the footer with `load_and_finish(size)` (size from the listing) rather than a suffix
//! range request, which Azure rejects.
//!
//! A local file being decoded is memory-mapped instead ([`ObjectReader::with_local_file`]):
//! its column chunks are then the page cache's own pages, not copies into fresh buffers.
//! Inputs are exports that do not change while a run reads them; a file truncated under a
//! run would fault it.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

#[derive(Debug, Clone)]
pub struct ObjectReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
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
        ObjectReader { store, path, size, local: None }
    }

    /// Reads through a memory map of `file` (the same object on local disk), if given.
    pub fn with_local_file(mut self, file: Option<PathBuf>) -> Self {
        self.local = file.map(|f| (f, None));
        self
    }

    /// The mapped file, mapped on first use; `None` for objects read through the store.
    fn mapped(&mut self) -> Result<Option<&Mapped>> {
        let Some((file, mapped)) = &mut self.local else { return Ok(None) };
        if mapped.is_none() {
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

fn external(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl AsyncFileReader for ObjectReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, Result<Bytes>> {
        async move {
            if let Some(whole) = self.mapped()? {
                return Self::cut(whole, range);
            }
            self.store.get_range(&self.path, range).await.map_err(external)
        }
        .boxed()
    }

    fn get_byte_ranges(&mut self, ranges: Vec<Range<u64>>) -> BoxFuture<'_, Result<Vec<Bytes>>> {
        async move {
            if let Some(whole) = self.mapped()? {
                return ranges.into_iter().map(|r| Self::cut(whole, r)).collect();
            }
            // object_store coalesces nearby ranges into fewer requests.
            self.store.get_ranges(&self.path, &ranges).await.map_err(external)
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
