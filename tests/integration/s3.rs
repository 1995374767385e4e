//! The binary against a real S3-compatible server on 127.0.0.1 (started by ci/test.sh):
//! inputs read from s3://, tables written to s3://, byte-identical to a local run.
//!
//! Needs RECIPROCITY_TEST_S3_ENDPOINT and RECIPROCITY_TEST_S3_BUCKET; without them the test
//! says so and skips, unless RECIPROCITY_REQUIRE_SERVICES is set (as in CI), when it fails.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::common::run_paused;

fn s3_settings() -> Option<(String, String)> {
    match (std::env::var("RECIPROCITY_TEST_S3_ENDPOINT"), std::env::var("RECIPROCITY_TEST_S3_BUCKET")) {
        (Ok(endpoint), Ok(bucket)) => Some((endpoint, bucket)),
        _ if std::env::var_os("RECIPROCITY_REQUIRE_SERVICES").is_some() => {
            panic!("RECIPROCITY_REQUIRE_SERVICES is set but no S3 server is configured")
        }
        _ => None,
    }
}

fn store(endpoint: &str, bucket: &str) -> Arc<dyn ObjectStore> {
    Arc::new(
        AmazonS3Builder::new()
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .with_bucket_name(bucket)
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .build()
            .unwrap(),
    )
}

fn upload_dir(rt: &tokio::runtime::Runtime, store: &Arc<dyn ObjectStore>, local: &Path, prefix: &str) {
    for entry in std::fs::read_dir(local).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if path.is_dir() {
            upload_dir(rt, store, &path, &format!("{prefix}/{name}"));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            rt.block_on(store.put(&ObjectPath::from(format!("{prefix}/{name}")), bytes.into())).unwrap();
        }
    }
}

fn binary(endpoint: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reciprocity"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "secret-that-must-not-leak")
        .env("AWS_REGION", "us-east-1");
    c
}

#[test]
fn sample_from_s3_to_s3_equals_the_local_run() {
    let Some((endpoint, bucket)) = s3_settings() else {
        eprintln!("skipped: set RECIPROCITY_TEST_S3_ENDPOINT/RECIPROCITY_TEST_S3_BUCKET (ci/test.sh does)");
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s3 = store(&endpoint, &bucket);
    let run_id = format!("run-{}", std::process::id());
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    upload_dir(&rt, &s3, &sample, &format!("{run_id}/in"));

    let url = |p: &str| format!("s3://{bucket}/{run_id}/{p}");
    let o = binary(&endpoint)
        .args(["run", "--follows", &url("in/follows/"), "--interactions", &url("in/interactions/")])
        .args(["--accounts", &url("in/accounts"), "--out", &url("out/dt={date}/"), "--date", "2026-11-28"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");

    let local = tempfile::tempdir().unwrap();
    let o = binary(&endpoint)
        .args(["run", "--follows", "sample_data/follows", "--interactions", "sample_data/interactions"])
        .args(["--accounts", "sample_data/accounts", "--out", local.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let out = format!("{run_id}/out/dt=2026-11-28");
    let listed: Vec<String> = rt
        .block_on(s3.list(Some(&ObjectPath::from(out.clone()))).map_ok(|m| m.location.to_string()).try_collect())
        .unwrap();
    assert!(listed.contains(&format!("{out}/_SUCCESS")), "{listed:?}");
    for table in reciprocity::TABLES {
        let Ok(mut parts) = std::fs::read_dir(local.path().join(table)) else { continue };
        let part = parts.next().unwrap().unwrap();
        let key = ObjectPath::from(format!("{out}/{table}/{}", part.file_name().to_string_lossy()));
        let remote = rt.block_on(async { s3.get(&key).await.unwrap().bytes().await.unwrap() });
        let here = std::fs::read(part.path()).unwrap();
        assert_eq!(remote.as_ref(), here.as_slice(), "{table} differs between s3:// and local (same name too)");
    }
    let manifest = rt.block_on(async {
        s3.get(&ObjectPath::from(format!("{out}/_manifest.json"))).await.unwrap().bytes().await.unwrap()
    });
    let manifest = String::from_utf8(manifest.to_vec()).unwrap();
    assert!(manifest.contains(&format!("s3://{bucket}/{run_id}/in/follows/part-00000.parquet")));
    assert!(!manifest.contains("secret-that-must-not-leak"), "no credentials in the manifest");
    assert!(!stderr.contains("secret-that-must-not-leak"), "no credentials in logs");
}

/// The sample uploaded under a fresh prefix; returns its s3:// URL maker and the prefix.
fn uploaded(rt: &tokio::runtime::Runtime, s3: &Arc<dyn ObjectStore>, bucket: &str, name: &str) -> (String, String) {
    let prefix = format!("{name}-{}", std::process::id());
    upload_dir(rt, s3, &Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data"), &format!("{prefix}/in"));
    (format!("s3://{bucket}/{prefix}"), prefix)
}

fn sample_run_args(base: &str, out: &str) -> Vec<String> {
    let mut a: Vec<String> =
        ["run", "--follows", "in/follows/", "--interactions", "in/interactions/", "--accounts", "in/accounts/"]
            .iter()
            .map(|s| if s.starts_with("in/") { format!("{base}/{s}") } else { s.to_string() })
            .collect();
    a.extend(["--out".into(), out.to_string(), "--set".into(), "run.lock_renew_s=0.01".into()]);
    a
}

/// Every object under `prefix`'s table folders, by path relative to it.
fn remote_tables(rt: &tokio::runtime::Runtime, s3: &Arc<dyn ObjectStore>, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let listed: Vec<ObjectPath> =
        rt.block_on(s3.list(Some(&ObjectPath::from(prefix))).map_ok(|m| m.location).try_collect()).unwrap();
    let mut found: Vec<(String, Vec<u8>)> = listed
        .into_iter()
        .map(|p| (p.to_string()[prefix.len() + 1..].to_string(), p))
        .filter(|(name, _)| reciprocity::TABLES.iter().any(|t| name.starts_with(&format!("{t}/"))))
        .map(|(name, p)| (name, rt.block_on(async { s3.get(&p).await.unwrap().bytes().await.unwrap().to_vec() })))
        .collect();
    found.sort();
    found
}

#[test]
fn on_s3_a_kill_anywhere_then_an_immediate_rerun_ends_with_the_uninterrupted_tables() {
    let Some((endpoint, bucket)) = s3_settings() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s3 = store(&endpoint, &bucket);
    let (base, prefix) = uploaded(&rt, &s3, &bucket, "kill");
    let clean = binary(&endpoint).args(sample_run_args(&base, &format!("{base}/clean"))).output().unwrap();
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stderr));
    let want = remote_tables(&rt, &s3, &format!("{prefix}/clean"));
    for point in ["lock_renewal", "after_part#2", "after_manifest", "before_success", "before_release"] {
        let out = format!("{prefix}/out-{}", point.replace('#', "-"));
        let args = sample_run_args(&base, &format!("s3://{bucket}/{out}"));
        let crashed = binary(&endpoint).args(&args).env("RECIPROCITY_FAULT", point).output().unwrap();
        assert_eq!(crashed.status.code(), None, "{point}: {}", String::from_utf8_lossy(&crashed.stderr));
        let rerun = binary(&endpoint).args(&args).output().unwrap();
        let said = String::from_utf8_lossy(&rerun.stderr);
        assert!(rerun.status.success(), "{point}: {said}");
        assert!(said.contains("is gone"), "{point}: the dead run's lock is taken over at once: {said}");
        assert_eq!(remote_tables(&rt, &s3, &out), want, "{point}: the uninterrupted run's tables");
        let lock = rt.block_on(s3.head(&ObjectPath::from(format!("{out}/_LOCK"))));
        assert!(matches!(lock, Err(object_store::Error::NotFound { .. })), "{point}: the lock is released");
    }
}

#[test]
fn on_s3_an_input_rewritten_mid_run_is_caught_and_a_taken_lock_stops_the_run() {
    let Some((endpoint, bucket)) = s3_settings() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s3 = store(&endpoint, &bucket);
    let (base, prefix) = uploaded(&rt, &s3, &bucket, "changes");

    let out = format!("{prefix}/out");
    let args = sample_run_args(&base, &format!("s3://{bucket}/{out}"));
    let object = ObjectPath::from(format!("{prefix}/in/interactions/part-00000.parquet"));
    let mut command = binary(&endpoint);
    command.args(&args);
    let (code, said) = run_paused(command, "after_scan:pause=1000", || {
        let other =
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/accounts/part-00000.parquet"));
        rt.block_on(s3.put(&object, other.unwrap().into())).unwrap();
    });
    assert_eq!(code, Some(3), "{said}");
    assert!(
        said.contains("input changed during the run") && said.contains("interactions/part-00000.parquet"),
        "{said}"
    );
    let success = rt.block_on(s3.head(&ObjectPath::from(format!("{out}/_SUCCESS"))));
    assert!(matches!(success, Err(object_store::Error::NotFound { .. })));

    // The lock renewed with If-Match: a holder whose lock another run overwrote stops, exit 6.
    let (base, prefix) = uploaded(&rt, &s3, &bucket, "lease");
    let out = format!("{prefix}/out");
    let args = sample_run_args(&base, &format!("s3://{bucket}/{out}"));
    let lock = ObjectPath::from(format!("{out}/_LOCK"));
    let thief = r#"{"run_id":"thief","host":"elsewhere","pid":2,"acquired_at":"2026-12-07T00:00:00Z","lease_s":120}"#;
    let mut command = binary(&endpoint);
    command.args(&args);
    let (code, said) = run_paused(command, "after_part#1:pause=1000", || {
        rt.block_on(s3.put(&lock, thief.as_bytes().to_vec().into())).unwrap();
    });
    assert_eq!(code, Some(6), "{said}");
    assert!(said.contains("lost the lock"), "{said}");
    let left = rt.block_on(async { s3.get(&lock).await.unwrap().bytes().await.unwrap() });
    assert_eq!(left.as_ref(), thief.as_bytes(), "the new holder's lock is left alone");
}
