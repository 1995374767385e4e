//! Memory: how much a run will need, from input row counts, and how much it may use.
//!
//! Checked right after the footers are read, before anything heavy: a run that would not fit
//! in memory is computed in buckets (out of core) instead of meeting the OOM killer an hour
//! in, and one that cannot fit even so fails in seconds with a clear message (exit 5).
//! The per-row figures are measured peaks (docs/benchmarks.md) with headroom.

use crate::error::{Error, Result};

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

/// The most buckets a run may use: each keeps six spill files open while spilling, and
/// 6 × 128 stays under the usual limit of 1,024 open files per process.
pub const MAX_BUCKETS: usize = 128;

/// Bytes per account that a bucketed run holds from start to end: its key in the universe
/// and the key's index (with pass 1's set of distinct ids at the peak), its type, the values
/// population medians and Ginis are taken over. Rows are written bucket by bucket.
const BYTES_PER_ACCOUNT_HELD: u64 = 96;
/// Bytes per follow held to the end: the follow-back latencies (the population median).
const BYTES_PER_FOLLOW_HELD: u64 = 3;
/// Bytes per follow held for the brands' 2-hop walk (every account's followers, as u32).
const BYTES_PER_FOLLOW_HELD_FOR_REACH: u64 = 4;

/// How a run executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Execution {
    /// Everything in memory at once (the fast path).
    InMemory,
    /// Buckets of accounts computed one after another from spill files; `None`: as many
    /// as the memory limit needs, decided once the number of accounts is known.
    Buckets(Option<usize>),
}

/// Decides from the footers' row counts how the run executes: in memory when it fits under
/// the limit, else in buckets (unless the job fixed the bucket count). A limit too small
/// for even the bucketed run's fixed needs fails here, before anything is read.
pub fn plan(rows: InputRows, limit: Option<u64>, buckets: Option<usize>) -> Result<Execution> {
    match (buckets, limit) {
        (Some(k), _) => Ok(Execution::Buckets(Some(k))),
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
            Ok(Execution::Buckets(None))
        }
        _ => Ok(Execution::InMemory),
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

/// "1.5 GiB".
pub fn human(bytes: u64) -> String {
    let gib = bytes as f64 / (1u64 << 30) as f64;
    if gib >= 1.0 {
        format!("{gib:.1} GiB")
    } else {
        format!("{:.0} MiB", bytes as f64 / (1u64 << 20) as f64)
    }
}

/// Parses "16GiB", "3G", "512MiB", "500MB", "1024" (bytes).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().ok()?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "kb" => 1e3,
        "m" | "mib" => 1024.0 * 1024.0,
        "mb" => 1e6,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "gb" => 1e9,
        "t" | "tib" => 1024f64.powi(4),
        "tb" => 1e12,
        _ => return None,
    };
    (value >= 0.0).then_some((value * factor) as u64)
}

/// 80% of what this machine (or its cgroup) has, read from /proc and /sys; None if unknown.
pub fn default_limit() -> Option<u64> {
    let physical = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok().and_then(|v| v.trim().parse::<u64>().ok());
    let total = match (physical, cgroup) {
        (Some(p), Some(c)) => p.min(c),
        (p, c) => p.or(c)?,
    };
    Some(total / 5 * 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!(parse_size("16GiB"), Some(16 << 30));
        assert_eq!(parse_size("3G"), Some(3 << 30));
        assert_eq!(parse_size("500MB"), Some(500_000_000));
        assert_eq!(parse_size("1.5 GiB"), Some(3 << 29));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("lots"), None);
    }

    #[test]
    fn a_run_above_the_limit_goes_to_buckets() {
        let rows = InputRows { follows: 35_000_000, interactions: 20_000_000, ..Default::default() };
        assert!(estimate_bytes(rows) < 3 << 30, "the benchmark population fits its 3 GiB target");
        assert_eq!(plan(rows, Some(3 << 30), None).unwrap(), Execution::InMemory);
        assert_eq!(plan(rows, Some(1 << 30), None).unwrap(), Execution::Buckets(None));
        assert_eq!(plan(rows, Some(3 << 30), Some(7)).unwrap(), Execution::Buckets(Some(7)));
        assert!(plan(rows, Some(10 << 20), None).unwrap_err().to_string().contains("--memory-limit"));
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
