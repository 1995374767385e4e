//! The one-row `population_summary`: dyad census, reciprocity coefficients, inequality.
//!
//! Definitions follow their sources: arc reciprocity 2M/E (NetworkX `overall_reciprocity`),
//! dyad reciprocity M/(M+A) (igraph mode "ratio"), ρ (Garlaschelli & Loffredo 2004), weighted
//! interaction reciprocity Σ min(w_ij, w_ji) / Σ w_ij (Squartini et al. 2013).

use rayon::prelude::*;

use super::account_metrics::{AccountPass, AccountRow, Camp};
use super::follow_graph::FollowGraph;
use super::interaction_graph::InteractionGraph;
use super::stats::{gini_sorted, median_i64};

#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    pub accounts: u64,
    pub follow_edges: u64,
    pub mutual_dyads: u64,
    pub asymmetric_dyads: u64,
    pub null_dyads: i64,
    pub edge_reciprocity: Option<f64>,
    pub dyad_reciprocity: Option<f64>,
    pub density: Option<f64>,
    pub rho: Option<f64>,
    pub interaction_events: u64,
    pub interaction_pair_reciprocity: Option<f64>,
    pub interaction_reciprocity: Option<f64>,
    pub followback_latency_median_s: Option<f64>,
    pub mutual_dyads_engaged: u64,
    pub mutual_dyads_hollow: u64,
    pub gini_followers: Option<f64>,
    pub gini_degree: Option<f64>,
    /// Accounts per camp, in [`Camp::ALL`] order.
    pub camps: [u64; 4],
}

fn float_ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator != 0.0).then(|| numerator / denominator)
}

/// The graph-wide counts population figures need besides the per-account rows; they add up
/// across buckets of accounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GraphTotals {
    pub follow_edges: u64,
    pub interaction_events: u64,
    pub interaction_pairs: u64,
}

impl GraphTotals {
    pub fn of(follows: &FollowGraph, interactions: &InteractionGraph) -> GraphTotals {
        GraphTotals {
            follow_edges: follows.edges() as u64,
            interaction_events: interactions.events,
            interaction_pairs: interactions.pairs() as u64,
        }
    }

    pub fn add(&mut self, other: GraphTotals) {
        self.follow_edges += other.follow_edges;
        self.interaction_events += other.interaction_events;
        self.interaction_pairs += other.interaction_pairs;
    }
}

/// The integer sums of a range of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct RowSums {
    mutual_ends: u64,
    partners_reciprocated: u64,
    events_reciprocated: u64,
    mutuals_engaged: u64,
    mutuals_hollow: u64,
    camps: [u64; 4],
}

impl RowSums {
    fn plus(mut self, other: RowSums) -> RowSums {
        self.mutual_ends += other.mutual_ends;
        self.partners_reciprocated += other.partners_reciprocated;
        self.events_reciprocated += other.events_reciprocated;
        self.mutuals_engaged += other.mutuals_engaged;
        self.mutuals_hollow += other.mutuals_hollow;
        for (a, b) in self.camps.iter_mut().zip(other.camps) {
            *a += b;
        }
        self
    }
}

/// Population figures from the graph totals and the per-account pass, whose follow-back
/// latencies it takes (they are needed nowhere else, and are not copied).
pub fn population(totals: GraphTotals, pass: &mut AccountPass) -> Population {
    let mut parts = PopulationParts::default();
    parts.add(&pass.rows, std::mem::take(&mut pass.latencies_ns));
    parts.finish(totals)
}

/// What population figures need of the per-account rows, gathered a range of accounts at
/// a time: sums, camp counts, and the values medians and Ginis are taken over (~16 bytes per
/// account and 8 per follow-back), so a bucketed run need not keep the rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PopulationParts {
    accounts: u64,
    sums: RowSums,
    followers: Vec<u64>,
    degree: Vec<u64>,
    latencies_ns: Vec<i64>,
}

impl PopulationParts {
    /// Adds the next accounts' rows (in account order) and their follow-back latencies.
    pub fn add(&mut self, rows: &[AccountRow], latencies_ns: Vec<i64>) {
        // One parallel pass over the (wide) rows for every sum; integer sums, so the order
        // of the parts does not matter.
        let sums = rows
            .par_iter()
            .fold(RowSums::default, |mut s, r| {
                s.mutual_ends += u64::from(r.mutuals);
                s.partners_reciprocated += u64::from(r.partners_reciprocated);
                s.events_reciprocated += r.events_reciprocated;
                s.mutuals_engaged += u64::from(r.mutuals_engaged);
                s.mutuals_hollow += u64::from(r.mutuals_hollow);
                s.camps[Camp::ALL.iter().position(|&c| c == r.camp).expect("every camp is listed")] += 1;
                s
            })
            .reduce(RowSums::default, RowSums::plus);
        self.accounts += rows.len() as u64;
        self.sums = self.sums.plus(sums);
        self.followers.par_extend(rows.par_iter().map(|r| u64::from(r.followers)));
        self.degree.par_extend(rows.par_iter().map(|r| u64::from(r.followers) + u64::from(r.following)));
        if self.latencies_ns.is_empty() {
            self.latencies_ns = latencies_ns;
        } else {
            self.latencies_ns.extend_from_slice(&latencies_ns);
        }
    }

    pub fn finish(mut self, totals: GraphTotals) -> Population {
        let n = self.accounts;
        let e = totals.follow_edges;
        let m = self.sums.mutual_ends / 2;
        let a = e - self.sums.mutual_ends;
        // n < 2^32, so n(n−1)/2 < 2^63: int64 always suffices.
        let all_dyads = i128::from(n) * (i128::from(n) - 1) / 2;
        let null_dyads = i64::try_from(all_dyads - i128::from(m) - i128::from(a)).expect("n < 2^32");

        let edge_reciprocity = float_ratio(2.0 * m as f64, e as f64);
        let density = float_ratio(e as f64, n as f64 * (n as f64 - 1.0)).filter(|_| n >= 2);
        let rho = match (edge_reciprocity, density) {
            (Some(r), Some(d)) => float_ratio(r - d, 1.0 - d),
            _ => None,
        };
        let pairs = totals.interaction_pairs as f64;
        Population {
            accounts: n,
            follow_edges: e,
            mutual_dyads: m,
            asymmetric_dyads: a,
            null_dyads,
            edge_reciprocity,
            dyad_reciprocity: float_ratio(m as f64, (m + a) as f64),
            density,
            rho,
            interaction_events: totals.interaction_events,
            interaction_pair_reciprocity: float_ratio(self.sums.partners_reciprocated as f64, pairs),
            interaction_reciprocity: float_ratio(
                self.sums.events_reciprocated as f64,
                totals.interaction_events as f64,
            ),
            followback_latency_median_s: median_i64(&mut self.latencies_ns).map(|ns| ns / 1e9),
            mutual_dyads_engaged: self.sums.mutuals_engaged / 2,
            mutual_dyads_hollow: self.sums.mutuals_hollow / 2,
            gini_followers: gini_of_unsorted(&mut self.followers),
            gini_degree: gini_of_unsorted(&mut self.degree),
            camps: self.sums.camps,
        }
    }
}

/// [`super::stats::gini`] of one value per account, sorted on every thread.
fn gini_of_unsorted(values: &mut [u64]) -> Option<f64> {
    values.par_sort_unstable();
    gini_sorted(values)
}
