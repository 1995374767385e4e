//! Shared test helpers: Parquet fixtures, running the job, reading result tables back.
#![allow(dead_code)]

pub mod oracle;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use reciprocity::config::cli::{LogFormat, RunArgs};
use reciprocity::config::job::Job;
use reciprocity::output::progress::Reporter;

/// (follower, followee, created_at in µs)
pub type FollowRow = (Option<i64>, Option<i64>, Option<i64>);
/// (actor, target, created_at in µs)
pub type EventRow = (Option<i64>, Option<i64>, Option<i64>);
/// (account_id, account_type)
pub type AccountRow = (Option<i64>, Option<&'static str>);

pub fn ids(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(values.collect::<Int64Array>())
}

pub fn micros(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(values.collect::<TimestampMicrosecondArray>().with_timezone("UTC"))
}

pub fn write_batch(path: &Path, batch: &RecordBatch) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

pub fn follows_batch(rows: &[FollowRow]) -> RecordBatch {
    RecordBatch::try_from_iter([
        ("follower_id", ids(rows.iter().map(|r| r.0))),
        ("followee_id", ids(rows.iter().map(|r| r.1))),
        ("created_at", micros(rows.iter().map(|r| r.2))),
    ])
    .unwrap()
}

pub fn events_batch(rows: &[EventRow]) -> RecordBatch {
    RecordBatch::try_from_iter([
        ("actor_id", ids(rows.iter().map(|r| r.0))),
        ("target_id", ids(rows.iter().map(|r| r.1))),
        ("created_at", micros(rows.iter().map(|r| r.2))),
    ])
    .unwrap()
}

pub fn accounts_batch(rows: &[AccountRow]) -> RecordBatch {
    RecordBatch::try_from_iter([
        ("account_id", ids(rows.iter().map(|r| r.0))),
        ("account_type", Arc::new(rows.iter().map(|r| r.1).collect::<StringArray>()) as ArrayRef),
    ])
    .unwrap()
}

/// A population on disk, ready for a run.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new(follows: &[FollowRow], events: Option<&[EventRow]>, accounts: Option<&[AccountRow]>) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        // Two objects per dataset, so multi-object reading is always exercised.
        let split = follows.len() / 2;
        write_batch(&dir.path().join("follows/part-0.parquet"), &follows_batch(&follows[..split]));
        write_batch(&dir.path().join("follows/part-1.parquet"), &follows_batch(&follows[split..]));
        if let Some(events) = events {
            let split = events.len() / 2;
            write_batch(&dir.path().join("interactions/part-0.parquet"), &events_batch(&events[..split]));
            write_batch(&dir.path().join("interactions/part-1.parquet"), &events_batch(&events[split..]));
        }
        if let Some(accounts) = accounts {
            write_batch(&dir.path().join("accounts/part-0.parquet"), &accounts_batch(accounts));
        }
        Fixture { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn args(&self) -> RunArgs {
        let has = |d: &str| self.path(d).exists().then(|| self.path(d).display().to_string());
        RunArgs {
            follows: has("follows"),
            interactions: has("interactions"),
            accounts: has("accounts"),
            out: Some(self.path("out").display().to_string()),
            date: Some("2026-11-28".into()),
            log_format: Some(LogFormat::Json),
            ..Default::default()
        }
    }

    /// Runs the job in-process and returns the output folder.
    pub fn run(&self, args: RunArgs) -> PathBuf {
        let job = Job::from_args(&args).expect("valid job");
        let reporter = Reporter::new(LogFormat::Text, "test".into());
        reciprocity::run(&job, &reporter).expect("run succeeds");
        PathBuf::from(job.out)
    }
}

/// A cell of a result table, as read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Int(Option<i64>),
    Float(Option<f64>),
    Str(Option<String>),
    Bool(Option<bool>),
}

impl Cell {
    pub fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(v) => *v,
            other => panic!("not an int: {other:?}"),
        }
    }
    pub fn float(&self) -> Option<f64> {
        match self {
            Cell::Float(v) => *v,
            other => panic!("not a float: {other:?}"),
        }
    }
    pub fn str(&self) -> Option<&str> {
        match self {
            Cell::Str(v) => v.as_deref(),
            other => panic!("not a string: {other:?}"),
        }
    }
}

pub type Row = BTreeMap<String, Cell>;

/// Every object under OUT's table folders, by path relative to OUT: what byte-identity
/// across executions, reruns and crashes is checked on.
pub fn table_bytes(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut all = BTreeMap::new();
    for table in reciprocity::TABLES {
        let Ok(dir) = std::fs::read_dir(out.join(table)) else { continue };
        for entry in dir {
            let path = entry.unwrap().path();
            let name = format!("{table}/{}", path.file_name().unwrap().to_string_lossy());
            all.insert(name, std::fs::read(path).unwrap());
        }
    }
    all
}

/// Runs `command` with the fault point `fault` (a `pause=` one, src/fault.rs), calls
/// `meanwhile` once the run says it is pausing, and waits: the exit code and stderr.
pub fn run_paused(mut command: std::process::Command, fault: &str, meanwhile: impl FnOnce()) -> (Option<i32>, String) {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child =
        command.env("RECIPROCITY_FAULT", fault).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let mut text = String::new();
    let mut meanwhile = Some(meanwhile);
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains(": pausing") {
            (meanwhile.take().expect("one pause"))();
        }
        text.push_str(&line);
        text.push('\n');
    }
    (child.wait().unwrap().code(), text)
}

/// Reads every part of `out/<table>/` into rows, in file order.
pub fn read_table(out: &Path, table: &str) -> Vec<Row> {
    let mut parts: Vec<_> = std::fs::read_dir(out.join(table)).unwrap().map(|e| e.unwrap().path()).collect();
    parts.sort();
    let mut rows = Vec::new();
    for part in parts {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&part).unwrap()).unwrap().build().unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            for i in 0..batch.num_rows() {
                let mut row = Row::new();
                for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                    let valid = column.is_valid(i);
                    let cell = match field.data_type() {
                        DataType::Int64 => Cell::Int(valid.then(|| column.as_primitive::<Int64Type>().value(i))),
                        DataType::Date32 => {
                            Cell::Int(valid.then(|| column.as_primitive::<Date32Type>().value(i).into()))
                        }
                        DataType::Float64 => Cell::Float(valid.then(|| column.as_primitive::<Float64Type>().value(i))),
                        DataType::Utf8 => Cell::Str(valid.then(|| column.as_string::<i32>().value(i).to_string())),
                        DataType::Boolean => Cell::Bool(valid.then(|| column.as_boolean().value(i))),
                        other => panic!("unexpected type {other} in {table}.{}", field.name()),
                    };
                    row.insert(field.name().clone(), cell);
                }
                rows.push(row);
            }
        }
    }
    rows
}

/// Floats agree to 1e-9 relative (the contract's promise); everything else exactly.
pub fn assert_rows_match(table: &str, got: &[Row], want: &[Row]) {
    assert_eq!(got.len(), want.len(), "{table}: row count");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let got_columns: Vec<_> = g.keys().collect();
        let want_columns: Vec<_> = w.keys().collect();
        assert_eq!(got_columns, want_columns, "{table}: columns");
        for (column, want_cell) in w {
            let got_cell = &g[column];
            let same = match (got_cell, want_cell) {
                (Cell::Float(Some(a)), Cell::Float(Some(b))) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
                (a, b) => a == b,
            };
            assert!(same, "{table} row {i} column {column}: got {got_cell:?}, want {want_cell:?}\nrow: {g:?}");
        }
    }
}
