//! The night-to-night changes counted from the follows that changed, not from both graphs.
//!
//! Tonight's lists and the previous night's followees give the added and the removed
//! follows (a few percent of the graph). Every count of `follow_changes` is a question about
//! one account's changed follows and its own lists tonight, so the previous night's
//! followers lists are never built, and an account without changes costs nothing. The merge
//! walk over both graphs (`follow_changes.rs`) stays the reference, and the bucketed runs'.

use rayon::prelude::*;

use super::rows::{is_mass_unfollow, ChangeRow, ChangeSums, Tonight};
use crate::compute::csr::Grouped;
use crate::compute::follow_graph::FollowGraph;
use crate::compute::grouping::group_by_source;

/// The follows added since the previous night and those removed since, each listed by
/// follower and by followee (ascending), over the accounts of both nights.
pub struct NightDiff {
    added_out: Grouped<u32>,
    removed_out: Grouped<u32>,
    added_in: Grouped<u32>,
    removed_in: Grouped<u32>,
}

/// One account's changed follows: whom it started and stopped following, and who started
/// and stopped following it.
struct Changed<'a> {
    added_out: &'a [u32],
    removed_out: &'a [u32],
    added_in: &'a [u32],
    removed_in: &'a [u32],
}

impl NightDiff {
    /// Compares each account's followees tonight with the night before (`previous` needs
    /// only its followees lists).
    pub fn build(tonight: &Tonight, previous: &FollowGraph) -> NightDiff {
        let n = previous.accounts();
        // (follower, followee) of every added and every removed follow, followers ascending
        // (folds keep account order), followees ascending within a follower.
        let parts: Vec<[Vec<u32>; 4]> = (0..n)
            .into_par_iter()
            .with_min_len(1 << 12)
            .fold(
                || [Vec::new(), Vec::new(), Vec::new(), Vec::new()],
                |mut acc, a| {
                    let (now, before) = (tonight.lists(a).0, previous.following(a));
                    let (added_at, removed_at) = (acc[1].len(), acc[3].len());
                    push_missing(now, before, &mut acc[1]);
                    push_missing(before, now, &mut acc[3]);
                    let (added, removed) = (acc[1].len() - added_at, acc[3].len() - removed_at);
                    acc[0].extend(std::iter::repeat_n(a as u32, added));
                    acc[2].extend(std::iter::repeat_n(a as u32, removed));
                    acc
                },
            )
            .collect();
        let column = |i: usize| parts.iter().flat_map(|p| p[i].iter().copied()).collect::<Vec<u32>>();
        let (added_followers, added_followees) = (column(0), column(1));
        let (removed_followers, removed_followees) = (column(2), column(3));
        // Grouping is stable, so lists by followee come out with their followers ascending
        // (the binary searches rely on it).
        let diff = NightDiff {
            added_out: group_by_source(n, &added_followers, &added_followees),
            removed_out: group_by_source(n, &removed_followers, &removed_followees),
            added_in: group_by_source(n, &added_followees, &added_followers),
            removed_in: group_by_source(n, &removed_followees, &removed_followers),
        };
        debug_assert!([&diff.added_out, &diff.removed_out, &diff.added_in, &diff.removed_in]
            .iter()
            .all(|g| g.offsets.windows(2).all(|w| g.items[w[0]..w[1]].windows(2).all(|p| p[0] < p[1]))));
        diff
    }

    fn of(&self, a: usize) -> Changed<'_> {
        fn list(g: &Grouped<u32>, a: usize) -> &[u32] {
            &g.items[g.offsets[a]..g.offsets[a + 1]]
        }
        Changed {
            added_out: list(&self.added_out, a),
            removed_out: list(&self.removed_out, a),
            added_in: list(&self.added_in, a),
            removed_in: list(&self.removed_in, a),
        }
    }
}

/// Elements of sorted `a` that are not in sorted `b`, appended to `out`.
fn push_missing(a: &[u32], b: &[u32], out: &mut Vec<u32>) {
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j == b.len() || b[j] != x {
            out.push(x);
        }
    }
}

fn has(sorted: &[u32], x: u32) -> bool {
    sorted.binary_search(&x).is_ok()
}

/// One account's row and the one-way ties of the previous night it broke.
fn account_changes(a: usize, now: &[u32], now_in: &[u32], c: &Changed) -> (ChangeRow, u64) {
    let len = |l: &[u32]| l.len() as u64;
    // a→b and b→a the night before, from tonight's lists and the changes.
    let followed_before = |b: u32| (has(now, b) && !has(c.added_out, b)) || has(c.removed_out, b);
    let followed_by_before = |b: u32| (has(now_in, b) && !has(c.added_in, b)) || has(c.removed_in, b);
    let count = |list: &[u32], keep: &dyn Fn(u32) -> bool| list.iter().filter(|&&b| keep(b)).count() as u64;
    // A mutual tie that is new has at least one new follow, and one that is gone has lost
    // one: pairs found through a's own new (lost) follow are not counted again through b's.
    let mutuals_gained =
        count(c.added_out, &|b| has(now_in, b)) + count(c.added_in, &|b| has(now, b) && !has(c.added_out, b));
    let mutuals_lost = count(c.removed_out, &followed_by_before)
        + count(c.removed_in, &|b| !has(c.removed_out, b) && followed_before(b));
    let following_prev = len(now) - len(c.added_out) + len(c.removed_out);
    let follows_removed = len(c.removed_out);
    let row = ChangeRow {
        account: a as u32,
        follows_added: len(c.added_out),
        follows_removed,
        followers_gained: len(c.added_in),
        followers_lost: len(c.removed_in),
        mutuals_gained,
        mutuals_lost,
        // b stopped following a (b→a was removed) while a→b stood the night before.
        dropped_after_followback: count(c.removed_in, &followed_before),
        following_prev,
        mass_unfollow: is_mass_unfollow(following_prev, follows_removed),
    };
    // One-way ties of the previous night (a→b without b→a) that a no longer has.
    let one_way_broken = count(c.removed_out, &|b| !followed_by_before(b));
    (row, one_way_broken)
}

/// Every account's changes (rows with a non-zero count, ascending by index into the graphs)
/// and the population sums. `mutual_dyads_tonight` is tonight's count of mutual dyads; the
/// previous night's count follows from it and the mutual ties gained and lost.
pub fn changes_from_diff(
    tonight: &Tonight,
    previous: &FollowGraph,
    diff: &NightDiff,
    mutual_dyads_tonight: u64,
) -> (Vec<ChangeRow>, ChangeSums) {
    let n = previous.accounts();
    let parts: Vec<(Vec<ChangeRow>, ChangeSums)> = (0..n)
        .into_par_iter()
        .with_min_len(1 << 12)
        .fold(
            || (Vec::new(), ChangeSums::default()),
            |(mut rows, mut sums), a| {
                let changed = diff.of(a);
                let untouched = [changed.added_out, changed.removed_out, changed.added_in, changed.removed_in]
                    .iter()
                    .all(|l| l.is_empty());
                if !untouched {
                    let (now, now_in) = tonight.lists(a);
                    let (row, one_way_broken) = account_changes(a, now, now_in, &changed);
                    sums.edges_added += row.follows_added;
                    sums.edges_removed += row.follows_removed;
                    sums.mutual_ends_gained += row.mutuals_gained;
                    sums.mutual_ends_lost += row.mutuals_lost;
                    sums.one_way_broken += one_way_broken;
                    sums.mass_unfollowers += u64::from(row.mass_unfollow);
                    rows.push(row);
                }
                (rows, sums)
            },
        )
        .collect();
    let mut sums = ChangeSums::default();
    for (_, part) in &parts {
        sums.add(part);
    }
    sums.previous_edges = previous.edges() as u64;
    // Mutual ties of the previous night: tonight's, less those gained, plus those lost.
    sums.previous_mutual_ends = 2 * mutual_dyads_tonight + sums.mutual_ends_lost - sums.mutual_ends_gained;
    let rows = parts.into_iter().flat_map(|(rows, _)| rows).collect();
    (rows, sums)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::follow_changes::follow_changes;
    use crate::compute::follow_graph::EdgeHalf;

    fn graph(n: usize, edges: &[(u32, u32)]) -> FollowGraph {
        let (src, dst): (Vec<u32>, Vec<u32>) = edges.iter().copied().unzip();
        FollowGraph::build(n, src, dst, None)
    }

    fn mutual_dyads(g: &FollowGraph) -> u64 {
        (0..g.accounts())
            .map(|a| g.following(a).iter().filter(|&&b| g.find(b as usize, a as u32).is_some()).count() as u64)
            .sum::<u64>()
            / 2
    }

    /// Many accounts, so that the comparison runs in several parallel chunks whose results
    /// must come back in account order.
    #[test]
    fn counts_over_many_chunks_equal_the_walk_over_both_graphs() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(11);
        let n = 30_000u32;
        let mut edges = |count: usize, hi: u32| -> Vec<(u32, u32)> {
            (0..count).map(|_| (rng.random_range(0..hi), rng.random_range(0..hi))).filter(|(a, b)| a != b).collect()
        };
        let (before, now) = (edges(150_000, n + 50), edges(150_000, n));
        let (p, c) = (graph(n as usize + 50, &before), graph(n as usize, &now));
        let tonight = Tonight { graph: &c, accounts: n as usize };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let found = pool.install(|| {
            let diff = NightDiff::build(&tonight, &p);
            changes_from_diff(&tonight, &p, &diff, mutual_dyads(&c))
        });
        assert!(found.0.len() > 20_000, "most accounts changed: {}", found.0.len());
        assert_eq!(found, follow_changes(&tonight, &p));
    }

    proptest::proptest! {
        /// Every row and sum equals the merge walk's over both whole graphs.
        #[test]
        fn counts_from_the_changes_equal_the_walk_over_both_graphs(
            before in proptest::collection::vec((0u32..12, 0u32..12), 0..80),
            now in proptest::collection::vec((0u32..10, 0u32..10), 0..80),
        ) {
            let clean = |e: Vec<(u32, u32)>| e.into_iter().filter(|(a, b)| a != b).collect::<Vec<_>>();
            let (p, c) = (graph(12, &clean(before.clone())), graph(10, &clean(now)));
            let tonight = Tonight { graph: &c, accounts: 10 };
            let expected = follow_changes(&tonight, &p);

            let (src, dst): (Vec<u32>, Vec<u32>) = clean(before).into_iter().unzip();
            let out_only = FollowGraph::from_halves(12, EdgeHalf { local: src, other: dst, created: None }, EdgeHalf::default());
            let diff = NightDiff::build(&tonight, &out_only);
            let found = changes_from_diff(&tonight, &out_only, &diff, mutual_dyads(&c));
            proptest::prop_assert_eq!(found, expected);
        }
    }
}
