//! Bucketed (out-of-core) execution end to end: the binary's tables are byte-identical
//! whether computed in memory or in K buckets (spilled to disk or read again from the inputs),
//! and a memory limit below the in-memory estimate switches to buckets by itself.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::table_bytes;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reciprocity"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every table's objects, by table and name, with their bytes.
fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("_manifest.json")).unwrap()).unwrap()
}

fn run_sample(out: &Path, spill: &Path, extra: &[&str]) -> Output {
    bin()
        .args(["run", "--follows", "sample_data/follows", "--interactions", "sample_data/interactions"])
        .args(["--accounts", "sample_data/accounts", "--previous-follows", "sample_data/previous/follows"])
        .args(["--out", out.to_str().unwrap(), "--spill-dir", spill.to_str().unwrap(), "--date", "2026-11-28"])
        .args(extra)
        .output()
        .unwrap()
}

fn assert_same_tables_in_buckets(extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let spill = dir.path().join("spill");
    let memory = dir.path().join("memory");
    let o = run_sample(&memory, &spill, extra);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(manifest(&memory)["execution"]["mode"], "in_memory");
    let want = table_bytes(&memory);
    assert!(want.keys().any(|k| k.starts_with("follow_changes/")), "every table is compared");
    // Spilled to disk in 1, 7 and 64 buckets; and in 7 whose rows are read again from the inputs.
    for (k, rescan) in [("1", false), ("7", false), ("64", false), ("7", true)] {
        let out = dir.path().join(format!("k{k}-{rescan}"));
        let how: &[&str] = if rescan { &["--buckets", k, "--rescan"] } else { &["--buckets", k] };
        let o = run_sample(&out, &spill, &[extra, how].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        let m = manifest(&out);
        assert_eq!(m["execution"]["mode"], if rescan { "buckets_rescan" } else { "buckets" });
        assert_eq!(m["execution"]["buckets"], k.parse::<u64>().unwrap());
        assert_eq!(m["execution"]["spill_bytes"].as_u64().is_some_and(|b| b > 0), !rescan);
        assert_eq!(m["rejected"], manifest(&memory)["rejected"], "K = {k}");
        let got = table_bytes(&out);
        assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "K = {k}");
        for (name, bytes) in &want {
            assert!(&got[name] == bytes, "K = {k}: {name} differs from the in-memory run's");
        }
    }
    assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0, "spill files are removed after each run");
}

#[test]
fn tables_are_byte_identical_in_memory_and_in_1_7_64_buckets_spilled_or_rescanned() {
    assert_same_tables_in_buckets(&[]);
}

#[test]
fn estimated_reach_a_window_and_listed_brands_are_identical_in_buckets_too() {
    assert_same_tables_in_buckets(&[
        "--reach-2hop",
        "estimate",
        "--window-start",
        "2025-11-08T00:00:00Z",
        "--brands",
        "7104290600790107567,42",
    ]);
}

#[test]
fn a_memory_limit_below_the_estimate_computes_in_buckets() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let o = bin().args(["generate", "--accounts", "150000", "--seed", "3", "--out", data.to_str().unwrap()]).output();
    let o = o.unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let run = |out: &Path, extra: &[&str]| {
        let d = |name: &str| data.join(name).display().to_string();
        bin()
            .args([
                "run",
                "--follows",
                &d("follows"),
                "--interactions",
                &d("interactions"),
                "--accounts",
                &d("accounts"),
            ])
            .args(["--out", out.to_str().unwrap(), "--spill-dir", dir.path().to_str().unwrap()])
            .args(["--date", "2026-11-28"])
            .args(extra)
            .output()
            .unwrap()
    };
    let memory = dir.path().join("memory");
    let o = run(&memory, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The generated population's in-memory estimate is ~0.7 GiB; 0.6 GiB forces buckets.
    let limited = dir.path().join("limited");
    let o = run(&limited, &["--memory-limit", "600MiB"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = manifest(&limited);
    assert_eq!(m["execution"]["mode"], "buckets", "{m}");
    assert!(m["execution"]["buckets"].as_u64().unwrap() >= 2, "{m}");
    assert!(stderr(&o).contains("out of core"), "{}", stderr(&o));
    assert!(table_bytes(&limited) == table_bytes(&memory), "the limited run's tables equal the in-memory run's");

    let rescanned = dir.path().join("rescanned");
    let o = run(&rescanned, &["--memory-limit", "600MiB", "--rescan"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(manifest(&rescanned)["execution"]["mode"], "buckets_rescan");
    assert!(stderr(&o).contains("nothing spilled"), "{}", stderr(&o));
    assert!(table_bytes(&rescanned) == table_bytes(&memory), "the rescanned run's tables equal the in-memory run's");
}

#[test]
fn a_spill_folder_that_cannot_be_written_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_folder = dir.path().join("file");
    std::fs::write(&not_a_folder, b"").unwrap();
    let out = dir.path().join("out");
    let o = run_sample(&out, &not_a_folder, &["--buckets", "3"]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stderr(&o).contains("spill"), "{}", stderr(&o));
    assert!(!out.join("_SUCCESS").exists() && !out.join("_LOCK").exists());
}

#[test]
fn a_bucket_count_of_zero_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_sample(&dir.path().join("out"), dir.path(), &["--buckets", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("buckets"), "{}", stderr(&o));
}

#[test]
fn a_bucketed_run_writes_the_report_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run_sample(&out, dir.path(), &["--buckets", "3", "--report"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("<svg"), "the report has its charts");
    assert_eq!(manifest(&out)["report"], "report.html");
}
