//! The cleaned follow graph: duplicate follows collapsed, adjacency both ways in CSR form.
//!
//! Built by grouping edges by follower with each list sorted by followee
//! (`sorted_lists.rs`), then de-duplicating each list while it is in cache: a duplicate
//! collapses to one edge with the earliest non-null `created_at`. The followers side is the
//! transpose, stable, so every list in both directions is sorted by account — the
//! per-account pass walks them as sorted merges instead of looking edges up.

use super::csr::keep_list_prefixes;
use super::grouping::transpose;
use super::sorted_lists::{group_sorted_lists, SortedLists};
use super::NULL_TS;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowGraph {
    /// `offsets[a]..offsets[a + 1]` indexes a's followees in `targets` (ascending).
    pub offsets: Vec<usize>,
    pub targets: Vec<u32>,
    /// created_at of each edge a→b (ns, [`NULL_TS`] if unknown), parallel to `targets`.
    pub created: Vec<i64>,
    /// `in_offsets[b]..in_offsets[b + 1]` indexes b's followers in `sources` (ascending).
    pub in_offsets: Vec<usize>,
    pub sources: Vec<u32>,
    /// created_at of each edge a→b, parallel to `sources`.
    pub in_created: Vec<i64>,
    /// Followers of each account (in-degree).
    pub in_degree: Vec<u64>,
    /// Rows removed as duplicates of another (follower, followee) row.
    pub duplicates_removed: u64,
}

/// Earlier of two created_at values, where null loses to any time.
#[inline]
fn earliest(a: i64, b: i64) -> i64 {
    match (a, b) {
        (NULL_TS, t) | (t, NULL_TS) => t,
        (a, b) => a.min(b),
    }
}

/// Collapses the runs of equal followees of a sorted list to their earliest time; returns
/// the number of distinct followees, now at the front of the list.
fn collapse_earliest(targets: &mut [u32], times: &mut [i64]) -> usize {
    let mut kept = 0;
    for i in 0..targets.len() {
        if kept > 0 && targets[kept - 1] == targets[i] {
            times[kept - 1] = earliest(times[kept - 1], times[i]);
        } else {
            targets[kept] = targets[i];
            times[kept] = times[i];
            kept += 1;
        }
    }
    kept
}

/// One CSR side: offsets, neighbours, created_at (empty when untimed).
type Csr = (Vec<usize>, Vec<u32>, Vec<i64>);

/// One half of a bucket's follow rows: the bucket's own account (local id) on one side, the
/// other account (global id) on the other, with created_at if timed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EdgeHalf {
    pub local: Vec<u32>,
    pub other: Vec<u32>,
    pub created: Option<Vec<i64>>,
}

/// Groups `dst` by `src`, each list sorted and collapsed to the earliest time.
/// Takes the columns by value so each is freed as soon as it has been used. The grouped
/// columns become the CSR's own: duplicates are squeezed out in place, not gathered anew.
fn group_earliest(n: usize, src: Vec<u32>, dst: Vec<u32>, created: Vec<i64>) -> Csr {
    let SortedLists { offsets, mut targets, payload: mut times, finished: kept } =
        group_sorted_lists(n, &src, &dst, &created, collapse_earliest);
    drop((dst, created, src));
    keep_list_prefixes(&offsets, &kept, &mut times);
    (keep_list_prefixes(&offsets, &kept, &mut targets), targets, times)
}

/// Groups `dst` by `src`, each list sorted and distinct.
fn group_distinct(n: usize, src: Vec<u32>, dst: Vec<u32>) -> (Vec<usize>, Vec<u32>) {
    let no_times = vec![(); src.len()];
    let SortedLists { offsets, mut targets, finished: kept, .. } =
        group_sorted_lists(n, &src, &dst, &no_times, |list, _| {
            let mut kept = 0;
            for i in 0..list.len() {
                if kept == 0 || list[kept - 1] != list[i] {
                    list[kept] = list[i];
                    kept += 1;
                }
            }
            kept
        });
    drop((dst, src));
    (keep_list_prefixes(&offsets, &kept, &mut targets), targets)
}

impl FollowGraph {
    /// Builds the graph over `n` accounts from dense edge rows (no self-loops).
    /// Takes the columns by value so each is freed as soon as it has been used. Without
    /// `created` the graph carries no times at all (the `*_created` lists are empty), which
    /// halves the data moved: the previous night's graph needs only who follows whom.
    pub fn build(n: usize, src: Vec<u32>, dst: Vec<u32>, created: Option<Vec<i64>>) -> FollowGraph {
        let rows = src.len();
        let Some(created) = created else {
            let (offsets, targets) = group_distinct(n, src, dst);
            let no_times = vec![(); targets.len()];
            let (in_offsets, sources, _) = transpose(&offsets, &targets, &no_times);
            return Self::assemble(rows, (offsets, targets, Vec::new()), (in_offsets, sources, Vec::new()));
        };
        let (offsets, targets, created) = group_earliest(n, src, dst, created);
        // The transpose: followers of b, ascending, each with the time of its follow.
        let (in_offsets, sources, in_created) = transpose(&offsets, &targets, &created);
        Self::assemble(rows, (offsets, targets, created), (in_offsets, sources, in_created))
    }

    /// Builds the graph of a range of `n` accounts (one bucket) from both halves of its rows:
    /// `out` holds the follows its accounts made (local follower, global followee),
    /// `inward` the follows they received (local followee, global follower). Neighbour ids
    /// stay global; each list is exactly what [`Self::build`] gives that account.
    pub fn from_halves(n: usize, out: EdgeHalf, inward: EdgeHalf) -> FollowGraph {
        let rows = out.local.len();
        let grouped = |half: EdgeHalf| match half.created {
            Some(created) => group_earliest(n, half.local, half.other, created),
            None => {
                let (offsets, others) = group_distinct(n, half.local, half.other);
                (offsets, others, Vec::new())
            }
        };
        Self::assemble(rows, grouped(out), grouped(inward))
    }

    fn assemble(rows: usize, out: Csr, inward: Csr) -> FollowGraph {
        let ((offsets, targets, created), (in_offsets, sources, in_created)) = (out, inward);
        let in_degree = in_offsets.windows(2).map(|w| (w[1] - w[0]) as u64).collect();
        let duplicates_removed = (rows - targets.len()) as u64;
        FollowGraph { offsets, targets, created, in_offsets, sources, in_created, in_degree, duplicates_removed }
    }

    pub fn accounts(&self) -> usize {
        self.in_degree.len()
    }

    /// Frees the edges' times (the `*_created` lists are empty from now on).
    pub fn forget_times(&mut self) {
        self.created = Vec::new();
        self.in_created = Vec::new();
    }

    pub fn edges(&self) -> usize {
        self.targets.len()
    }

    /// a's followees, ascending.
    #[inline]
    pub fn following(&self, a: usize) -> &[u32] {
        &self.targets[self.offsets[a]..self.offsets[a + 1]]
    }

    /// created_at of a's follows, parallel to [`Self::following`] (empty if built untimed).
    #[inline]
    pub fn following_created(&self, a: usize) -> &[i64] {
        if self.created.is_empty() {
            return &[];
        }
        &self.created[self.offsets[a]..self.offsets[a + 1]]
    }

    /// b's followers, ascending.
    #[inline]
    pub fn followers(&self, b: usize) -> &[u32] {
        &self.sources[self.in_offsets[b]..self.in_offsets[b + 1]]
    }

    /// created_at of the follows of b, parallel to [`Self::followers`] (empty if untimed).
    #[inline]
    pub fn followers_created(&self, b: usize) -> &[i64] {
        if self.in_created.is_empty() {
            return &[];
        }
        &self.in_created[self.in_offsets[b]..self.in_offsets[b + 1]]
    }

    /// The position of edge a→b within a's followees, if a follows b.
    #[inline]
    pub fn find(&self, a: usize, b: u32) -> Option<usize> {
        self.following(a).binary_search(&b).ok()
    }

    /// created_at of a→b if a follows b (which may be [`NULL_TS`]; always so if untimed).
    #[inline]
    pub fn created_at(&self, a: usize, b: u32) -> Option<i64> {
        self.find(a, b).map(|i| self.following_created(a).get(i).copied().unwrap_or(NULL_TS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_keep_the_earliest_known_time() {
        // 0→1 three times (null, 7, 5), 1→0 once, 2→0 once.
        let src = [0, 0, 0, 1, 2];
        let dst = [1, 1, 1, 0, 0];
        let ts = [NULL_TS, 7, 5, 9, NULL_TS];
        let g = FollowGraph::build(3, src.to_vec(), dst.to_vec(), Some(ts.to_vec()));
        assert_eq!(g.edges(), 3);
        assert_eq!(g.duplicates_removed, 2);
        assert_eq!(g.created_at(0, 1), Some(5));
        assert_eq!(g.created_at(2, 0), Some(NULL_TS));
        assert_eq!(g.created_at(0, 2), None);
        assert_eq!(g.in_degree, vec![2, 1, 0]);
        assert_eq!(g.followers(0), &[1, 2]);
        assert_eq!(g.followers_created(0), &[9, NULL_TS]);
        assert_eq!(g.followers_created(1), &[5]);
    }

    #[test]
    fn untimed_graphs_have_the_same_lists() {
        let (src, dst) = (vec![0, 0, 0, 1, 2], vec![1, 1, 2, 0, 0]);
        let timed = FollowGraph::build(3, src.clone(), dst.clone(), Some(vec![NULL_TS; 5]));
        let untimed = FollowGraph::build(3, src, dst, None);
        assert_eq!((&timed.offsets, &timed.targets), (&untimed.offsets, &untimed.targets));
        assert_eq!((&timed.in_offsets, &timed.sources), (&untimed.in_offsets, &untimed.sources));
        assert_eq!(untimed.duplicates_removed, 1);
        assert_eq!(untimed.created_at(0, 1), Some(NULL_TS));
    }

    proptest::proptest! {
        #[test]
        fn a_bucket_s_graph_holds_exactly_the_whole_graph_s_lists(
            edges in proptest::collection::vec((0u32..30, 0u32..30, -3i64..3), 0..200),
            count in 1usize..6,
        ) {
            let edges: Vec<_> = edges.into_iter().filter(|e| e.0 != e.1).collect();
            let n = 30;
            let whole = FollowGraph::build(
                n,
                edges.iter().map(|e| e.0).collect(),
                edges.iter().map(|e| e.1).collect(),
                Some(edges.iter().map(|e| if e.2 == 0 { NULL_TS } else { e.2 }).collect()),
            );
            let buckets = crate::compute::buckets::Buckets::new(n, count);
            let mut duplicates = 0;
            for k in 0..count {
                let range = buckets.range(k);
                let half = |own: fn(&(u32, u32, i64)) -> u32, other: fn(&(u32, u32, i64)) -> u32| {
                    let rows: Vec<_> = edges.iter().filter(|e| range.contains(&(own(e) as usize))).collect();
                    EdgeHalf {
                        local: rows.iter().map(|e| own(e) - range.start as u32).collect(),
                        other: rows.iter().map(|e| other(e)).collect(),
                        created: Some(rows.iter().map(|e| if e.2 == 0 { NULL_TS } else { e.2 }).collect()),
                    }
                };
                let part = FollowGraph::from_halves(range.len(), half(|e| e.0, |e| e.1), half(|e| e.1, |e| e.0));
                duplicates += part.duplicates_removed;
                for (i, a) in range.enumerate() {
                    proptest::prop_assert_eq!(part.following(i), whole.following(a));
                    proptest::prop_assert_eq!(part.following_created(i), whole.following_created(a));
                    proptest::prop_assert_eq!(part.followers(i), whole.followers(a));
                    proptest::prop_assert_eq!(part.followers_created(i), whole.followers_created(a));
                }
            }
            proptest::prop_assert_eq!(duplicates, whole.duplicates_removed);
        }
    }
}
