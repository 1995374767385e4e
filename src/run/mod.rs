//! The run: one pipeline for every way of computing.
//!
//! ```text
//! plan     open OUT (refuse a completed one), read the inputs' footers, choose the execution
//! lock     take OUT's _LOCK
//! compute  the chosen execution -> one Computed
//! publish  tables -> manifest -> _SUCCESS -> summary (output/publish.rs)
//! release  give the lock back, whatever happened
//! ```
//!
//! [`execute`] is that line, and the only place it is written. How a run computes is one
//! value, [`plan::Execution`], chosen in [`plan::choose`]: in memory (`in_memory.rs`), in buckets whose
//! rows are spilled to local disk or re-read from the inputs (`bucketed/`), or in buckets
//! computed elsewhere, by Spark executors, and merged here (`external.rs`). Every execution
//! runs the same kernels (`compute/bucket.rs`) and hands the same [`Computed`] to publish, so
//! their tables are byte-identical.

pub mod backfill;
pub mod bucketed;
pub mod external;
pub mod history;
pub mod in_memory;
pub mod params;
pub mod plan;
pub mod scan;
pub mod streaming;
pub mod validate;
pub mod workers;

use crate::compute::keyed_bucket::KeyedResult;
use crate::config::job::Job;
use crate::error::Result;
use crate::io::inputs::Scans;
use crate::io::leased_store::leased;
use crate::io::lock;
use crate::io::store::{self, Location};
use crate::output::computed::{Computed, RunOutcome};
use crate::output::folder::check_output;
use crate::output::manifest::fingerprint;
use crate::output::progress::Reporter;
use crate::output::publish::publish;
use external::{Elsewhere, EngineCounts};
use plan::{choose, Execution};
use scan::{input_rows, scan};
use workers::Workers;

/// Runs a job end to end on this machine, in memory or in buckets as its memory allows.
pub fn run(job: &Job, reporter: &Reporter) -> Result<RunOutcome> {
    execute(job, reporter, None)
}

/// Merges the buckets another engine computed (Spark) and publishes the run through the one
/// pipeline, as `reciprocity run` would.
pub fn publish_external(
    job: &Job,
    reporter: &Reporter,
    counts: EngineCounts,
    results: Vec<KeyedResult>,
) -> Result<RunOutcome> {
    execute(job, reporter, Some(Elsewhere { counts, results }))
}

/// The one pipeline: plan -> lock -> compute -> publish -> release. Nothing is written to OUT
/// until every input has been read and every metric computed; `_SUCCESS` is written last.
/// `elsewhere`: buckets another engine computed, to merge instead of computing here.
pub fn execute(job: &Job, reporter: &Reporter, elsewhere: Option<Elsewhere>) -> Result<RunOutcome> {
    if elsewhere.is_some() {
        external::check_job(job)?;
    }
    let workers = Workers::new(job)?;
    let out = store::open(&job.out, &job.storage)?;
    let existing = workers.runtime.block_on(check_output(&out, job.overwrite))?;
    // Footers and the memory check come before the lock: a run refused there writes nothing.
    let scans = scan(job, reporter, &workers)?;
    if existing.is_same_run(&out, &fingerprint(job, &scans))? {
        return already_complete(job, reporter, &workers, &out);
    }
    let execution = match elsewhere {
        Some(elsewhere) => Execution::Elsewhere(Box::new(elsewhere)),
        None => choose(job, reporter, input_rows(&scans))?,
    };
    crate::fault::point("after_scan");
    let lock = workers.runtime.block_on(lock::acquire(&out, reporter.run_id(), job.lock, |m| reporter.warn(m)))?;
    // Every write to OUT checks the lease first: a run that lost the lock writes nothing more.
    let leased_out = leased(&out, lock.lease());
    let outcome = compute_and_publish(job, reporter, &workers, &leased_out, scans, execution);
    // Whatever failed, a lost lock is the reason to report (exit 6): the failure followed from it.
    let outcome = outcome.map_err(|e| lock.lease().check().err().unwrap_or(e));
    let released = workers.runtime.block_on(lock.release());
    let outcome = outcome?;
    released?;
    Ok(outcome)
}

/// OUT already holds this run (a rerun after a crash that came after `_SUCCESS`, a scheduler
/// retrying a night that succeeded): nothing to compute. The lock is still taken and given
/// back, which clears one its dead holder left behind.
fn already_complete(job: &Job, reporter: &Reporter, workers: &Workers, out: &Location) -> Result<RunOutcome> {
    workers.runtime.block_on(async {
        let lock = lock::acquire(out, reporter.run_id(), job.lock, |m| reporter.warn(m)).await?;
        lock.release().await
    })?;
    reporter.event("run", "already_complete", serde_json::json!({ "output": out.url() }));
    Ok(RunOutcome::AlreadyComplete { out: out.url() })
}

fn compute_and_publish(
    job: &Job,
    reporter: &Reporter,
    workers: &Workers,
    out: &Location,
    scans: Scans,
    execution: Execution,
) -> Result<RunOutcome> {
    let started_at = chrono::Utc::now();
    let computed: Computed = match execution {
        Execution::InMemory => in_memory::compute(job, reporter, workers, scans)?,
        Execution::Buckets { count, rows } => bucketed::compute(job, reporter, workers, out, scans, count, rows)?,
        Execution::Elsewhere(elsewhere) => external::merge(job, reporter, workers, scans, *elsewhere)?,
    };
    workers.pool.install(|| publish(job, reporter, &workers.runtime, out, computed, started_at))
}
