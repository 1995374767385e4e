//! OUT's store as a run holding its lock sees it: every write first checks the lease.
//!
//! A run that lost its lock (another run took it over after this one stalled) must stop
//! before writing anything further; wrapping the store makes that true of every write (table
//! parts, manifest, `_SUCCESS`, report, deletions) without threading a check through each.
//! Reads pass straight through.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions,
    PutOptions, PutPayload, PutResult, RenameOptions,
};

use crate::io::lock::Lease;
use crate::io::store::Location;

/// `inner`, refusing writes once `lease` is lost.
#[derive(Debug)]
pub struct LeasedStore {
    inner: Arc<dyn ObjectStore>,
    lease: Lease,
}

/// OUT as seen through its lease.
pub fn leased(out: &Location, lease: &Lease) -> Location {
    out.through(Arc::new(LeasedStore { inner: Arc::clone(&out.store), lease: lease.clone() }))
}

impl fmt::Display for LeasedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LeasedStore({})", self.inner)
    }
}

impl LeasedStore {
    fn check(&self) -> object_store::Result<()> {
        self.lease.check().map_err(|e| object_store::Error::Generic { store: "lock", source: Box::new(e) })
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl ObjectStore for LeasedStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.check()?;
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.check()?;
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> object_store::Result<Vec<Bytes>> {
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        match self.check() {
            Ok(()) => self.inner.delete_stream(locations),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        }
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> object_store::Result<()> {
        self.check()?;
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> object_store::Result<()> {
        self.check()?;
        self.inner.rename_opts(from, to, options).await
    }
}
