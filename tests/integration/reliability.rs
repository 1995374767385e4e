//! Nightly-job guarantees: the lock, content-addressed parts listed with checksums in the
//! manifest, leftovers of failed attempts removed, the memory pre-check, and `validate`.

use std::path::Path;
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reciprocity"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(out: &Path, extra: &[&str]) -> Output {
    bin()
        .args(["run", "--follows", "sample_data/follows", "--interactions", "sample_data/interactions"])
        .args(["--accounts", "sample_data/accounts", "--out", out.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn the_manifest_lists_every_part_with_its_checksum_and_leftovers_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // A failed attempt's part, and something of the user's that is not ours.
    std::fs::create_dir_all(out.join("account_metrics")).unwrap();
    std::fs::write(out.join("account_metrics/part-00000-0123456789abcdef.parquet"), b"stale").unwrap();
    std::fs::write(out.join("notes.txt"), b"mine").unwrap();
    let o = run(&out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("_manifest.json")).unwrap()).unwrap();
    for (table, entry) in manifest["tables"].as_object().unwrap() {
        let objects = entry["objects"].as_array().unwrap();
        let listed: Vec<String> = objects.iter().map(|o| o["path"].as_str().unwrap().to_string()).collect();
        let on_disk: Vec<String> = files(&out.join(table)).into_iter().map(|f| format!("{table}/{f}")).collect();
        assert_eq!(listed, on_disk, "{table}: exactly the listed objects remain");
        for object in objects {
            let bytes = std::fs::read(out.join(object["path"].as_str().unwrap())).unwrap();
            assert_eq!(object["size"].as_u64().unwrap(), bytes.len() as u64);
            let sha = format!("{:x}", Sha256::digest(&bytes));
            assert_eq!(object["sha256"].as_str().unwrap(), sha);
            assert!(object["path"].as_str().unwrap().contains(&sha[..16]), "the name carries the checksum");
        }
    }
    assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"mine", "objects that are not ours are left alone");
    let before: Vec<_> = manifest["tables"]["account_metrics"]["objects"].as_array().unwrap().clone();

    // An overwrite of identical inputs: the same names and bytes, nothing else left behind.
    let o = run(&out, &["--overwrite"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let again: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("_manifest.json")).unwrap()).unwrap();
    assert_eq!(again["tables"]["account_metrics"]["objects"].as_array().unwrap(), &before);
    assert_eq!(files(&out.join("account_metrics")).len(), 1);
}

#[test]
fn a_run_that_would_not_fit_in_memory_fails_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run(&out, &["--memory-limit", "10MB"]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stderr(&o).contains("--memory-limit"), "{}", stderr(&o));
    assert!(!out.exists(), "nothing written");
    let o = run(&out, &["--memory-limit", "lots"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn validate_reports_what_cleaning_would_drop_and_writes_nothing() {
    let o = bin()
        .args(["validate", "--follows", "sample_data/follows", "--interactions", "sample_data/interactions"])
        .args(["--previous-follows", "sample_data/previous/follows", "--log-format", "json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(report["id_type"], "Int64");
    assert!(report["rejected"]["duplicate_follow"].as_u64().unwrap() > 0);
    assert!(report["rejected"]["by_dataset"]["previous_follows"].is_object());
    assert!(report["accounts"].as_u64().unwrap() >= 5000);

    let text = bin().args(["validate", "--follows", "sample_data/follows"]).output().unwrap();
    assert!(text.status.success());
    assert!(stderr(&text).contains("cleaning would drop"), "{}", stderr(&text));

    let bad = bin().args(["validate", "--follows", "sample_data/nope"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(3), "{}", stderr(&bad));
}
