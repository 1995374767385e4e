//! Night-to-night changes of the follow graph: `follow_changes` and the population diff.
//!
//! P is the previous snapshot's cleaned follow graph, C the current one's. Both are compared
//! over the union of their accounts, U' (sorted keys, so dense order is still id order); the
//! current graph keeps its own dense ids (the run's universe U ⊆ U') and is looked at through
//! a monotonic remap, so its adjacency lists stay sorted without being rebuilt.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::follow_graph::FollowGraph;

/// One account's changes (dense id in U').
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeRow {
    pub account: u32,
    pub follows_added: u64,
    pub follows_removed: u64,
    pub followers_gained: u64,
    pub followers_lost: u64,
    pub mutuals_gained: u64,
    pub mutuals_lost: u64,
    pub dropped_after_followback: u64,
    pub following_prev: u64,
    pub mass_unfollow: bool,
}

impl ChangeRow {
    fn has_changes(&self) -> bool {
        self.follows_added
            + self.follows_removed
            + self.followers_gained
            + self.followers_lost
            + self.mutuals_gained
            + self.mutuals_lost
            + self.dropped_after_followback
            > 0
    }
}

/// The population columns that a previous snapshot adds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PopulationChanges {
    pub edges_added: u64,
    pub edges_removed: u64,
    pub mutual_dyads_gained: u64,
    pub mutual_dyads_lost: u64,
    pub mutual_tie_break_rate: Option<f64>,
    pub one_way_tie_break_rate: Option<f64>,
    pub mass_unfollowers: u64,
}

/// Accounts that followed at least this many are candidates for a mass unfollow.
pub const MASS_UNFOLLOW_MIN_FOLLOWING: u64 = 50;

/// The current graph seen in U' ids.
pub struct CurrentInUnion<'a> {
    pub graph: &'a FollowGraph,
    /// U id → U' id (monotonic).
    pub to_union: &'a [u32],
    /// U' id → U id, or u32::MAX if the account is not in the current universe.
    pub from_union: &'a [u32],
}

impl CurrentInUnion<'_> {
    fn following(&self, a: u32) -> impl Iterator<Item = u32> + '_ {
        let local = self.from_union[a as usize];
        let list: &[u32] = if local == u32::MAX { &[] } else { self.graph.following(local as usize) };
        list.iter().map(|&b| self.to_union[b as usize])
    }

    fn has(&self, a: u32, b: u32) -> bool {
        let (la, lb) = (self.from_union[a as usize], self.from_union[b as usize]);
        la != u32::MAX && lb != u32::MAX && self.graph.find(la as usize, lb).is_some()
    }
}

/// Every account's changes (rows with a non-zero count, by U' id) and the population diff.
pub fn follow_changes(current: &CurrentInUnion, previous: &FollowGraph) -> (Vec<ChangeRow>, PopulationChanges) {
    let n = previous.accounts();
    let gained: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(0)).collect();
    let lost: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(0)).collect();
    let prev_has = |a: u32, b: u32| previous.find(a as usize, b).is_some();

    // Per account: its own follows, its mutuals, and the P dyads it breaks (counted from the
    // side of the edge that disappeared).
    let mut rows: Vec<(ChangeRow, u64, u64)> = (0..n as u32)
        .into_par_iter()
        .map(|a| {
            let mut row = ChangeRow { account: a, ..Default::default() };
            let now: Vec<u32> = current.following(a).collect();
            let before = previous.following(a as usize);
            row.following_prev = before.len() as u64;
            let (mut p_mutual_ends, mut p_asymmetric_broken) = (0u64, 0u64);
            for &b in &now {
                if before.binary_search(&b).is_err() {
                    row.follows_added += 1;
                    gained[b as usize].fetch_add(1, Ordering::Relaxed);
                }
                let mutual_now = current.has(b, a);
                if mutual_now && !(prev_has(a, b) && prev_has(b, a)) {
                    row.mutuals_gained += 1;
                }
            }
            for &b in before {
                let kept = now.binary_search(&b).is_ok();
                if !kept {
                    row.follows_removed += 1;
                    lost[b as usize].fetch_add(1, Ordering::Relaxed);
                }
                if prev_has(b, a) {
                    p_mutual_ends += 1;
                    if !(kept && current.has(b, a)) {
                        row.mutuals_lost += 1;
                    }
                    if !current.has(b, a) {
                        row.dropped_after_followback += 1;
                    }
                } else if !kept {
                    p_asymmetric_broken += 1;
                }
            }
            row.mass_unfollow =
                row.following_prev >= MASS_UNFOLLOW_MIN_FOLLOWING && 10 * row.follows_removed >= 9 * row.following_prev;
            (row, p_mutual_ends, p_asymmetric_broken)
        })
        .collect();

    for (row, _, _) in rows.iter_mut() {
        row.followers_gained = gained[row.account as usize].load(Ordering::Relaxed);
        row.followers_lost = lost[row.account as usize].load(Ordering::Relaxed);
    }
    let sum = |f: &(dyn Fn(&(ChangeRow, u64, u64)) -> u64 + Sync)| rows.par_iter().map(f).sum::<u64>();
    let p_edges = previous.edges() as u64;
    let p_mutual_dyads = sum(&|r| r.1) / 2;
    let p_asymmetric = p_edges - 2 * p_mutual_dyads;
    let mutual_dyads_lost = sum(&|r| r.0.mutuals_lost) / 2;
    let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
    let population = PopulationChanges {
        edges_added: sum(&|r| r.0.follows_added),
        edges_removed: sum(&|r| r.0.follows_removed),
        mutual_dyads_gained: sum(&|r| r.0.mutuals_gained) / 2,
        mutual_dyads_lost,
        mutual_tie_break_rate: ratio(mutual_dyads_lost, p_mutual_dyads),
        one_way_tie_break_rate: ratio(sum(&|r| r.2), p_asymmetric),
        mass_unfollowers: rows.iter().filter(|r| r.0.mass_unfollow).count() as u64,
    };
    let rows = rows.into_iter().map(|r| r.0).filter(ChangeRow::has_changes).collect();
    (rows, population)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(n: usize, edges: &[(u32, u32)]) -> FollowGraph {
        let (src, dst): (Vec<u32>, Vec<u32>) = edges.iter().copied().unzip();
        FollowGraph::build(n, src, dst, None)
    }

    #[test]
    fn a_broken_mutual_and_a_new_follow() {
        // P: 0↔1, 2→0.  C: 0→1 (1 unfollowed 0), 2→0, 0→2 (0 followed back).
        let p = graph(3, &[(0, 1), (1, 0), (2, 0)]);
        let c = graph(3, &[(0, 1), (2, 0), (0, 2)]);
        let id: Vec<u32> = (0..3).collect();
        let current = CurrentInUnion { graph: &c, to_union: &id, from_union: &id };
        let (rows, pop) = follow_changes(&current, &p);
        let r0 = rows.iter().find(|r| r.account == 0).unwrap();
        assert_eq!((r0.follows_added, r0.follows_removed), (1, 0));
        assert_eq!((r0.followers_gained, r0.followers_lost), (0, 1));
        assert_eq!((r0.mutuals_gained, r0.mutuals_lost, r0.dropped_after_followback), (1, 1, 1));
        let r1 = rows.iter().find(|r| r.account == 1).unwrap();
        assert_eq!((r1.follows_removed, r1.mutuals_lost, r1.dropped_after_followback), (1, 1, 0));
        assert_eq!((pop.edges_added, pop.edges_removed), (1, 1));
        assert_eq!((pop.mutual_dyads_gained, pop.mutual_dyads_lost), (1, 1));
        assert_eq!(pop.mutual_tie_break_rate, Some(1.0));
        assert_eq!(pop.one_way_tie_break_rate, Some(0.0), "2→0 survived");
    }
}
