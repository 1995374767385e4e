//! Night-to-night changes of the follow graph: `follow_changes` and the population diff.
//!
//! P is the previous snapshot's cleaned follow graph, C the current one's. Both are compared
//! over the union of their accounts, U'. The current graph keeps its own dense ids: U' extends the run's universe U with the accounts
//! seen only the night before, numbered after U's, so tonight's lists need no remapping.
//! The per-account walk serves one range of accounts at a time, and its sums add up, so the
//! bucket kernel (`compute/bucket.rs`) uses it unchanged.

mod night_diff;
mod rows;
mod walk;

use super::follow_graph::{EdgeHalf, FollowGraph};
use super::universe::Universe;
use night_diff::{changes_from_diff, NightDiff};
pub use rows::{is_mass_unfollow, ChangeRow, ChangeSums, PopulationChanges, Tonight, MASS_UNFOLLOW_MIN_FOLLOWING};
pub use walk::follow_changes;

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
