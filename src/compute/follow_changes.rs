//! Night-to-night changes of the follow graph: `follow_changes` and the population diff.
//!
//! P is the previous snapshot's cleaned follow graph, C the current one's. Both are compared
//! over the union of their accounts, U'. The current graph keeps its own dense ids: U' extends the run's universe U with the accounts
//! seen only the night before, numbered after U's, so tonight's lists need no remapping.
//! The per-account walk serves one range of accounts at a time, and its sums add up, so the
//! bucketed run (`bucketed.rs`) uses it unchanged.

use rayon::prelude::*;

use super::follow_graph::{EdgeHalf, FollowGraph};
use super::night_diff::{changes_from_diff, NightDiff};
use super::ratio;
use super::universe::Universe;

/// One account's changes (dense id in U'; rows are sorted by key before they are written).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// Tonight's graph over a range of U' ids: accounts `0..accounts` of the range exist
/// tonight (U' ids of tonight's accounts equal their U ids, as U' extends U); the rest were
/// seen only the night before and have no lists tonight.
pub struct Tonight<'a> {
    pub graph: &'a FollowGraph,
    pub accounts: usize,
}

impl Tonight<'_> {
    /// a's followees and followers tonight, ascending.
    pub(super) fn lists(&self, a: usize) -> (&[u32], &[u32]) {
        if a < self.accounts {
            (self.graph.following(a), self.graph.followers(a))
        } else {
            (&[], &[])
        }
    }
}

/// The population diff's sums over a range of accounts: they add up across ranges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangeSums {
    pub edges_added: u64,
    pub edges_removed: u64,
    pub mutual_ends_gained: u64,
    pub mutual_ends_lost: u64,
    pub previous_edges: u64,
    pub previous_mutual_ends: u64,
    pub one_way_broken: u64,
    pub mass_unfollowers: u64,
}

impl ChangeSums {
    pub fn add(&mut self, other: &ChangeSums) {
        self.edges_added += other.edges_added;
        self.edges_removed += other.edges_removed;
        self.mutual_ends_gained += other.mutual_ends_gained;
        self.mutual_ends_lost += other.mutual_ends_lost;
        self.previous_edges += other.previous_edges;
        self.previous_mutual_ends += other.previous_mutual_ends;
        self.one_way_broken += other.one_way_broken;
        self.mass_unfollowers += other.mass_unfollowers;
    }

    /// The population columns, once every account has been added.
    pub fn finish(&self) -> PopulationChanges {
        let p_mutual_dyads = self.previous_mutual_ends / 2;
        let p_asymmetric = self.previous_edges - 2 * p_mutual_dyads;
        let mutual_dyads_lost = self.mutual_ends_lost / 2;
        PopulationChanges {
            edges_added: self.edges_added,
            edges_removed: self.edges_removed,
            mutual_dyads_gained: self.mutual_ends_gained / 2,
            mutual_dyads_lost,
            mutual_tie_break_rate: ratio(mutual_dyads_lost, p_mutual_dyads),
            one_way_tie_break_rate: ratio(self.one_way_broken, p_asymmetric),
            mass_unfollowers: self.mass_unfollowers,
        }
    }
}

/// Elements of sorted `a` that are not in sorted `b`.
fn count_missing(a: &[u32], b: &[u32]) -> u64 {
    a.len() as u64 - common(a, b)
}

/// How many elements sorted, distinct `a` and `b` share: one branch-free merge serves both
/// differences (|a ∖ b| = |a| − common, |b ∖ a| = |b| − common).
fn common(a: &[u32], b: &[u32]) -> u64 {
    let (mut i, mut j, mut shared) = (0, 0, 0u64);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        shared += u64::from(x == y);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    shared
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
    mutual_now: Vec<u32>,
    mutual_before: Vec<u32>,
}

/// Every account's changes (rows with a non-zero count, by index into the graphs) and the
/// population sums. Both graphs cover the same accounts; each account's four sorted lists
/// (followees and followers, tonight and before) are walked as merges: no edge is looked up
/// at random. The in-memory run counts the same from the changed follows (`night_diff.rs`).
pub fn follow_changes(tonight: &Tonight, previous: &FollowGraph) -> (Vec<ChangeRow>, ChangeSums) {
    let n = previous.accounts();
    // Per account: its row, its mutual ends in P, and the one-way P ties it broke.
    let rows: Vec<(ChangeRow, u64, u64)> = (0..n)
        .into_par_iter()
        .map_init(Scratch::default, |s, a| {
            let (now, now_in) = tonight.lists(a);
            let before = previous.following(a);
            let before_in = previous.followers(a);
            intersect(now, now_in, &mut s.mutual_now);
            intersect(before, before_in, &mut s.mutual_before);
            let len = |l: &[u32]| l.len() as u64;
            let (kept, kept_in) = (common(now, before), common(now_in, before_in));
            let mutuals_kept = common(&s.mutual_now, &s.mutual_before);
            let mut row = ChangeRow {
                account: a as u32,
                follows_added: len(now) - kept,
                follows_removed: len(before) - kept,
                followers_gained: len(now_in) - kept_in,
                followers_lost: len(before_in) - kept_in,
                mutuals_gained: len(&s.mutual_now) - mutuals_kept,
                mutuals_lost: len(&s.mutual_before) - mutuals_kept,
                dropped_after_followback: count_missing(&s.mutual_before, now_in),
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
                    while j < now.len() && now[j] < b {
                        j += 1;
                    }
                    kept += u64::from(j < now.len() && now[j] == b);
                }
                kept
            };
            (row, s.mutual_before.len() as u64, one_way - one_way_kept)
        })
        .collect();

    let sum = |f: &(dyn Fn(&(ChangeRow, u64, u64)) -> u64 + Sync)| rows.par_iter().map(f).sum::<u64>();
    let sums = ChangeSums {
        edges_added: sum(&|r| r.0.follows_added),
        edges_removed: sum(&|r| r.0.follows_removed),
        mutual_ends_gained: sum(&|r| r.0.mutuals_gained),
        mutual_ends_lost: sum(&|r| r.0.mutuals_lost),
        previous_edges: previous.edges() as u64,
        previous_mutual_ends: sum(&|r| r.1),
        one_way_broken: sum(&|r| r.2),
        mass_unfollowers: rows.iter().filter(|r| r.0.mass_unfollow).count() as u64,
    };
    let rows = rows.into_iter().map(|r| r.0).filter(ChangeRow::has_changes).collect();
    (rows, sums)
}

/// The comparison with the previous snapshot.
pub struct Changes {
    /// Id keys of tonight's accounts, then of accounts seen only the night before.
    pub keys: Vec<u64>,
    pub rows: Vec<ChangeRow>,
    pub population: PopulationChanges,
    pub duplicates_removed: u64,
}

/// The previous night's cleaned follows in U' ids: tonight's dense ids, then `extra_keys`
/// for accounts seen only then.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreviousNight {
    pub src: Vec<u32>,
    pub dst: Vec<u32>,
    pub extra_keys: Vec<u64>,
}

/// Compares tonight's graph (of `mutual_dyads_tonight` mutual dyads) with the previous
/// night's cleaned follows.
pub fn compare_nights(
    universe: &Universe,
    current: &FollowGraph,
    mutual_dyads_tonight: u64,
    previous: PreviousNight,
) -> Changes {
    let PreviousNight { src, dst, extra_keys } = previous;
    let n = universe.len();
    let all = n + extra_keys.len();
    // Who each account followed the night before: the changes need no followers lists of
    // that night, so it is not transposed.
    let out_only = EdgeHalf { local: src, other: dst, created: None };
    let previous_graph = FollowGraph::from_halves(all, out_only, EdgeHalf::default());
    let tonight = Tonight { graph: current, accounts: n };
    let diff = NightDiff::build(&tonight, &previous_graph);
    let (mut rows, sums) = changes_from_diff(&tonight, &previous_graph, &diff, mutual_dyads_tonight);
    let keys: Vec<u64> = universe.keys().iter().chain(&extra_keys).copied().collect();
    // Accounts seen only before have ids out of key order: sort rows by account_id.
    rows.sort_unstable_by_key(|r| keys[r.account as usize]);
    Changes { keys, rows, population: sums.finish(), duplicates_removed: previous_graph.duplicates_removed }
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
        let (rows, sums) = follow_changes(&Tonight { graph: &c, accounts: 3 }, &p);
        let pop = sums.finish();
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
