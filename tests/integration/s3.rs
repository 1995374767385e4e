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
