//! The plan: how a run computes ([`Execution`], chosen in [`choose`]), from how much memory it
//! will need (input row counts), how much it may use, and the spill disk's room.
//!
//! Checked right after the footers are read, before anything heavy: a run that would not fit
//! in memory is computed in buckets (out of core) instead of meeting the OOM killer an hour
//! in, and one that cannot fit even so fails in seconds with a clear message (exit 5).
//! The per-row figures are measured peaks (docs/benchmarks.md) with headroom.

use crate::compute::universe::MAX_ACCOUNTS;
use crate::config::job::{Job, MAX_BUCKETS};
use crate::config::size::human;
use crate::error::{Error, Result};
use crate::output::progress::Reporter;
use crate::run::external::Elsewhere;

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

/// Chooses how a run computes, from the footers' row counts: in memory when it fits under
/// the memory limit, else in buckets, spilled unless the spill would not fit on its disk.
pub fn choose(job: &Job, reporter: &Reporter, rows: InputRows) -> Result<Execution> {
    let count = match fit(rows, job.memory_limit, job.buckets)? {
        Fit::InMemory => return Ok(Execution::InMemory),
        Fit::Buckets(count) => count,
    };
    if job.rescan {
        return Ok(Execution::Buckets { count, rows: RowSource::Reread });
    }
    let (need, dir) = (spill_bytes(rows), &job.spill_dir);
    let free = free_disk(dir);
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

/// Peak bytes per input row, measured on generated populations (1M accounts, 38M follows,
/// 20M interactions: 2.4 GiB peak) and rounded up.
const BYTES_PER_FOLLOW: u64 = 64;
const BYTES_PER_INTERACTION: u64 = 32;
const BYTES_PER_PREVIOUS_FOLLOW: u64 = 40;
const BYTES_PER_ACCOUNT_ROW: u64 = 96;
const BASELINE: u64 = 256 << 20;

/// Rows of each input, from the Parquet footers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputRows {
    pub follows: u64,
    pub interactions: u64,
    pub accounts: u64,
    pub previous_follows: u64,
}

/// The peak memory a run over these inputs is expected to need.
pub fn estimate_bytes(rows: InputRows) -> u64 {
    BASELINE
        + rows.follows * BYTES_PER_FOLLOW
        + rows.interactions * BYTES_PER_INTERACTION
        + rows.accounts * BYTES_PER_ACCOUNT_ROW
        + rows.previous_follows * BYTES_PER_PREVIOUS_FOLLOW
}

/// Bytes per account that a bucketed run holds from start to end: its key in the universe
/// and the key's index (with pass 1's set of distinct ids at the peak), its type, the values
/// population medians and Ginis are taken over. Rows are written bucket by bucket.
const BYTES_PER_ACCOUNT_HELD: u64 = 96;
/// Bytes per follow held to the end: the follow-back latencies (the population median).
const BYTES_PER_FOLLOW_HELD: u64 = 3;
/// Bytes per follow held for the brands' 2-hop walk (every account's followers, as u32).
const BYTES_PER_FOLLOW_HELD_FOR_REACH: u64 = 4;

/// Where a run's working set fits: the memory half of choosing an execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Everything in memory at once (the fast path).
    InMemory,
    /// Buckets of accounts computed one after another; `None`: as many
    /// as the memory limit needs, decided once the number of accounts is known.
    Buckets(Option<usize>),
}

/// Decides from the footers' row counts how the run executes: in memory when it fits under
/// the limit, else in buckets (unless the job fixed the bucket count). A limit too small
/// for even the bucketed run's fixed needs fails here, before anything is read.
pub fn fit(rows: InputRows, limit: Option<u64>, buckets: Option<usize>) -> Result<Fit> {
    match (buckets, limit) {
        (Some(k), _) => Ok(Fit::Buckets(Some(k))),
        (None, Some(limit)) if estimate_bytes(rows) > limit => {
            if limit < 2 * BASELINE {
                return Err(Error::Resource(format!(
                    "this run needs about {} of memory for {} follow and {} interaction rows, and even computed \
                     in buckets at least {}, above the limit of {}; raise --memory-limit (or run.memory_limit)",
                    human(estimate_bytes(rows)),
                    rows.follows,
                    rows.interactions,
                    human(2 * BASELINE),
                    human(limit)
                )));
            }
            Ok(Fit::Buckets(None))
        }
        _ => Ok(Fit::InMemory),
    }
}

/// The bucket count that keeps a bucketed run under `limit`, once the number of accounts is
/// known: what every bucket shares (the accounts) comes off the top, and each bucket's graph
/// must fit in the rest. Fails when the accounts alone leave too little.
pub fn buckets_for(rows: InputRows, accounts: u64, with_reach: bool, limit: u64) -> Result<usize> {
    let held = BASELINE
        + accounts * BYTES_PER_ACCOUNT_HELD
        + rows.follows * BYTES_PER_FOLLOW_HELD
        + if with_reach { rows.follows * BYTES_PER_FOLLOW_HELD_FOR_REACH } else { 0 };
    let graph = estimate_bytes(rows) - BASELINE;
    let room = limit.saturating_sub(held);
    if room < limit / 4 {
        return Err(Error::Resource(format!(
            "{accounts} accounts need about {} of memory for the whole run (ids, per-account values, follow-back \
             latencies{}), which leaves too little of the {} limit for their follows; raise --memory-limit (or \
             run.memory_limit) on a machine that has it",
            human(held),
            if with_reach { ", every account's followers for the brands' 2-hop walk" } else { "" },
            human(limit)
        )));
    }
    let k = graph.div_ceil(room).max(2) as usize;
    if k > MAX_BUCKETS {
        return Err(Error::Resource(format!(
            "{} follow rows would need {k} buckets under the {} limit (at most {MAX_BUCKETS}); raise --memory-limit",
            rows.follows,
            human(limit)
        )));
    }
    Ok(k)
}

/// Bytes a bucketed run spills: every follow twice with its time (16-byte records), every
/// event and previous-night follow twice without (8-byte records).
pub fn spill_bytes(rows: InputRows) -> u64 {
    2 * (16 * rows.follows + 8 * rows.interactions + 8 * rows.previous_follows)
}

/// Free bytes on the filesystem of `dir` (or of its nearest existing parent); None if unknown.
pub fn free_disk(dir: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let existing = dir.ancestors().find(|d| d.exists())?;
    let path = std::ffi::CString::new(existing.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes into the struct it is given and reads only the NUL-terminated path.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::statvfs(path.as_ptr(), &mut stat) } == 0;
    ok.then(|| stat.f_bavail as u64 * stat.f_frsize as u64)
}

/// Refuses more accounts than dense ids can number, in every execution.
pub fn check_accounts(accounts: usize) -> Result<()> {
    if accounts > MAX_ACCOUNTS {
        return Err(Error::Resource(format!("{accounts} accounts exceed the {MAX_ACCOUNTS} one run can hold")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_above_the_limit_goes_to_buckets() {
        let rows = InputRows { follows: 35_000_000, interactions: 20_000_000, ..Default::default() };
        assert!(estimate_bytes(rows) < 3 << 30, "the benchmark population fits its 3 GiB target");
        assert_eq!(fit(rows, Some(3 << 30), None).unwrap(), Fit::InMemory);
        assert_eq!(fit(rows, Some(1 << 30), None).unwrap(), Fit::Buckets(None));
        assert_eq!(fit(rows, Some(3 << 30), Some(7)).unwrap(), Fit::Buckets(Some(7)));
        assert!(fit(rows, Some(10 << 20), None).unwrap_err().to_string().contains("--memory-limit"));
        // 1M accounts and their latencies hold ~0.43 GiB; 2.7 GiB of graph in the remaining
        // ~0.57 GiB: 5 buckets.
        assert_eq!(buckets_for(rows, 1_000_000, false, 1 << 30).unwrap(), 5);
    }

    #[test]
    fn too_many_accounts_for_the_limit_are_refused() {
        let rows = InputRows { follows: 35_000_000, ..Default::default() };
        let err = buckets_for(rows, 6_000_000, true, 1 << 30).unwrap_err().to_string();
        assert!(err.contains("--memory-limit"), "{err}");
    }
}
