//! Crash anywhere, lose the lock, change the inputs: the run's fault points
//! (`RECIPROCITY_FAULT`, src/fault.rs) walked on the in-memory and the bucketed run.
//!
//! After a crash at any point there is no `_SUCCESS` (or, after it, the run is complete), and
//! the same command started at once succeeds with the tables of an uninterrupted run, byte
//! for byte, and leaves neither a lock nor a spill folder behind.

use std::path::{Path, PathBuf};

use crate::common::{run_paused, table_bytes};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reciprocity"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The sample with every table (brands, the previous night), in memory or in 3 spilled buckets.
fn args(inputs: &Path, out: &Path, spill: &Path, bucketed: bool) -> Vec<String> {
    let input = |name: &str| inputs.join(name).to_string_lossy().into_owned();
    let mut a: Vec<String> = vec!["run".into(), "--follows".into(), input("follows"), "--interactions".into()];
    a.extend([input("interactions"), "--accounts".into(), input("accounts"), "--previous-follows".into()]);
    a.extend([input("previous/follows"), "--out".into(), out.to_string_lossy().into_owned()]);
    a.extend(["--spill-dir".into(), spill.to_string_lossy().into_owned()]);
    if bucketed {
        a.extend(["--buckets".into(), "3".into()]);
    }
    a
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data")
}

fn run(args: &[String], fault: Option<&str>) -> Output {
    let mut c = bin();
    c.args(args).args(["--set", "run.lock_renew_s=0.001"]);
    if let Some(fault) = fault {
        c.env("RECIPROCITY_FAULT", fault);
    }
    c.output().unwrap()
}

fn spill_folders(spill: &Path) -> Vec<String> {
    std::fs::read_dir(spill)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn a_crash_at_every_fault_point_then_an_immediate_rerun_ends_with_the_uninterrupted_tables() {
    let dir = tempfile::tempdir().unwrap();
    let spill = dir.path().join("spill");
    std::fs::create_dir_all(&spill).unwrap();
    let clean = dir.path().join("clean");
    assert!(run(&args(&sample(), &clean, &spill, false), None).status.success());
    let want = table_bytes(&clean);
    assert!(want.keys().any(|k| k.starts_with("follow_changes/")), "every table is covered");

    let common = ["after_scan", "lock_renewal", "after_part#1", "after_part#3", "after_manifest", "before_success"];
    for bucketed in [false, true] {
        let mut points: Vec<&str> = common.to_vec();
        if bucketed {
            points.extend(["mid_spill#1", "mid_spill#3", "mid_bucket#1", "mid_bucket#2"]);
        }
        points.push("before_release");
        for point in points {
            let out = dir.path().join(format!("out-{bucketed}-{}", point.replace('#', "-")));
            let a = args(&sample(), &out, &spill, bucketed);
            let crashed = run(&a, Some(point));
            let name = point.split('#').next().unwrap();
            assert!(
                stderr(&crashed).contains(&format!("fault point {name}: aborting")),
                "{point}: {}",
                stderr(&crashed)
            );
            assert_eq!(crashed.status.code(), None, "{point}: killed by the abort");
            assert_eq!(
                out.join("_SUCCESS").exists(),
                point == "before_release",
                "{point}: _SUCCESS only once complete"
            );
            assert_eq!(out.join("_LOCK").exists(), point != "after_scan", "{point}: the lock is taken after the scan");

            let rerun = run(&a, None);
            assert!(rerun.status.success(), "{point} (bucketed {bucketed}): {}", stderr(&rerun));
            if point != "after_scan" {
                assert!(stderr(&rerun).contains("is gone"), "{point}: the dead run's lock is taken over at once");
            }
            assert!(out.join("_SUCCESS").exists() && !out.join("_LOCK").exists(), "{point}");
            assert_eq!(table_bytes(&out), want, "{point} (bucketed {bucketed}): the tables of an uninterrupted run");
            assert_eq!(spill_folders(&spill), Vec::<String>::new(), "{point}: no spill folder is left behind");
        }
    }
}

#[test]
fn a_lock_held_elsewhere_waits_for_its_lease_to_lapse() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let a = args(&sample(), &out, dir.path(), false);
    let holder = r#"{"run_id":"other","host":"elsewhere","boot_id":"b","pid":1,"acquired_at":"2026-12-01T00:00:00Z","lease_s":1.5}"#;
    std::fs::write(out.join("_LOCK"), holder).unwrap();
    let o = run(&a, None);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(stderr(&o).contains("locked by run other (host elsewhere, pid 1)"), "{}", stderr(&o));
    assert!(stderr(&o).contains("last renewed 0s ago"), "{}", stderr(&o));

    std::thread::sleep(std::time::Duration::from_millis(1700));
    let o = run(&a, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("not renewed for 1s (lease 1s)"), "the takeover names the dead run: {}", stderr(&o));
    assert!(stderr(&o).contains("held by run other"), "{}", stderr(&o));
}

#[test]
fn a_lock_without_a_lease_is_taken_over_after_stale_lock_after_s() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let a = args(&sample(), &out, dir.path(), false);
    std::fs::write(out.join("_LOCK"), r#"{"run_id":"old","host":"h","pid":1,"acquired_at":"2026-11-28T00:00:00Z"}"#)
        .unwrap();
    let o = run(&a, None);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let mut stale = a.clone();
    stale.extend(["--set".into(), "run.stale_lock_after_s=0".into()]);
    let o = run(&stale, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("held by run old"), "{}", stderr(&o));
}

#[test]
fn a_run_that_loses_its_lock_writes_nothing_more_and_exits_6() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let a = args(&sample(), &out, dir.path(), false);
    let thief = r#"{"run_id":"thief","host":"elsewhere","pid":2,"acquired_at":"2026-12-07T00:00:00Z","lease_s":120}"#;
    let mut command = bin();
    command.args(&a).args(["--set", "run.lock_renew_s=0.1"]);
    let (code, text) = run_paused(command, "after_part#1:pause=1500", || {
        std::fs::write(out.join("_LOCK"), thief).unwrap();
    });
    assert_eq!(code, Some(6), "{text}");
    assert!(text.contains("lost the lock") && text.contains("another run took the lock over"), "{text}");
    assert!(!out.join("_SUCCESS").exists() && !out.join("_manifest.json").exists(), "nothing written after the loss");
    assert_eq!(std::fs::read_to_string(out.join("_LOCK")).unwrap(), thief, "the new holder's lock is left alone");
    assert_eq!(table_bytes(&out).len(), 1, "only the part written before the loss");
}

#[test]
fn an_input_rewritten_during_the_run_fails_it_with_exit_3_and_the_rerun_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    for dataset in ["follows", "interactions", "accounts", "previous/follows"] {
        std::fs::create_dir_all(inputs.join(dataset)).unwrap();
        for entry in std::fs::read_dir(sample().join(dataset)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, inputs.join(dataset).join(path.file_name().unwrap())).unwrap();
        }
    }
    let out = dir.path().join("out");
    let a = args(&inputs, &out, dir.path(), false);
    let object = std::fs::read_dir(inputs.join("interactions")).unwrap().next().unwrap().unwrap().path();
    let mut command = bin();
    command.args(&a);
    let (code, text) = run_paused(command, "after_scan:pause=500", || {
        // The export rewrites the object (same bytes, a new version): a mixed snapshot is possible.
        let bytes = std::fs::read(&object).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&object, bytes).unwrap();
    });
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("input changed during the run") && text.contains(&*object.to_string_lossy()), "{text}");
    assert!(!out.join("_SUCCESS").exists() && !out.join("_LOCK").exists());
    let o = run(&a, None);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_full_spill_disk_fails_with_exit_5_removes_the_spill_and_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (out, spill) = (dir.path().join("out"), dir.path().join("spill"));
    std::fs::create_dir_all(&spill).unwrap();
    let o = run(&args(&sample(), &out, &spill, true), Some("spill_write#2:enospc"));
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stderr(&o).contains("the spill disk is full"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--rescan"), "says what to do: {}", stderr(&o));
    assert_eq!(spill_folders(&spill), Vec::<String>::new());
    assert!(!out.join("_SUCCESS").exists() && !out.join("_LOCK").exists() && table_bytes(&out).is_empty());
}

#[test]
fn the_same_run_again_is_a_no_op_and_another_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let a = args(&sample(), &out, dir.path(), false);
    assert!(run(&a, None).status.success());
    let manifest = std::fs::read(out.join("_manifest.json")).unwrap();
    let o = run(&a, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("already holds this run"), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("_manifest.json")).unwrap(), manifest, "nothing rewritten");
    let mut other = a.clone();
    other.extend(["--min-followers".into(), "3".into()]);
    let o = run(&other, None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("already holds a completed run"), "{}", stderr(&o));
}
