//! The merge of buckets computed elsewhere (what the Spark job's driver calls), without Spark:
//! the sample's rows are routed here by a hash of the account id, each bucket goes through
//! the keyed kernel and a JSON round trip, and the published tables must equal the binary's
//! in-memory run byte for byte. tests/python/test_spark.py runs the same through Spark.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMicrosecondType};
use arrow_array::Array;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use reciprocity::compute::account_metrics::CampRule;
use reciprocity::compute::clean::Dropped;
use reciprocity::compute::keyed_bucket::{keyed_bucket, KeyedBucket, KeyedResult, KeyedRows};
use reciprocity::compute::NULL_TS;
use reciprocity::config::cli::{LogFormat, RunArgs};
use reciprocity::config::job::Job;
use reciprocity::id_type::IdType;
use reciprocity::output::progress::Reporter;
use reciprocity::run::external::{plan_for_engine, EngineCounts};
use reciprocity::run::publish_external;

/// (a, b, created_at µs) rows of a sample dataset, nulls as None.
fn read_edges(dir: &str, a: &str, b: &str) -> Vec<(Option<i64>, Option<i64>, Option<i64>)> {
    let mut parts: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    parts.sort();
    let mut rows = Vec::new();
    for part in parts {
        for batch in ParquetRecordBatchReaderBuilder::try_new(File::open(part).unwrap()).unwrap().build().unwrap() {
            let batch = batch.unwrap();
            let (x, y) = (batch.column_by_name(a).unwrap(), batch.column_by_name(b).unwrap());
            let (x, y) = (x.as_primitive::<Int64Type>(), y.as_primitive::<Int64Type>());
            let t = batch.column_by_name("created_at").map(|t| t.as_primitive::<TimestampMicrosecondType>().clone());
            for i in 0..batch.num_rows() {
                let get = |c: &arrow_array::Int64Array| c.is_valid(i).then(|| c.value(i));
                let time = t.as_ref().and_then(|t| t.is_valid(i).then(|| t.value(i)));
                rows.push((get(x), get(y), time));
            }
        }
    }
    rows
}

fn key(id: i64) -> u64 {
    IdType::key_of_signed(id)
}

/// An account's bucket: any hash of the id will do, as long as both sides use it.
fn bucket_of(buckets: usize, id: i64) -> usize {
    (key(id).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize % buckets
}

/// The accounts table's ids.
fn account_ids() -> Vec<i64> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir("sample_data/accounts").unwrap() {
        let file = File::open(entry.unwrap().path()).unwrap();
        for batch in ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap() {
            let batch = batch.unwrap();
            let c = batch.column_by_name("account_id").unwrap().as_primitive::<Int64Type>().clone();
            ids.extend(c.iter().flatten());
        }
    }
    ids
}

/// Cleans (null ids, self-loops) and routes rows to both ends' buckets by a hash of the id.
fn route(
    rows: &[(Option<i64>, Option<i64>, Option<i64>)],
    buckets: usize,
    out: impl Fn(&mut KeyedBucket) -> &mut KeyedRows,
    inward: impl Fn(&mut KeyedBucket) -> &mut KeyedRows,
    all: &mut [KeyedBucket],
) -> Dropped {
    let bucket_of = |id: i64| bucket_of(buckets, id);
    let mut dropped = Dropped::default();
    for &(a, b, t) in rows {
        let (Some(a), Some(b)) = (a, b) else {
            dropped.null_id += 1;
            continue;
        };
        if a == b {
            dropped.self_loop += 1;
            continue;
        }
        let t = t.map_or(NULL_TS, |us| us * 1000);
        for (own, other, side) in [(a, b, true), (b, a, false)] {
            let rows = if side { out(&mut all[bucket_of(own)]) } else { inward(&mut all[bucket_of(own)]) };
            rows.own.push(key(own));
            rows.other.push(key(other));
            rows.created.push(t);
        }
    }
    dropped
}

fn table_bytes(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut all = BTreeMap::new();
    for table in
        ["account_metrics", "population_summary", "reciprocity_by_followers", "brand_audience", "follow_changes"]
    {
        for entry in std::fs::read_dir(out.join(table)).unwrap() {
            let path = entry.unwrap().path();
            all.insert(
                format!("{table}/{}", path.file_name().unwrap().to_string_lossy()),
                std::fs::read(path).unwrap(),
            );
        }
    }
    all
}

#[test]
fn buckets_merged_from_another_engine_publish_the_binary_s_tables() {
    let dir = tempfile::tempdir().unwrap();
    let args = |out: &Path| RunArgs {
        job: Some("jobs/sample.toml".into()),
        out: Some(out.display().to_string()),
        date: Some("2026-11-28".into()),
        log_format: Some(LogFormat::Json),
        ..Default::default()
    };
    let reporter = Reporter::new(LogFormat::Json, "test".into());
    let in_memory = dir.path().join("memory");
    reciprocity::run(&Job::from_args(&args(&in_memory)).unwrap(), &reporter).unwrap();

    let merged = dir.path().join("merged");
    let job = Job::from_args(&args(&merged)).unwrap();
    let plan = plan_for_engine(&job, &reporter).unwrap();
    let mut brands: Vec<u64> = plan.brand_ids.iter().map(|&b| key(b as i64)).collect();
    brands.sort_unstable();
    let k = 5;
    let mut buckets: Vec<KeyedBucket> = (0..k).map(|_| KeyedBucket::default()).collect();
    let follows = read_edges("sample_data/follows", "follower_id", "followee_id");
    let follow_drops = route(&follows, k, |b| &mut b.follows_out, |b| &mut b.follows_in, &mut buckets);
    let events = read_edges("sample_data/interactions", "actor_id", "target_id");
    let event_drops = route(&events, k, |b| &mut b.events_out, |b| &mut b.events_in, &mut buckets);
    for b in &mut buckets {
        b.previous = Some(Default::default());
    }
    let previous = read_edges("sample_data/previous/follows", "follower_id", "followee_id");
    let previous_drops = route(
        &previous,
        k,
        |b| &mut b.previous.as_mut().unwrap().0,
        |b| &mut b.previous.as_mut().unwrap().1,
        &mut buckets,
    );
    for id in account_ids() {
        buckets[bucket_of(k, id)].listed.push(key(id));
    }
    let rule = CampRule { min_followers: 10, follows_back_all_rate: 0.9, selective_rate: 0.1 };
    let results: Vec<KeyedResult> = buckets
        .into_iter()
        .map(|b| {
            let result = keyed_bucket(b, &brands, &rule);
            serde_json::from_slice(&serde_json::to_vec(&result).unwrap()).unwrap()
        })
        .collect();
    // The engine's exact reach, here from the in-memory run's table (the join is Spark's).
    let reach = reciprocity_reach(&in_memory);
    let counts = EngineCounts {
        engine: "test".into(),
        buckets: k,
        follows: follow_drops,
        interactions: Some(event_drops),
        previous_follows: Some(previous_drops),
        reach,
    };
    publish_external(&job, &reporter, counts, results).unwrap();
    let (want, got) = (table_bytes(&in_memory), table_bytes(&merged));
    assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>());
    for (name, bytes) in &want {
        assert!(&got[name] == bytes, "{name} differs from the in-memory run's");
    }
}

/// (brand id, reach_2hop) from a finished run's brand_audience table.
fn reciprocity_reach(out: &Path) -> Vec<(i64, u64)> {
    let mut reach = Vec::new();
    for entry in std::fs::read_dir(out.join("brand_audience")).unwrap() {
        let file = File::open(entry.unwrap().path()).unwrap();
        for batch in ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap() {
            let batch = batch.unwrap();
            let ids = batch.column_by_name("account_id").unwrap().as_primitive::<Int64Type>().clone();
            let r = batch.column_by_name("reach_2hop").unwrap().as_primitive::<Int64Type>().clone();
            reach.extend((0..batch.num_rows()).map(|i| (ids.value(i), r.value(i) as u64)));
        }
    }
    reach
}
