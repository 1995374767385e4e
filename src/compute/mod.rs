//! Pure kernels: cleaning, graphs, per-account and population metrics.
//!
//! Nothing in here does I/O, reads the clock or the environment, or logs: every function
//! takes columns or graphs and returns values, so each is testable on hand-made inputs and
//! deterministic on real ones.

pub mod account_metrics;
pub mod accounts;
pub mod brands;
pub mod by_followers;
pub mod clean;
pub mod concentration;
pub mod csr;
pub mod follow_changes;
pub mod follow_graph;
pub mod interaction_graph;
pub mod population;
pub mod reach;
pub mod stats;
pub mod universe;

/// Marks a null timestamp (an instant in 1677 that real data does not hold).
pub const NULL_TS: i64 = i64::MIN;
