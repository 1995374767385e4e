//! The binary end to end: sample data by plain path and file://, job files, reruns, refusing a
//! completed OUT, JSON logs, the generator's determinism, and every bad input with its exit
//! code and a message naming the object and column.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use crate::common::{follows_batch, write_batch, Fixture};
use arrow_array::{ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reciprocity"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn sample(dataset: &str) -> String {
    format!("{}/sample_data/{dataset}/", env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    bin().arg("run").args(args).output().expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn sample_args(out: &Path) -> Vec<String> {
    vec![
        "--follows".into(),
        sample("follows"),
        "--interactions".into(),
        sample("interactions"),
        "--accounts".into(),
        sample("accounts"),
        "--out".into(),
        out.display().to_string(),
    ]
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn table_bytes(out: &Path) -> Vec<(String, Vec<u8>)> {
    // Part names carry a checksum prefix: read whatever single part each table holds.
    reciprocity::TABLES
        .iter()
        .filter_map(|t| {
            let part = std::fs::read_dir(out.join(t)).ok()?.next()?.ok()?.path();
            Some((t.to_string(), std::fs::read(part).ok()?))
        })
        .collect()
}

#[test]
fn sample_runs_by_plain_path_and_file_url_with_identical_tables() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    let o = run(&refs(&sample_args(&plain)));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("reciprocity: 5,000 accounts"), "summary on stderr: {}", stderr(&o));
    assert!(plain.join("_SUCCESS").exists());

    let url = dir.path().join("url");
    let mut args = sample_args(&url);
    for a in args.iter_mut().filter(|a| a.starts_with('/')) {
        *a = format!("file://{a}");
    }
    let o = run(&refs(&args));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(table_bytes(&plain), table_bytes(&url), "same inputs give byte-identical tables");
}

#[test]
fn job_file_with_set_and_date_and_a_rerun_with_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = format!("{}/dt={{date}}", dir.path().display());
    let set = format!("output.out={out}");
    let args = ["--job", "jobs/sample.toml", "--date", "2026-11-27", "--set", &set, "--threads", "1"];
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let folder = dir.path().join("dt=2026-11-27");
    let first = table_bytes(&folder);
    assert_eq!(first.len(), 5, "sample.toml compares with the previous night: follow_changes too");
    // sample.toml sets overwrite = true: the rerun replaces the completed run.
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(first, table_bytes(&folder), "a rerun gives identical bytes, with any thread count");
}

#[test]
fn tables_are_byte_identical_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "3"] {
        let out = dir.path().join(threads);
        let mut args = sample_args(&out);
        args.extend(["--threads".into(), threads.into()]);
        let o = run(&refs(&args));
        assert!(o.status.success(), "{}", stderr(&o));
        outputs.push(table_bytes(&out));
    }
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn a_completed_out_of_another_run_is_refused_without_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert!(run(&refs(&sample_args(&out))).status.success());
    let mut other = sample_args(&out);
    other.extend(["--min-followers".into(), "4".into()]);
    let o = run(&refs(&other));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("already holds a completed run"), "{}", stderr(&o));
    assert!(out.join("_SUCCESS").exists(), "the refused run left the old one alone");
    let mut args = sample_args(&out);
    args.push("--overwrite".into());
    assert!(run(&refs(&args)).status.success());
}

/// Every table's values of the run in `out`, read back, by table.
fn table_values(out: &Path) -> Vec<(String, Vec<RecordBatch>)> {
    reciprocity::TABLES
        .iter()
        .filter_map(|t| {
            let part = std::fs::read_dir(out.join(t)).ok()?.next()?.ok()?.path();
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(part).ok()?)
                    .ok()?
                    .build()
                    .ok()?;
            Some((t.to_string(), reader.collect::<Result<Vec<_>, _>>().ok()?))
        })
        .collect()
}

/// The codec of the first column chunk of each table of the run in `out`.
fn table_codecs(out: &Path) -> Vec<parquet::basic::Compression> {
    reciprocity::TABLES
        .iter()
        .filter_map(|t| {
            let part = std::fs::read_dir(out.join(t)).ok()?.next()?.ok()?.path();
            let reader = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(part).ok()?).ok()?;
            let metadata = parquet::file::reader::FileReader::metadata(&reader).clone();
            Some(metadata.row_group(0).column(0).compression())
        })
        .collect()
}

#[test]
fn compression_changes_the_bytes_never_the_values() {
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<(PathBuf, Vec<parquet::basic::Compression>)> = [None, Some("zstd"), Some("none")]
        .into_iter()
        .map(|codec| {
            let out = dir.path().join(codec.unwrap_or("default"));
            let mut args = sample_args(&out);
            if let Some(codec) = codec {
                args.extend(["--compression".into(), codec.into()]);
            }
            let o = run(&refs(&args));
            assert!(o.status.success(), "{}", stderr(&o));
            let codecs = table_codecs(&out);
            (out, codecs)
        })
        .collect();
    let zstd = parquet::basic::Compression::ZSTD(parquet::basic::ZstdLevel::try_new(1).unwrap());
    let want = [parquet::basic::Compression::SNAPPY, zstd, parquet::basic::Compression::UNCOMPRESSED];
    for ((out, codecs), want) in runs.iter().zip(want) {
        assert!(!codecs.is_empty() && codecs.iter().all(|&c| c == want), "{out:?}: {codecs:?}");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(runs[1].0.join("_manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["compression"], "zstd");
    let values = table_values(&runs[0].0);
    assert!(values.len() >= 4, "{} tables", values.len());
    for (out, _) in &runs[1..] {
        assert_ne!(table_bytes(out), table_bytes(&runs[0].0));
        assert_eq!(table_values(out), values);
    }
}

#[test]
fn json_logs_carry_run_id_stage_and_durations() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = sample_args(&dir.path().join("out"));
    args.extend(["--log-format".into(), "json".into()]);
    let o = run(&refs(&args));
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> =
        stderr(&o).lines().map(|l| serde_json::from_str(l).expect("every line is JSON")).collect();
    let stages: Vec<&str> = lines.iter().filter_map(|l| l["stage"].as_str()).collect();
    for stage in ["scan", "read", "clean", "dyads", "interactions", "stats", "write"] {
        assert!(stages.contains(&stage), "stage {stage} logged: {stages:?}");
    }
    assert!(lines.iter().all(|l| l["run_id"].is_string()));
    let end = lines.iter().find(|l| l["event"] == "run_end").expect("a run_end line");
    assert_eq!(end["accounts"], 5000);
    assert!(end["edge_reciprocity"].is_f64() && end["rejected"]["self_loop"].is_u64());
    assert!(lines.iter().any(|l| l["seconds"].is_f64()));
}

#[test]
fn generate_is_deterministic_for_a_seed_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let gen = |name: &str, threads: &str| {
        let out = dir.path().join(name);
        let o = bin()
            .env("RAYON_NUM_THREADS", threads)
            .args(["generate", "--out", out.to_str().unwrap(), "--accounts", "10000", "--seed", "9"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        out
    };
    let (a, b) = (gen("a", "1"), gen("b", "2"));
    for dataset in ["follows", "interactions", "accounts"] {
        let files = |root: &PathBuf| -> Vec<Vec<u8>> {
            let mut names: Vec<_> = std::fs::read_dir(root.join(dataset)).unwrap().map(|e| e.unwrap().path()).collect();
            names.sort();
            assert!(names.len() > 1, "several objects per dataset");
            names.iter().map(|p| std::fs::read(p).unwrap()).collect()
        };
        assert_eq!(files(&a), files(&b), "{dataset} differs between thread counts");
    }
    let again = bin().args(["generate", "--out", a.to_str().unwrap(), "--accounts", "10"]).output().unwrap();
    assert_eq!(again.status.code(), Some(2), "refuses to mix with an earlier population");
}

// ---- bad input: exit code, one clear line naming object and column, nothing written ----

fn assert_fails(args: &[&str], out: &Path, code: i32, needles: &[&str]) {
    let o = run(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "exit code; stderr: {err}");
    for needle in needles {
        assert!(err.contains(needle), "stderr names '{needle}': {err}");
    }
    assert!(err.starts_with("error: "), "one error line: {err}");
    assert!(!out.join("_SUCCESS").exists(), "no _SUCCESS after a failure");
    assert!(!out.join("account_metrics").exists(), "nothing half-written");
}

fn bad_follows(batch: RecordBatch) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let object = dir.path().join("follows/part-0.parquet");
    write_batch(&object, &batch);
    let out = dir.path().join("out");
    (dir, out, object.display().to_string())
}

fn follows_arg(dir: &tempfile::TempDir) -> String {
    dir.path().join("follows").display().to_string()
}

#[test]
fn a_missing_column_is_named_with_its_object() {
    let batch = RecordBatch::try_from_iter([
        ("src", Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef),
        ("followee_id", Arc::new(Int32Array::from(vec![2, 1])) as ArrayRef),
    ])
    .unwrap();
    let (dir, out, object) = bad_follows(batch);
    let args = ["--follows", &follows_arg(&dir), "--out", out.to_str().unwrap()];
    assert_fails(&args, &out, 3, &[&object, "'follower_id'", "missing column", "src"]);
    // ...and mapping the column fixes it.
    let o = run(&[&args[..], &["--set", "columns.follows.follower_id=src"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn string_and_float_ids_are_refused() {
    for ids in [
        Arc::new(StringArray::from(vec!["1", "2"])) as ArrayRef,
        Arc::new(Float64Array::from(vec![1.0, 2.0])) as ArrayRef,
    ] {
        let batch = RecordBatch::try_from_iter([
            ("follower_id", ids),
            ("followee_id", Arc::new(Int32Array::from(vec![2, 1])) as ArrayRef),
        ])
        .unwrap();
        let (dir, out, object) = bad_follows(batch);
        let args = ["--follows", &follows_arg(&dir), "--out", out.to_str().unwrap()];
        assert_fails(&args, &out, 3, &[&object, "'follower_id'", "expected an integer id"]);
    }
}

#[test]
fn different_id_types_across_files_and_datasets_are_refused() {
    let int32 = RecordBatch::try_from_iter([
        ("follower_id", Arc::new(Int32Array::from(vec![1])) as ArrayRef),
        ("followee_id", Arc::new(Int32Array::from(vec![2])) as ArrayRef),
    ])
    .unwrap();
    let (dir, out, _) = bad_follows(int32);
    let second = dir.path().join("follows/part-1.parquet");
    write_batch(&second, &follows_batch(&[(Some(1), Some(3), None)]));
    let args = ["--follows", &follows_arg(&dir), "--out", out.to_str().unwrap()];
    assert_fails(&args, &out, 3, &[&second.display().to_string(), "Int64", "Int32", "one integer type"]);

    // follows Int64, interactions Int32
    let fixture = Fixture::new(&[(Some(1), Some(2), None), (Some(2), Some(1), None)], None, None);
    let events = fixture.path("interactions/part-0.parquet");
    write_batch(
        &events,
        &RecordBatch::try_from_iter([
            ("actor_id", Arc::new(Int32Array::from(vec![1])) as ArrayRef),
            ("target_id", Arc::new(Int32Array::from(vec![2])) as ArrayRef),
        ])
        .unwrap(),
    );
    let out = fixture.path("out");
    let (follows, interactions) = (fixture.path("follows"), fixture.path("interactions"));
    let args = [
        "--follows",
        follows.to_str().unwrap(),
        "--interactions",
        interactions.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    assert_fails(&args, &out, 3, &[&events.display().to_string(), "'actor_id'", "follows dataset"]);
}

#[test]
fn truncated_and_non_parquet_objects_are_named() {
    let (dir, out, object) = bad_follows(follows_batch(&[(Some(1), Some(2), None)]));
    let bytes = std::fs::read(&object).unwrap();
    std::fs::write(&object, &bytes[..bytes.len() / 2]).unwrap();
    let args = ["--follows", &follows_arg(&dir), "--out", out.to_str().unwrap()];
    assert_fails(&args, &out, 3, &[&object, "cannot decode Parquet"]);

    std::fs::write(&object, b"follower_id,followee_id\n1,2\n").unwrap();
    assert_fails(&args, &out, 3, &[&object, "cannot decode Parquet"]);
}

#[test]
fn companion_files_in_a_prefix_are_ignored() {
    let (dir, out, _) = bad_follows(follows_batch(&[(Some(1), Some(2), None), (Some(2), Some(1), None)]));
    let folder = dir.path().join("follows");
    std::fs::write(folder.join("_SUCCESS"), b"").unwrap();
    std::fs::write(folder.join("_metadata"), b"not parquet").unwrap();
    std::fs::write(folder.join(".part-0.parquet.crc"), b"crc").unwrap();
    std::fs::write(folder.join("README.txt"), b"notes").unwrap();
    let o = run(&["--follows", folder.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn empty_datasets_and_misspelled_paths_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(dir.path().join("empty")).unwrap();
    let empty = dir.path().join("empty").display().to_string();
    assert_fails(&["--follows", &empty, "--out", out.to_str().unwrap()], &out, 3, &[&empty, "no Parquet objects"]);
    let missing = dir.path().join("folows").display().to_string();
    assert_fails(&["--follows", &missing, "--out", out.to_str().unwrap()], &out, 3, &["folows", "no Parquet objects"]);

    let (dir, out, _) = bad_follows(follows_batch(&[]));
    let args = ["--follows", &follows_arg(&dir), "--out", out.to_str().unwrap()];
    assert_fails(&args, &out, 3, &["follows dataset has no rows"]);
}

#[test]
fn an_unreachable_store_is_a_storage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = bin()
        .args(["run", "--follows", "s3://bucket/follows/", "--out", out.to_str().unwrap()])
        .args(["--set", "storage.max_retries=0", "--set", "storage.connect_timeout_s=2"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "do-not-log-me")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("s3://bucket/follows"), "{err}");
    assert!(!err.contains("do-not-log-me"), "no credentials in messages: {err}");
}

#[test]
fn usage_errors_exit_2() {
    let o = run(&["--follows", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no output"), "{}", stderr(&o));
    let o = run(&["--job", "jobs/sample.toml", "--set", "parameters.min_folowers=3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("min_folowers"), "{}", stderr(&o));
    let o = run(&["--follows", "x", "--out", "y", "--window-start", "yesterday", "--interactions", "z"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("window_start"), "{}", stderr(&o));
}
