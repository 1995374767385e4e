//! A year of nights: relative windows, the previous night by date, and `backfill` over the
//! sample's seven nights (sample_data/nights/, jobs/sample_nights.toml).

use std::path::{Path, PathBuf};

use crate::common::table_bytes;
use std::process::{Command, Output};

const NIGHTS: [&str; 7] =
    ["2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28"];

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reciprocity"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// jobs/sample_nights.toml with its nights under `root` and its output under `out`.
fn nights_job(dir: &Path, root: &Path, out: &Path) -> PathBuf {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/sample_nights.toml")).unwrap();
    let text = text
        .replace("sample_data/nights", &root.to_string_lossy())
        .replace("out/sample_nights", &out.to_string_lossy());
    std::fs::create_dir_all(dir).unwrap();
    let job = dir.join("nights.toml");
    std::fs::write(&job, text).unwrap();
    job
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

#[test]
fn a_relative_window_equals_its_absolute_bounds_and_both_at_once_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = ["run", "--follows", "sample_data/follows", "--interactions", "sample_data/interactions"];
    // The sample's interactions run into late November 2025: a 10-day window drops some.
    let relative = dir.path().join("relative");
    let o =
        bin().args(base).args(["--window", "10d", "--date", "2025-11-20", "--out"]).arg(&relative).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let absolute = dir.path().join("absolute");
    let o = bin()
        .args(base)
        .args(["--window-start", "2025-11-10T00:00:00Z", "--window-end", "{date}T00:00:00Z", "--date", "2025-11-20"])
        .arg("--out")
        .arg(&absolute)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(table_bytes(&relative), table_bytes(&absolute));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(relative.join("_manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["parameters"]["window_start"], "2025-11-10T00:00:00Z");
    assert!(manifest["rejected"]["outside_window"].as_u64().unwrap() > 0, "the window dropped something");

    let o = bin()
        .args(base)
        .args(["--window", "10d", "--window-end", "2025-11-20T00:00:00Z", "--out"])
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("use one or the other"), "{}", stderr(&o));
}

#[test]
fn a_first_night_without_a_previous_one_warns_unless_the_previous_night_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/nights");
    let out = dir.path().join("out");
    let job = nights_job(dir.path(), &root, &out);
    let o = bin().args(["run", "--job"]).arg(&job).args(["--date", "2026-11-22"]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("no previous night at") && stderr(&o).contains("dt=2026-11-21"), "{}", stderr(&o));
    let night = out.join("dt=2026-11-22");
    assert!(night.join("_SUCCESS").exists() && !night.join("follow_changes").exists());
    let manifest = std::fs::read_to_string(night.join("_manifest.json")).unwrap();
    assert!(manifest.contains("no previous night"), "the warning is in the manifest");

    let o = bin()
        .args(["run", "--job"])
        .arg(&job)
        .args(["--date", "2026-11-22", "--set", "input.previous_required=true", "--overwrite"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("previous_follows") && stderr(&o).contains("dt=2026-11-21"), "{}", stderr(&o));
}

#[test]
fn a_backfill_stops_at_a_failing_night_resumes_where_it_stopped_and_equals_separate_runs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("nights");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/nights"), &root);
    let (out, separate) = (dir.path().join("out"), dir.path().join("separate"));
    let job = nights_job(dir.path(), &root, &out);
    let separate_job = nights_job(&dir.path().join("separate-job"), &root, &separate);

    // Night 25 is broken: the backfill stops there with its exit code, 22-24 done.
    let follows = root.join("dt=2026-11-25/follows");
    let object = std::fs::read_dir(&follows).unwrap().next().unwrap().unwrap().path();
    let good = std::fs::read(&object).unwrap();
    std::fs::write(&object, b"not parquet").unwrap();
    let backfill = |extra: &[&str]| {
        bin()
            .args(["backfill", "--job"])
            .arg(&job)
            .args(["--from", NIGHTS[0], "--to", NIGHTS[6]])
            .args(extra)
            .output()
            .unwrap()
    };
    let o = backfill(&[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let said = stderr(&o);
    assert!(said.contains("backfill stopped at night 2026-11-25 (3 night(s) done, 2026-11-22 to 2026-11-24"), "{said}");
    assert!(said.contains("night 2026-11-24: done"), "{said}");
    for (i, night) in NIGHTS.iter().enumerate() {
        assert_eq!(out.join(format!("dt={night}/_SUCCESS")).exists(), i < 3, "{night}");
    }

    // Fixed, the same command resumes: 22-24 skipped, 25-28 run.
    std::fs::write(&object, good).unwrap();
    let o = backfill(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = stderr(&o);
    assert!(
        said.contains("night 2026-11-23: already complete, skipped") && said.contains("night 2026-11-28: done"),
        "{said}"
    );
    assert!(said.contains("7 nights, 4 run, 3 already complete"), "{said}");

    // Seven separate runs give the same tables, night by night.
    for night in NIGHTS {
        let o = bin().args(["run", "--job"]).arg(&separate_job).args(["--date", night]).output().unwrap();
        assert!(o.status.success(), "{night}: {}", stderr(&o));
        let (a, b) =
            (table_bytes(&out.join(format!("dt={night}"))), table_bytes(&separate.join(format!("dt={night}"))));
        assert_eq!(a, b, "{night}");
        assert_eq!(
            a.keys().any(|k| k.starts_with("follow_changes/")),
            night != NIGHTS[0],
            "{night} compares with the night before"
        );
    }

    // --overwrite recomputes every night, to the same bytes.
    let before = table_bytes(&out.join("dt=2026-11-26"));
    let o = backfill(&["--overwrite"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("7 nights, 7 run, 0 already complete"), "{}", stderr(&o));
    assert_eq!(table_bytes(&out.join("dt=2026-11-26")), before);

    let o = bin()
        .args(["backfill", "--job"])
        .arg(&job)
        .args(["--from", "2026-11-22", "--to", "2026-11-28", "--date", "2026-11-22"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "--date is not a backfill flag: {}", stderr(&o));
}

/// The sample's seven nights, backfilled into `out`.
fn backfilled(dir: &Path) -> PathBuf {
    let out = dir.join("nightly");
    let job = nights_job(&dir.join("job"), &Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/nights"), &out);
    let o =
        bin().args(["backfill", "--job"]).arg(&job).args(["--from", NIGHTS[0], "--to", NIGHTS[6]]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

#[test]
fn history_puts_the_nights_together_and_its_figures_are_each_nights_own() {
    use crate::common::read_table;
    let dir = tempfile::tempdir().unwrap();
    let root = backfilled(dir.path());
    let out = dir.path().join("history");
    let history =
        |extra: &[&str]| bin().args(["history"]).arg(&root).arg("--out").arg(&out).args(extra).output().unwrap();
    let o = history(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = stderr(&o);
    assert!(said.contains("7 nights, 2026-11-22 to 2026-11-28"), "{said}");
    assert!(said.contains("brands") && said.contains("quartile"), "{said}");
    assert!(out.join("_SUCCESS").exists() && !out.join("_LOCK").exists());

    // population_history: one row per night, each night's population_summary with its date.
    let population = read_table(&out, "population_history");
    assert_eq!(population.len(), 7);
    for (row, night) in population.iter().zip(NIGHTS) {
        let date = chrono::NaiveDate::parse_from_str(night, "%Y-%m-%d").unwrap();
        let epoch_days = (date - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days();
        assert_eq!(row["date"].int(), Some(epoch_days));
        let mut own = read_table(&root.join(format!("dt={night}")), "population_summary").remove(0);
        own.insert("date".into(), row["date"].clone());
        assert_eq!(row, &own, "{night}");
    }

    // brand_history and brand_growth against the nights' brand_audience.
    let first = read_table(&root.join("dt=2026-11-22"), "brand_audience");
    let last = read_table(&root.join("dt=2026-11-28"), "brand_audience");
    let history_rows = read_table(&out, "brand_history");
    assert_eq!(
        history_rows.len(),
        (0..7).map(|i| read_table(&root.join(format!("dt={}", NIGHTS[i])), "brand_audience").len()).sum::<usize>()
    );
    let keys: Vec<(i64, i64)> =
        history_rows.iter().map(|r| (r["account_id"].int().unwrap(), r["date"].int().unwrap())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "sorted by account_id, then date");
    let growth = read_table(&out, "brand_growth");
    assert!(!growth.is_empty());
    for g in &growth {
        let id = g["account_id"].int();
        let on = |rows: &[crate::common::Row]| {
            rows.iter().find(|r| r["account_id"].int() == id).unwrap()["followers"].int().unwrap()
        };
        let (f0, f1) = (on(&first), on(&last));
        assert_eq!((g["followers_first"].int(), g["followers_last"].int()), (Some(f0), Some(f1)));
        assert!((g["growth"].float().unwrap() - (f1 - f0) as f64 / f0 as f64).abs() < 1e-12);
    }
    assert!(read_table(&out, "tie_survival").is_empty(), "no night has tie_decay yet");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("_manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["findings"]["brands"].as_u64().unwrap() as usize, growth.len());
    assert_eq!(manifest["nights"].as_array().unwrap().len(), 7);

    // The same history again is a no-op; a night without _SUCCESS is skipped, a gap warned.
    let o = history(&[]);
    assert!(o.status.success() && stderr(&o).contains("already holds this history"), "{}", stderr(&o));
    let via_backfill = dir.path().join("via-backfill");
    let job =
        nights_job(&dir.path().join("job"), &Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/nights"), &root);
    let o = bin()
        .args(["backfill", "--job"])
        .arg(&job)
        .args(["--from", NIGHTS[0], "--to", NIGHTS[6], "--history"])
        .arg(&via_backfill)
        .output()
        .unwrap();
    assert!(o.status.success() && stderr(&o).contains("7 nights, 0 run, 7 already complete"), "{}", stderr(&o));
    for table in ["population_history", "brand_history", "brand_growth", "tie_survival"] {
        assert_eq!(read_table(&via_backfill, table), read_table(&out, table), "backfill --history: {table}");
    }
    std::fs::remove_file(root.join("dt=2026-11-25/_SUCCESS")).unwrap();
    let o = history(&["--from", "2026-11-23", "--to", "2026-11-27", "--overwrite"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = stderr(&o);
    assert!(
        said.contains("skipping night 2026-11-25") && said.contains("a gap between nights 2026-11-24 and 2026-11-26"),
        "{said}"
    );
    assert_eq!(read_table(&out, "population_history").len(), 4, "23, 24, 26 and 27");
}
