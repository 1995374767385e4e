//! The rest of the bad-input matrix (the first half is in cli.rs): every case has a
//! documented outcome (README "Bad input") — a clear error, or counted cleaning, never silence.

use std::sync::Arc;

use crate::common::{read_table, write_batch, Cell, Fixture};
use arrow_array::builder::{Int64Builder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, DictionaryArray, Int32Array, Int64Array, RecordBatch, StructArray, TimestampMicrosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray, UInt64Array,
};
use arrow_schema::{DataType, Field};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use reciprocity::config::cli::{LogFormat, RunArgs};
use reciprocity::config::job::Job;
use reciprocity::output::progress::Reporter;

fn run_dir(dir: &std::path::Path, extra: impl FnOnce(&mut RunArgs)) -> reciprocity::error::Result<std::path::PathBuf> {
    let mut args = RunArgs {
        follows: Some(dir.join("follows").display().to_string()),
        out: Some(dir.join("out").display().to_string()),
        date: Some("2026-11-28".into()),
        ..Default::default()
    };
    extra(&mut args);
    let job = Job::from_args(&args).unwrap();
    reciprocity::run(&job, &Reporter::new(LogFormat::Json, "t".into()))?;
    Ok(dir.join("out"))
}

#[test]
fn dictionary_encoded_ids_and_types_read_like_plain_ones() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Int32Array::from(vec![0, 1, 1, 0]);
    let values = Arc::new(Int64Array::from(vec![10, 20]));
    let followers: ArrayRef = Arc::new(DictionaryArray::<Int32Type>::try_new(keys, values.clone()).unwrap());
    let followees: ArrayRef = Arc::new(Int64Array::from(vec![20, 10, 30, 30]));
    let batch = RecordBatch::try_from_iter([("follower_id", followers), ("followee_id", followees)]).unwrap();
    write_batch(&dir.path().join("follows/part-0.parquet"), &batch);
    let mut types = StringDictionaryBuilder::<Int32Type>::new();
    types.append_value("brand");
    let accounts = RecordBatch::try_from_iter([
        ("account_id", Arc::new(Int64Array::from(vec![30])) as ArrayRef),
        ("account_type", Arc::new(types.finish()) as ArrayRef),
    ])
    .unwrap();
    write_batch(&dir.path().join("accounts/part-0.parquet"), &accounts);
    let out = run_dir(dir.path(), |a| a.accounts = Some(dir.path().join("accounts").display().to_string())).unwrap();
    let p = &read_table(&out, "population_summary")[0];
    assert_eq!((p["accounts"].int(), p["follow_edges"].int(), p["mutual_dyads"].int()), (Some(3), Some(4), Some(1)));
    assert_eq!(read_table(&out, "brand_audience").len(), 1, "the dictionary-encoded type marks a brand");
}

#[test]
fn nested_columns_are_not_looked_into() {
    let dir = tempfile::tempdir().unwrap();
    let inner = StructArray::from(vec![
        (Arc::new(Field::new("follower_id", DataType::Int64, false)), Arc::new(Int64Array::from(vec![1])) as ArrayRef),
        (Arc::new(Field::new("followee_id", DataType::Int64, false)), Arc::new(Int64Array::from(vec![2])) as ArrayRef),
    ]);
    let batch = RecordBatch::try_from_iter([("edge", Arc::new(inner) as ArrayRef)]).unwrap();
    write_batch(&dir.path().join("follows/part-0.parquet"), &batch);
    let err = run_dir(dir.path(), |_| {}).unwrap_err().to_string();
    assert!(err.contains("'follower_id'") && err.contains("missing column") && err.contains("edge"), "{err}");
}

#[test]
fn unsigned_ids_above_i64_max_keep_their_type_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let big = u64::MAX - 1;
    let batch = RecordBatch::try_from_iter([
        ("follower_id", Arc::new(UInt64Array::from(vec![big, 7])) as ArrayRef),
        ("followee_id", Arc::new(UInt64Array::from(vec![7, big])) as ArrayRef),
    ])
    .unwrap();
    write_batch(&dir.path().join("follows/part-0.parquet"), &batch);
    let out = run_dir(dir.path(), |_| {}).unwrap();
    let file = std::fs::read_dir(out.join("account_metrics")).unwrap().next().unwrap().unwrap().path();
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(file).unwrap())
            .unwrap()
            .build()
            .unwrap();
    let batch = reader.into_iter().next().unwrap().unwrap();
    let ids = batch.column_by_name("account_id").unwrap();
    assert_eq!(ids.data_type(), &DataType::UInt64);
    let ids = ids.as_any().downcast_ref::<UInt64Array>().unwrap();
    assert_eq!(ids.values().as_ref(), &[7, big], "sorted as unsigned numbers");
}

#[test]
fn timestamps_in_every_unit_with_and_without_zone_agree() {
    // 1 follows 2 at t0; 2 follows back 90 s later. Each edge in its own file and unit.
    let dir = tempfile::tempdir().unwrap();
    let t0 = 1_767_225_600i64; // 2026-01-01T00:00:00Z, in seconds
    let ids = |a: i64, b: i64| -> [ArrayRef; 2] {
        [Arc::new(Int64Array::from(vec![a])), Arc::new(Int64Array::from(vec![b]))]
    };
    let cases: Vec<(ArrayRef, ArrayRef)> = vec![
        (
            Arc::new(TimestampSecondArray::from(vec![t0])),
            Arc::new(TimestampMillisecondArray::from(vec![(t0 + 90) * 1000]).with_timezone("+02:00")),
        ),
        (
            Arc::new(TimestampMicrosecondArray::from(vec![t0 * 1_000_000]).with_timezone("UTC")),
            Arc::new(TimestampNanosecondArray::from(vec![(t0 + 90) * 1_000_000_000])),
        ),
    ];
    let mut medians = Vec::new();
    for (i, (first, second)) in cases.into_iter().enumerate() {
        let case = dir.path().join(format!("case{i}"));
        let [a, b] = ids(1, 2);
        write_batch(
            &case.join("follows/a.parquet"),
            &RecordBatch::try_from_iter([("follower_id", a), ("followee_id", b), ("created_at", first)]).unwrap(),
        );
        let [a, b] = ids(2, 1);
        write_batch(
            &case.join("follows/b.parquet"),
            &RecordBatch::try_from_iter([("follower_id", a), ("followee_id", b), ("created_at", second)]).unwrap(),
        );
        let out = run_dir(&case, |_| {}).unwrap();
        medians.push(read_table(&out, "population_summary")[0]["followback_latency_median_s"].clone());
    }
    assert_eq!(medians, vec![Cell::Float(Some(90.0)), Cell::Float(Some(90.0))]);
}

#[test]
fn zero_row_files_and_a_very_large_row_group_are_fine() {
    let dir = tempfile::tempdir().unwrap();
    let n = 300_000i64;
    let mut src = Int64Builder::new();
    let mut dst = Int64Builder::new();
    for i in 0..n {
        src.append_value(i);
        dst.append_value((i + 1) % n);
    }
    let big = RecordBatch::try_from_iter([
        ("follower_id", Arc::new(src.finish()) as ArrayRef),
        ("followee_id", Arc::new(dst.finish()) as ArrayRef),
    ])
    .unwrap();
    let path = dir.path().join("follows/big.parquet");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(n as usize)).build();
    let mut writer = ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), big.schema(), Some(props)).unwrap();
    writer.write(&big).unwrap();
    let metadata = writer.close().unwrap();
    assert_eq!(metadata.num_row_groups(), 1, "one row group of 300k rows");
    write_batch(&dir.path().join("follows/empty.parquet"), &big.slice(0, 0));
    let out = run_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(read_table(&out, "population_summary")[0]["follow_edges"].int(), Some(n));
}

#[test]
fn interactions_may_name_accounts_absent_from_follows() {
    let follows = [(Some(1), Some(2), None)];
    let events = [(Some(3), Some(4), None), (Some(1), Some(4), None)];
    let fixture = Fixture::new(&follows, Some(&events), None);
    let out = fixture.run(fixture.args());
    let p = &read_table(&out, "population_summary")[0];
    assert_eq!(p["accounts"].int(), Some(4), "3 and 4 are accounts: they are in kept rows");
    let metrics = read_table(&out, "account_metrics");
    let four = metrics.iter().find(|r| r["account_id"].int() == Some(4)).unwrap();
    assert_eq!((four["followers"].int(), four["interactions_in"].int()), (Some(0), Some(2)));
}

#[test]
fn hive_partition_folders_form_one_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let part = |day: &str, rows: &[(i64, i64)]| {
        let batch = RecordBatch::try_from_iter([
            ("follower_id", Arc::new(Int64Array::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())) as ArrayRef),
            ("followee_id", Arc::new(Int64Array::from(rows.iter().map(|r| r.1).collect::<Vec<_>>())) as ArrayRef),
        ])
        .unwrap();
        write_batch(&dir.path().join(format!("follows/dt={day}/region=eu/part-0.parquet")), &batch);
    };
    part("2026-11-27", &[(1, 2)]);
    part("2026-11-28", &[(2, 1), (3, 1)]);
    std::fs::write(dir.path().join("follows/dt=2026-11-28/_SUCCESS"), b"").unwrap();
    let out = run_dir(dir.path(), |_| {}).unwrap();
    let p = &read_table(&out, "population_summary")[0];
    assert_eq!((p["follow_edges"].int(), p["mutual_dyads"].int()), (Some(3), Some(1)));
}
