//! Storage by URL: the one place that knows about clouds and local paths.
//!
//! `s3://`, `gs://`, `az://` (also `abfs://`, `azure://`), `file://`, `memory://` and plain
//! paths become an [`ObjectStore`] plus a path inside it. Credentials and endpoints come
//! from the standard environment variables read by object_store's `from_env` builders
//! (for S3: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT_URL`,
//! `AWS_ALLOW_HTTP`). Timeouts and retries are data ([`StorageOptions`]), not code.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};
use url::Url;

use crate::error::{Error, Result};

/// Network behaviour of cloud stores; local and in-memory stores ignore it.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageOptions {
    /// Give up on a request that makes no progress for this long (a stalled connection).
    pub read_timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries of transient failures (5xx, 429, timeouts, connection resets).
    pub max_retries: usize,
    /// Give up retrying one request after this long.
    pub retry_timeout: Duration,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            read_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_retries: 10,
            retry_timeout: Duration::from_secs(180),
        }
    }
}

/// A store and a path inside it, with the URL it came from for messages.
#[derive(Debug, Clone)]
pub struct Location {
    pub store: Arc<dyn ObjectStore>,
    pub path: Path,
    /// `scheme://bucket` (or empty for local paths): prefix of every displayed object name.
    base: String,
    /// Whether the store is the local file system (object paths are then absolute paths).
    local: bool,
}

impl Location {
    /// The local file holding the object at `path`, if the store is the local file system.
    pub fn local_file(&self, path: &Path) -> Option<std::path::PathBuf> {
        self.local.then(|| std::path::Path::new("/").join(path.as_ref()))
    }

    /// The user-facing name of an object in this store, e.g. `s3://bucket/a/b.parquet`.
    pub fn display(&self, path: &Path) -> String {
        format!("{}/{}", self.base, path)
    }

    /// This location's own name.
    pub fn url(&self) -> String {
        self.display(&self.path)
    }

    /// The location of a path below this one, in the same store.
    pub fn at(&self, relative: &str) -> Location {
        Location { path: self.child(relative), ..self.clone() }
    }

    /// A path below this location, relative to it ("a/b.parquet"), if it is below.
    pub fn relative(&self, path: &Path) -> Option<String> {
        path.prefix_match(&self.path).map(|parts| parts.map(|p| p.as_ref().to_string()).collect::<Vec<_>>().join("/"))
    }

    /// Every object below `relative`.
    pub async fn list_under(&self, relative: &str) -> Result<Vec<Path>> {
        let prefix = self.child(relative);
        self.store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(|e| Error::storage(self.display(&prefix), "list", e))
    }

    /// Deletes an object; one that is already gone is fine.
    pub async fn delete(&self, path: &Path) -> Result<()> {
        delete_object(self.store.as_ref(), path).await.map_err(|e| Error::storage(self.display(path), "delete", e))
    }

    /// A path below this location.
    /// The same place reached through another store (a wrapper of this one's).
    pub fn through(&self, store: Arc<dyn ObjectStore>) -> Location {
        Location { store, ..self.clone() }
    }

    pub fn child(&self, relative: &str) -> Path {
        relative.split('/').filter(|part| !part.is_empty()).fold(self.path.clone(), |path, part| path.join(part))
    }
}

/// Deletes an object; one that is already gone counts as deleted. Deletes are idempotent, but
/// object_store sends S3's as a POST (bulk delete) and does not retry a POST that timed out,
/// so a stalled delete is retried here (measured: a stall on the lock's release failed a
/// run through the fault-injecting proxy).
pub async fn delete_object(store: &dyn ObjectStore, path: &Path) -> object_store::Result<()> {
    use backon::{ExponentialBuilder, Retryable};
    let once = || async {
        match store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    };
    let backoff = ExponentialBuilder::default().with_min_delay(Duration::from_millis(100)).with_max_times(6);
    let transient = |e: &object_store::Error| {
        !matches!(
            e,
            object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. }
                | object_store::Error::NotSupported { .. }
        )
    };
    once.retry(backoff).when(transient).await
}

/// Opens the store a URL names.
pub fn open(url: &str, options: &StorageOptions) -> Result<Location> {
    let bad = |reason: String| Error::Url { url: url.to_string(), reason };
    if url.trim().is_empty() {
        return Err(bad("the URL is empty".into()));
    }
    let parsed = match Url::parse(url) {
        // A single letter before ':' is a Windows drive, not a scheme.
        Ok(u) if u.scheme().len() > 1 => u,
        _ => return open_local(std::path::Path::new(url), url),
    };
    let bucket = || {
        parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .map(str::to_string)
            .ok_or_else(|| bad("the URL names no bucket or container".into()))
    };
    let path = Path::from_url_path(parsed.path()).map_err(|e| bad(e.to_string()))?;
    let store: Arc<dyn ObjectStore> = match parsed.scheme() {
        "file" => {
            let fs_path = parsed.to_file_path().map_err(|_| bad("not an absolute local path".into()))?;
            return open_local(&fs_path, url);
        }
        "memory" => memory_store(parsed.host_str().unwrap_or_default()),
        "s3" | "s3a" => {
            let bucket = bucket()?;
            let built = AmazonS3Builder::from_env()
                .with_bucket_name(&bucket)
                .with_client_options(client_options(options))
                .with_retry(retry_config(options))
                .build()
                .map_err(|e| bad(e.to_string()))?;
            Arc::new(built)
        }
        "gs" => {
            let built = GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(bucket()?)
                .with_client_options(client_options(options))
                .with_retry(retry_config(options))
                .build()
                .map_err(|e| bad(e.to_string()))?;
            Arc::new(built)
        }
        "az" | "azure" | "abfs" | "abfss" => {
            let built = MicrosoftAzureBuilder::from_env()
                .with_url(url)
                .with_client_options(client_options(options))
                .with_retry(retry_config(options))
                .build()
                .map_err(|e| bad(e.to_string()))?;
            Arc::new(built)
        }
        other => {
            return Err(bad(format!(
                "unsupported scheme '{other}' (use s3://, gs://, az://, file://, memory:// or a local path)"
            )))
        }
    };
    let base = format!("{}://{}", parsed.scheme(), parsed.host_str().unwrap_or_default());
    Ok(Location { store, path, base, local: false })
}

fn open_local(fs_path: &std::path::Path, url: &str) -> Result<Location> {
    let absolute =
        std::path::absolute(fs_path).map_err(|e| Error::Url { url: url.to_string(), reason: e.to_string() })?;
    let absolute = without_dot_segments(&absolute);
    let path =
        Path::from_absolute_path(&absolute).map_err(|e| Error::Url { url: url.to_string(), reason: e.to_string() })?;
    Ok(Location { store: Arc::new(LocalFileSystem::new()), path, base: String::new(), local: true })
}

/// Resolves `.` and `..` lexically: object_store paths may not contain them, and an output
/// folder need not exist yet (so no `canonicalize`).
fn without_dot_segments(path: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `memory://NAME` stores live for the process, so that a writer and a later reader of the
/// same name (tests, embedding programs) see the same objects.
fn memory_store(name: &str) -> Arc<dyn ObjectStore> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<InMemory>>>> = OnceLock::new();
    let mut stores = STORES.get_or_init(Default::default).lock().expect("memory store registry");
    stores.entry(name.to_string()).or_insert_with(|| Arc::new(InMemory::new())).clone()
}

fn client_options(options: &StorageOptions) -> ClientOptions {
    // Whole-request timeouts would cut large downloads short; a read timeout fires only on a
    // stall. *_ALLOW_HTTP is re-read here because with_client_options replaces what from_env
    // set (plain http is for local emulators and test servers).
    let allow_http = ["AWS_ALLOW_HTTP", "GOOGLE_ALLOW_HTTP", "AZURE_ALLOW_HTTP"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| v.eq_ignore_ascii_case("true")));
    ClientOptions::new()
        .with_allow_http(allow_http)
        .with_connect_timeout(options.connect_timeout)
        .with_read_timeout(options.read_timeout)
        .with_timeout_disabled()
}

fn retry_config(options: &StorageOptions) -> RetryConfig {
    RetryConfig { max_retries: options.max_retries, retry_timeout: options.retry_timeout, ..RetryConfig::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_and_file_urls_name_the_same_place() {
        let a = open("/tmp/x/y", &StorageOptions::default()).unwrap();
        let b = open("file:///tmp/x/y", &StorageOptions::default()).unwrap();
        assert_eq!(a.path, b.path);
        assert_eq!(a.url(), "/tmp/x/y");
    }

    #[test]
    fn regression_relative_paths_with_parent_segments() {
        let loc = open("/tmp/a/../b/./c", &StorageOptions::default()).unwrap();
        assert_eq!(loc.url(), "/tmp/b/c");
    }

    #[test]
    fn s3_urls_keep_bucket_and_prefix_for_messages() {
        let loc = open("s3://bucket/some/prefix/", &StorageOptions::default()).unwrap();
        assert_eq!(loc.url(), "s3://bucket/some/prefix");
        assert_eq!(loc.display(&loc.child("a/b.parquet")), "s3://bucket/some/prefix/a/b.parquet");
    }

    #[test]
    fn unknown_schemes_are_refused() {
        let err = open("ftp://host/x", &StorageOptions::default()).unwrap_err();
        assert!(err.to_string().contains("unsupported scheme 'ftp'"), "{err}");
    }

    #[test]
    fn memory_stores_are_shared_by_name() {
        let a = open("memory://shared-test/x", &StorageOptions::default()).unwrap();
        let b = open("memory://shared-test/y", &StorageOptions::default()).unwrap();
        assert!(Arc::ptr_eq(&a.store, &b.store));
    }
}
