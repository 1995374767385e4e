//! `reciprocity_spark`: the bucket kernel and the publish step of `reciprocity`, for a Spark
//! job (`jobs/spark/job.py`).
//!
//! Four calls: `plan` (driver) turns the binary's own command-line flags into the validated
//! job's inputs and parameters; `clean_and_route` (workers, inside `mapInArrow`) applies the
//! contract's cleaning rules to a batch of rows and routes each kept row to both of its
//! accounts' buckets, by the binary's own code (`compute/clean.rs`, `compute/routing.rs`);
//! `compute_bucket` (workers, inside `applyInArrow`) runs the bucket kernel on one bucket with
//! the GIL released; `publish` (driver) merges the buckets' results and writes the tables,
//! manifest and `_SUCCESS` through the binary's one pipeline. Columns cross the boundary as
//! little-endian bytes (numpy's `tobytes()`), results as JSON bytes.

use clap::Parser;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde_json::json;

use reciprocity::compute::account_metrics::CampRule;
use reciprocity::compute::clean::{clean_edges, RawEdges, Window};
use reciprocity::compute::keyed_bucket::{keyed_bucket, KeyedBucket, KeyedResult, KeyedRows};
use reciprocity::compute::routing::{hash_bucket, route, End};
use reciprocity::compute::NULL_TS;
use reciprocity::config::cli::{Cli, Command, RunArgs};
use reciprocity::config::job::Job;
use reciprocity::id_type::IdType;
use reciprocity::output::progress::Reporter;
use reciprocity::run::external::{plan_for_engine, EngineCounts};
use reciprocity::run::publish_external;

fn run_args(args: Vec<String>) -> PyResult<RunArgs> {
    let argv = ["reciprocity".to_string(), "run".to_string()].into_iter().chain(args);
    match Cli::try_parse_from(argv) {
        Ok(Cli { command: Command::Run(run) }) => Ok(run),
        Ok(_) => unreachable!("parsed as run"),
        Err(e) => Err(PyValueError::new_err(e.to_string())),
    }
}

fn job_of(args: Vec<String>) -> PyResult<Job> {
    Job::from_args(&run_args(args)?).map_err(|e| PyValueError::new_err(reciprocity::error::one_line(&e)))
}

/// The job's inputs and parameters, validated, as JSON: what the Spark side reads and how.
#[pyfunction]
fn plan(args: Vec<String>) -> PyResult<String> {
    let job = job_of(args)?;
    let reporter = Reporter::new(job.log_format, reciprocity::new_run_id());
    let engine_plan =
        plan_for_engine(&job, &reporter).map_err(|e| PyValueError::new_err(reciprocity::error::one_line(&e)))?;
    let id_type = engine_plan.id_type;
    if id_type == IdType::UInt64 {
        return Err(PyValueError::new_err(
            "the Spark job reads ids as Spark longs; uint64 ids do not fit: run the binary, or cast them to int64",
        ));
    }
    let c = &job.columns;
    Ok(json!({
        "follows": job.follows,
        "interactions": job.interactions,
        "accounts": job.accounts,
        "previous_follows": job.previous_follows,
        "out": job.out,
        "columns": {
            "follower_id": c.follows.follower_id, "followee_id": c.follows.followee_id,
            "follow_created_at": c.follows.created_at,
            "actor_id": c.interactions.actor_id, "target_id": c.interactions.target_id,
            "event_created_at": c.interactions.created_at,
            "account_id": c.accounts.account_id, "account_type": c.accounts.account_type,
        },
        "min_followers": job.params.min_followers,
        "follows_back_all_rate": job.params.follows_back_all_rate,
        "selective_rate": job.params.selective_rate,
        // The window is [start, end), in ns as the binary compares it.
        "window_start_ns": job.params.window_start_ns,
        "window_end_ns": job.params.window_end_ns,
        "brands": engine_plan.brand_ids.iter().filter_map(|&b| i64::try_from(b).ok()).collect::<Vec<_>>(),
        "buckets": job.buckets,
        "signed_ids": id_type.is_signed(),
    })
    .to_string())
}

fn int64s(bytes: &[u8]) -> PyResult<Vec<i64>> {
    if bytes.len() % 8 != 0 {
        return Err(PyValueError::new_err("int64 columns must be a multiple of 8 bytes"));
    }
    Ok(bytes.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes"))).collect())
}

/// An id's key as the binary makes it (order-preserving; signed and unsigned ids differ).
fn key_of(id: i64, signed: bool) -> u64 {
    if signed {
        IdType::key_of_signed(id)
    } else {
        IdType::key_of_unsigned(id as u64)
    }
}

/// Id keys as the binary makes them.
fn keys(bytes: &[u8], signed: bool) -> PyResult<Vec<u64>> {
    Ok(int64s(bytes)?.into_iter().map(|v| key_of(v, signed)).collect())
}

/// (own ids, other ids, created_at ns or i64::MIN for null) → keyed rows.
fn rows(own: &[u8], other: &[u8], created: Option<&[u8]>, signed: bool) -> PyResult<KeyedRows> {
    let (own, other) = (keys(own, signed)?, keys(other, signed)?);
    let created = match created {
        Some(c) => int64s(c)?,
        None => Vec::new(),
    };
    if own.len() != other.len() || (!created.is_empty() && created.len() != own.len()) {
        return Err(PyValueError::new_err("the columns of a stream differ in length"));
    }
    Ok(KeyedRows { own, other, created })
}

/// The streams of routed rows, by number: what `compute_bucket` is handed, stream by stream.
const STREAMS: [&str; 7] =
    ["follows_out", "follows_in", "events_out", "events_in", "previous_out", "previous_in", "listed"];

fn stream_of(name: &str) -> PyResult<i8> {
    STREAMS
        .iter()
        .position(|&s| s == name)
        .map(|i| i as i8)
        .ok_or_else(|| PyValueError::new_err(format!("no stream {name}")))
}

fn flags(bytes: &[u8], len: usize) -> PyResult<Option<Vec<bool>>> {
    match bytes.len() {
        0 => Ok(None),
        n if n == len => Ok(Some(bytes.iter().map(|&b| b != 0).collect())),
        _ => Err(PyValueError::new_err("a validity column differs in length from its ids")),
    }
}

fn le_bytes<'py, T: Copy>(py: Python<'py>, values: &[T], to: impl Fn(T) -> [u8; 8]) -> Bound<'py, PyBytes> {
    let bytes: Vec<u8> = values.iter().flat_map(|&v| to(v)).collect();
    PyBytes::new(py, &bytes)
}

/// One batch of routed rows: bucket (int64), stream (int8), own and other ids (int64),
/// created_at (int64 ns, i64::MIN for null), and what each cleaning rule dropped
/// (null_id, self_loop, outside_window).
type Routed<'py> = (
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    (u64, u64, u64),
);

/// Cleans one batch of an edge dataset by the contract's rules and routes every kept row to
/// both of its accounts' buckets. `dataset`: follows, interactions or previous_follows (the
/// window applies to interactions only). Ids are int64 with validity bytes (empty: all
/// valid); created_at is int64 ns with i64::MIN for null (empty: no column).
#[pyfunction]
#[pyo3(signature = (dataset, src, src_valid, dst, dst_valid, created, buckets, signed_ids, window_start_ns, window_end_ns))]
#[allow(clippy::too_many_arguments)]
fn clean_and_route<'py>(
    py: Python<'py>,
    dataset: &str,
    src: &[u8],
    src_valid: &[u8],
    dst: &[u8],
    dst_valid: &[u8],
    created: &[u8],
    buckets: usize,
    signed_ids: bool,
    window_start_ns: Option<i64>,
    window_end_ns: Option<i64>,
) -> PyResult<Routed<'py>> {
    let (streams, window) = match dataset {
        "follows" => ((stream_of("follows_out")?, stream_of("follows_in")?), Window::default()),
        "interactions" => {
            ((stream_of("events_out")?, stream_of("events_in")?), Window { start: window_start_ns, end: window_end_ns })
        }
        "previous_follows" => ((stream_of("previous_out")?, stream_of("previous_in")?), Window::default()),
        other => return Err(PyValueError::new_err(format!("no edge dataset {other}"))),
    };
    if buckets == 0 {
        return Err(PyValueError::new_err("at least one bucket"));
    }
    let (src_ids, dst_ids) = (int64s(src)?, int64s(dst)?);
    let n = src_ids.len();
    let ts = if created.is_empty() { None } else { Some(int64s(created)?) };
    if dst_ids.len() != n || ts.as_ref().is_some_and(|t| t.len() != n) {
        return Err(PyValueError::new_err("the columns of a batch differ in length"));
    }
    let raw = RawEdges {
        src: src_ids.iter().map(|&v| key_of(v, signed_ids)).collect(),
        dst: dst_ids.iter().map(|&v| key_of(v, signed_ids)).collect(),
        valid_src: flags(src_valid, n)?,
        valid_dst: flags(dst_valid, n)?,
        ts,
    };
    let (rows, dropped) = py.detach(|| clean_edges(raw, window, true));
    let id_of = |k: u64| if signed_ids { (k ^ (1 << 63)) as i64 } else { k as i64 };
    let times = rows.ts.as_deref().unwrap_or(&[]);
    let capacity = 2 * rows.len();
    let (mut bucket, mut stream, mut own, mut other, mut created) = (
        Vec::with_capacity(capacity),
        Vec::with_capacity(capacity),
        Vec::with_capacity(capacity),
        Vec::with_capacity(capacity),
        Vec::with_capacity(capacity),
    );
    route(
        &rows.src,
        &rows.dst,
        |k| Some((hash_bucket(k, buckets), k)),
        |end, b, own_key, i| {
            let (other_key, s) = match end {
                End::Source => (rows.dst[i], streams.0),
                End::Target => (rows.src[i], streams.1),
            };
            bucket.push(b as i64);
            stream.push(s);
            own.push(id_of(own_key));
            other.push(id_of(other_key));
            created.push(times.get(i).copied().unwrap_or(NULL_TS));
        },
    );
    let stream_bytes = PyBytes::new(py, &stream.iter().map(|&s| s as u8).collect::<Vec<u8>>());
    Ok((
        le_bytes(py, &bucket, i64::to_le_bytes),
        stream_bytes,
        le_bytes(py, &own, i64::to_le_bytes),
        le_bytes(py, &other, i64::to_le_bytes),
        le_bytes(py, &created, i64::to_le_bytes),
        (dropped.null_id, dropped.self_loop, dropped.outside_window),
    ))
}

/// Routes the accounts table's ids (nulls dropped) to their buckets, as stream `listed`:
/// returns bucket (int64) and id (int64) bytes.
#[pyfunction]
fn route_accounts<'py>(
    py: Python<'py>,
    ids: &[u8],
    valid: &[u8],
    buckets: usize,
    signed_ids: bool,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let ids = int64s(ids)?;
    let valid = flags(valid, ids.len())?;
    let kept: Vec<i64> =
        ids.iter().enumerate().filter(|&(i, _)| valid.as_ref().is_none_or(|v| v[i])).map(|(_, &id)| id).collect();
    let bucket: Vec<i64> = kept.iter().map(|&id| hash_bucket(key_of(id, signed_ids), buckets) as i64).collect();
    Ok((le_bytes(py, &bucket, i64::to_le_bytes), le_bytes(py, &kept, i64::to_le_bytes)))
}

type Timed<'a> = (&'a [u8], &'a [u8], &'a [u8]);
type Pair<'a> = (&'a [u8], &'a [u8]);

/// Computes one account bucket; returns its result as JSON bytes for `publish`.
#[pyfunction]
#[pyo3(signature = (follows_out, follows_in, events_out, events_in, previous_out, previous_in, listed, brands, signed_ids, min_followers, follows_back_all_rate, selective_rate))]
#[allow(clippy::too_many_arguments)]
fn compute_bucket<'py>(
    py: Python<'py>,
    follows_out: Timed,
    follows_in: Timed,
    events_out: Pair,
    events_in: Pair,
    previous_out: Option<Pair>,
    previous_in: Option<Pair>,
    listed: &[u8],
    brands: &[u8],
    signed_ids: bool,
    min_followers: u64,
    follows_back_all_rate: f64,
    selective_rate: f64,
) -> PyResult<Bound<'py, PyBytes>> {
    let s = signed_ids;
    let bucket = KeyedBucket {
        follows_out: rows(follows_out.0, follows_out.1, Some(follows_out.2), s)?,
        follows_in: rows(follows_in.0, follows_in.1, Some(follows_in.2), s)?,
        events_out: rows(events_out.0, events_out.1, None, s)?,
        events_in: rows(events_in.0, events_in.1, None, s)?,
        previous: match (previous_out, previous_in) {
            (Some(o), Some(i)) => Some((rows(o.0, o.1, None, s)?, rows(i.0, i.1, None, s)?)),
            _ => None,
        },
        listed: keys(listed, s)?,
    };
    let mut brands = keys(brands, s)?;
    brands.sort_unstable();
    let rule = CampRule { min_followers, follows_back_all_rate, selective_rate };
    let json = py.detach(|| serde_json::to_vec(&keyed_bucket(bucket, &brands, &rule)));
    let json = json.map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok(PyBytes::new(py, &json))
}

/// Merges the buckets' results and writes the run; returns the human summary.
#[pyfunction]
fn publish(py: Python<'_>, args: Vec<String>, counts: &str, results: Vec<Vec<u8>>) -> PyResult<String> {
    let job = job_of(args)?;
    let counts: EngineCounts = serde_json::from_str(counts).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let results: Vec<KeyedResult> = results
        .iter()
        .map(|r| serde_json::from_slice(r))
        .collect::<Result<_, _>>()
        .map_err(|e| PyValueError::new_err(format!("a bucket's result: {e}")))?;
    let outcome = py.detach(|| {
        let reporter = Reporter::new(job.log_format, reciprocity::new_run_id());
        publish_external(&job, &reporter, counts, results)
    });
    outcome.map(|o| o.summary()).map_err(|e| PyRuntimeError::new_err(reciprocity::error::one_line(&e)))
}

#[pymodule]
fn reciprocity_spark(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    m.add_function(wrap_pyfunction!(clean_and_route, m)?)?;
    m.add_function(wrap_pyfunction!(route_accounts, m)?)?;
    m.add_function(wrap_pyfunction!(compute_bucket, m)?)?;
    m.add("STREAMS", STREAMS.to_vec())?;
    m.add_function(wrap_pyfunction!(publish, m)?)?;
    Ok(())
}
