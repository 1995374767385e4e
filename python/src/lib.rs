//! `reciprocity_spark`: the bucket kernel and the publish step of `reciprocity`, for a Spark
//! job (`jobs/spark/job.py`).
//!
//! Three calls: `plan` (driver) turns the binary's own command-line flags into the validated
//! job's inputs and parameters; `compute_bucket` (workers, inside `applyInArrow`) runs one
//! account bucket with the GIL released; `publish` (driver) merges the buckets' results and
//! writes the tables, manifest and `_SUCCESS` exactly as the binary does. Columns cross the
//! boundary as little-endian int64 bytes (numpy's `tobytes()`), results as JSON bytes.

use clap::Parser;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde_json::json;

use reciprocity::compute::account_metrics::CampRule;
use reciprocity::compute::keyed_bucket::{keyed_bucket, KeyedBucket, KeyedResult, KeyedRows};
use reciprocity::compute::NULL_TS;
use reciprocity::config::cli::{Cli, Command, RunArgs};
use reciprocity::config::job::Job;
use reciprocity::id_type::IdType;
use reciprocity::output::progress::Reporter;
use reciprocity::run::external::{plan_for_engine, publish_external, EngineCounts};

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
    let us = |ns: Option<i64>| ns.map(|ns| ns.div_euclid(1000));
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
        // Microseconds, Spark's timestamp unit; the window is [start, end).
        "window_start_us": us(job.params.window_start_ns),
        "window_end_us": us(job.params.window_end_ns),
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

/// Id keys as the binary makes them (order-preserving; signed and unsigned ids differ).
fn keys(bytes: &[u8], signed: bool) -> PyResult<Vec<u64>> {
    let key = if signed { IdType::key_of_signed } else { |v: i64| IdType::key_of_unsigned(v as u64) };
    Ok(int64s(bytes)?.into_iter().map(key).collect())
}

/// (own ids, other ids, created_at µs or i64::MIN for null) → keyed rows, times in ns.
fn rows(own: &[u8], other: &[u8], created: Option<&[u8]>, signed: bool) -> PyResult<KeyedRows> {
    let (own, other) = (keys(own, signed)?, keys(other, signed)?);
    let created = match created {
        Some(c) => int64s(c)?.into_iter().map(|us| if us == i64::MIN { NULL_TS } else { us * 1000 }).collect(),
        None => Vec::new(),
    };
    if own.len() != other.len() || (!created.is_empty() && created.len() != own.len()) {
        return Err(PyValueError::new_err("the columns of a stream differ in length"));
    }
    Ok(KeyedRows { own, other, created })
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
    outcome.map(|o| o.summary).map_err(|e| PyRuntimeError::new_err(reciprocity::error::one_line(&e)))
}

#[pymodule]
fn reciprocity_spark(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    m.add_function(wrap_pyfunction!(compute_bucket, m)?)?;
    m.add_function(wrap_pyfunction!(publish, m)?)?;
    Ok(())
}
