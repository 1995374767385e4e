//! Night-to-night changes of the follow graph: `follow_changes` and the population diff.
//!
//! P is the previous snapshot's cleaned follow graph, C the current one's. Both are compared
//! over the union of their accounts, U' (sorted keys, so dense order is still id order); the
//! current graph keeps its own dense ids (the run's universe U ⊆ U') and is looked at through
//! a monotonic remap, so its adjacency lists stay sorted without being rebuilt.

use rayon::prelude::*;

use super::clean::EdgeRows;
use super::follow_graph::FollowGraph;
use super::ratio;
use super::universe::Universe;

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
    /// U id → U' id (monotonic, so mapped lists stay sorted).
    pub to_union: &'a [u32],
    /// U' id → U id, or u32::MAX if the account is not in the current universe.
    pub from_union: &'a [u32],
}

impl CurrentInUnion<'_> {
    /// a's followees and followers tonight, in U' ids, ascending.
    fn lists(&self, a: u32, following: &mut Vec<u32>, followers: &mut Vec<u32>) {
        following.clear();
        followers.clear();
        let local = self.from_union[a as usize];
        if local != u32::MAX {
            following.extend(self.graph.following(local as usize).iter().map(|&b| self.to_union[b as usize]));
            followers.extend(self.graph.followers(local as usize).iter().map(|&b| self.to_union[b as usize]));
        }
    }
}

/// Elements of sorted `a` that are not in sorted `b`.
fn count_missing(a: &[u32], b: &[u32]) -> u64 {
    let (mut j, mut missing) = (0, 0);
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        missing += u64::from(j == b.len() || b[j] != x);
    }
    missing
}

/// Sorted intersection of sorted `a` and `b`.
fn intersect(a: &[u32], b: &[u32], out: &mut Vec<u32>) {
    out.clear();
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j < b.len() && b[j] == x {
            out.push(x);
        }
    }
}

#[derive(Default)]
struct Scratch {
    now: Vec<u32>,
    now_in: Vec<u32>,
    mutual_now: Vec<u32>,
    mutual_before: Vec<u32>,
}

/// Every account's changes (rows with a non-zero count, by U' id) and the population diff.
/// Each account's four sorted lists (followees and followers, tonight and before) are
/// walked as merges: no edge is looked up at random.
pub fn follow_changes(current: &CurrentInUnion, previous: &FollowGraph) -> (Vec<ChangeRow>, PopulationChanges) {
    let n = previous.accounts();
    // Per account: its row, its mutual ends in P, and the one-way P ties it broke.
    let rows: Vec<(ChangeRow, u64, u64)> = (0..n as u32)
        .into_par_iter()
        .map_init(Scratch::default, |s, a| {
            current.lists(a, &mut s.now, &mut s.now_in);
            let (before, before_in) = (previous.following(a as usize), previous.followers(a as usize));
            intersect(&s.now, &s.now_in, &mut s.mutual_now);
            intersect(before, before_in, &mut s.mutual_before);
            let mut row = ChangeRow {
                account: a,
                follows_added: count_missing(&s.now, before),
                follows_removed: count_missing(before, &s.now),
                followers_gained: count_missing(&s.now_in, before_in),
                followers_lost: count_missing(before_in, &s.now_in),
                mutuals_gained: count_missing(&s.mutual_now, &s.mutual_before),
                mutuals_lost: count_missing(&s.mutual_before, &s.mutual_now),
                dropped_after_followback: count_missing(&s.mutual_before, &s.now_in),
                following_prev: before.len() as u64,
                mass_unfollow: false,
            };
            row.mass_unfollow =
                row.following_prev >= MASS_UNFOLLOW_MIN_FOLLOWING && 10 * row.follows_removed >= 9 * row.following_prev;
            // One-way ties of P from a's side (a→b, no b→a) that a no longer has: |before ∖
            // mutual_before| − |(before ∖ mutual_before) ∩ now|.
            let one_way = before.len() as u64 - s.mutual_before.len() as u64;
            let one_way_kept = {
                let (mut j, mut k, mut kept) = (0, 0, 0u64);
                for &b in before {
                    while k < s.mutual_before.len() && s.mutual_before[k] < b {
                        k += 1;
                    }
                    if k < s.mutual_before.len() && s.mutual_before[k] == b {
                        continue;
                    }
                    while j < s.now.len() && s.now[j] < b {
                        j += 1;
                    }
                    kept += u64::from(j < s.now.len() && s.now[j] == b);
                }
                kept
            };
            (row, s.mutual_before.len() as u64, one_way - one_way_kept)
        })
        .collect();

    let sum = |f: &(dyn Fn(&(ChangeRow, u64, u64)) -> u64 + Sync)| rows.par_iter().map(f).sum::<u64>();
    let p_edges = previous.edges() as u64;
    let p_mutual_dyads = sum(&|r| r.1) / 2;
    let p_asymmetric = p_edges - 2 * p_mutual_dyads;
    let mutual_dyads_lost = sum(&|r| r.0.mutuals_lost) / 2;
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

/// The comparison with the previous snapshot.
pub struct Changes {
    /// Id keys of tonight's accounts, then of accounts seen only the night before.
    pub keys: Vec<u64>,
    pub rows: Vec<ChangeRow>,
    pub population: PopulationChanges,
    pub duplicates_removed: u64,
}

/// Compares tonight's graph with the previous night's cleaned follows.
pub fn compare_nights(universe: &Universe, current: &FollowGraph, previous: &EdgeRows) -> Changes {
    // Tonight's ids serve the previous night too; accounts seen only then get ids after them.
    let (mut dense, extra_keys) = universe.dense_or_extend(&[&previous.src, &previous.dst]);
    let (dst, src) = (dense.pop().expect("two columns"), dense.pop().expect("two columns"));
    let n = universe.len();
    let all = n + extra_keys.len();
    let to_union: Vec<u32> = (0..n as u32).collect();
    let from_union: Vec<u32> = (0..all).map(|a| if a < n { a as u32 } else { u32::MAX }).collect();
    let previous_graph = FollowGraph::build(all, src, dst, None);
    let current = CurrentInUnion { graph: current, to_union: &to_union, from_union: &from_union };
    let (mut rows, population) = follow_changes(&current, &previous_graph);
    let keys: Vec<u64> = universe.keys().iter().chain(&extra_keys).copied().collect();
    // Accounts seen only before have ids out of key order: sort rows by account_id.
    rows.sort_unstable_by_key(|r| keys[r.account as usize]);
    Changes { keys, rows, population, duplicates_removed: previous_graph.duplicates_removed }
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
