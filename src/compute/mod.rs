//! Pure kernels: cleaning, graphs, per-account and population metrics.
//!
//! Nothing in here does I/O, reads the clock or the environment, or logs: every function
//! takes columns or graphs and returns values, so each is testable on hand-made inputs and
//! deterministic on real ones.

pub mod account_metrics;
pub mod accounts;
pub mod brand_growth;
pub mod brands;
pub mod bucket;
pub mod buckets;
pub mod by_followers;
pub mod clean;
pub mod concentration;
pub mod csr;
pub mod dense_ids;
pub mod follow_changes;
pub mod follow_graph;
pub mod grouping;
pub mod interaction_graph;
pub mod key_table;
pub mod keyed_bucket;
pub mod maybe_f64;
pub mod population;
pub mod reach;
pub mod routing;
pub mod sorted_lists;
pub mod stats;
pub mod survival;
pub mod universe;

/// Marks a null timestamp (an instant in 1677 that real data does not hold).
pub const NULL_TS: i64 = i64::MIN;

/// numerator / denominator, null when the denominator is 0 (the contract's rule for ratios).
pub fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Advances `at` in the sorted `list` to the first element ≥ `x`; true if it equals `x`.
/// Walking several sorted neighbour lists together this way replaces random lookups.
#[inline]
pub fn seek(list: &[u32], at: &mut usize, x: u32) -> bool {
    while *at < list.len() && list[*at] < x {
        *at += 1;
    }
    *at < list.len() && list[*at] == x
}
