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
//! value, [`Execution`], chosen in [`choose`]: in memory (`in_memory.rs`), in buckets whose
//! rows are spilled to local disk or re-read from the inputs (`bucketed/`), or in buckets
//! computed elsewhere, by Spark executors, and merged here (`external.rs`). Every execution
//! runs the same kernels (`compute/bucket.rs`) and hands the same [`Computed`] to publish, so
//! their tables are byte-identical.

pub mod bucketed;
pub mod external;
pub mod in_memory;
pub mod params;
pub mod plan;
pub mod streaming;
pub mod validate;
pub mod workers;

use serde_json::json;

use crate::config::job::Job;
use crate::config::size::human;
use crate::error::Result;
use crate::io::inputs::{scan_inputs, InputSpec, Scans};
use crate::io::lock;
use crate::io::store::{self, Location};
use crate::output::computed::{Computed, RunOutcome};
use crate::output::folder::check_output;
use crate::output::progress::Reporter;
use crate::output::publish::publish;
use external::Elsewhere;
use plan::{Fit, InputRows};
use workers::Workers;

/// How a run computes.
pub enum Execution {
    /// The whole graph at once: the fast path, whenever it fits in memory.
    InMemory,
    /// Buckets of accounts one after another (out of core); `count: None`: as many as the
    /// memory limit needs, decided once the accounts are known.
    Buckets { count: Option<usize>, rows: RowSource },
    /// Buckets computed elsewhere (Spark executors, through `python/`): here, their merge.
    Elsewhere(Box<Elsewhere>),
}

/// Where a bucketed run gets each bucket's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowSource {
    /// Spilled once to local disk by a second pass over the inputs.
    Spilled,
    /// Read again from the inputs for every bucket (`--rescan`, or no room to spill).
    Reread,
}

/// Runs a job end to end on this machine, in memory or in buckets as its memory allows.
pub fn run(job: &Job, reporter: &Reporter) -> Result<RunOutcome> {
    execute(job, reporter, None)
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
    workers.runtime.block_on(check_output(&out, job.overwrite))?;
    // Footers and the memory check come before the lock: a run refused there writes nothing.
    let scans = scan(job, reporter, &workers)?;
    let execution = match elsewhere {
        Some(elsewhere) => Execution::Elsewhere(Box::new(elsewhere)),
        None => choose(job, reporter, input_rows(&scans))?,
    };
    let lock =
        workers.runtime.block_on(lock::acquire(&out, reporter.run_id(), job.stale_lock_after, |m| reporter.warn(m)))?;
    let outcome = compute_and_publish(job, reporter, &workers, &out, scans, execution);
    let released = workers.runtime.block_on(lock.release());
    let outcome = outcome?;
    released?;
    Ok(outcome)
}

/// Chooses how a run computes, from the footers' row counts: in memory when it fits under
/// the memory limit, else in buckets, spilled unless the spill would not fit on its disk.
pub fn choose(job: &Job, reporter: &Reporter, rows: InputRows) -> Result<Execution> {
    let count = match plan::fit(rows, job.memory_limit, job.buckets)? {
        Fit::InMemory => return Ok(Execution::InMemory),
        Fit::Buckets(count) => count,
    };
    if job.rescan {
        return Ok(Execution::Buckets { count, rows: RowSource::Reread });
    }
    let (need, dir) = (plan::spill_bytes(rows), &job.spill_dir);
    let free = plan::free_disk(dir);
    if free.is_some_and(|free| free < need + need / 10) {
        reporter.warn(format!(
            "spilling would need about {} in {} but it has {} free: reading the inputs again for each bucket \
             instead (--rescan)",
            human(need),
            dir.display(),
            human(free.unwrap_or(0))
        ));
        return Ok(Execution::Buckets { count, rows: RowSource::Reread });
    }
    Ok(Execution::Buckets { count, rows: RowSource::Spilled })
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

/// Where the job's inputs are and which columns it reads.
pub fn input_spec(job: &Job) -> InputSpec<'_> {
    let c = &job.columns;
    InputSpec {
        follows: &job.follows,
        interactions: job.interactions.as_deref(),
        accounts: job.accounts.as_deref(),
        previous_follows: job.previous_follows.as_deref(),
        follow_columns: [&c.follows.follower_id, &c.follows.followee_id, &c.follows.created_at],
        interaction_columns: [&c.interactions.actor_id, &c.interactions.target_id, &c.interactions.created_at],
        // Timestamps are read only when a window needs them.
        interaction_times: params::interactions_window(job).is_set(),
        account_columns: [&c.accounts.account_id, &c.accounts.account_type],
        storage: &job.storage,
    }
}

/// Lists the inputs and checks their footers and schemas.
pub fn scan(job: &Job, reporter: &Reporter, workers: &Workers) -> Result<Scans> {
    reporter.stage(
        "scan",
        || workers.runtime.block_on(scan_inputs(&input_spec(job), workers.concurrency)),
        |s| json!({ "objects": s.all().map(|d| d.objects.len()).sum::<usize>(), "rows": s.all().map(|d| d.rows()).sum::<u64>() }),
    )
}

/// Rows of each input, from the footers: what the memory plan is made from.
pub fn input_rows(scans: &Scans) -> InputRows {
    let rows = |d: &Option<crate::io::dataset::ScannedDataset>| d.as_ref().map_or(0, |d| d.rows());
    InputRows {
        follows: scans.follows.rows(),
        interactions: rows(&scans.interactions),
        accounts: rows(&scans.accounts),
        previous_follows: rows(&scans.previous_follows),
    }
}
