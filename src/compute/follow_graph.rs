//! The cleaned follow graph: duplicate follows collapsed, adjacency in CSR form.
//!
//! Each follow is a `u64` key `follower << 32 | followee`; sorting the keys sorts edges by
//! follower, then followee, which is both the dedup order and the out-adjacency layout. A
//! duplicate collapses to one edge with the earliest non-null `created_at`.

use rayon::prelude::*;

use super::NULL_TS;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowGraph {
    /// `offsets[a]..offsets[a + 1]` indexes a's followees in `targets` (ascending).
    pub offsets: Vec<usize>,
    pub targets: Vec<u32>,
    /// created_at of each edge (ns, [`NULL_TS`] if unknown), parallel to `targets`.
    pub created: Vec<i64>,
    /// Followers of each account (in-degree).
    pub in_degree: Vec<u64>,
    /// Rows removed as duplicates of another (follower, followee) row.
    pub duplicates_removed: u64,
}

#[inline]
pub(crate) fn edge_key(src: u32, dst: u32) -> u64 {
    (u64::from(src) << 32) | u64::from(dst)
}

impl FollowGraph {
    /// Builds the graph over `n` accounts from dense edge rows (no self-loops).
    pub fn build(n: usize, src: &[u32], dst: &[u32], created: Option<&[i64]>) -> FollowGraph {
        let mut edges: Vec<(u64, i64)> = (0..src.len())
            .into_par_iter()
            .map(|i| (edge_key(src[i], dst[i]), created.map_or(NULL_TS, |c| c[i])))
            .collect();
        edges.par_sort_unstable_by_key(|e| e.0);

        let mut offsets = vec![0usize; n + 1];
        let mut targets = Vec::with_capacity(edges.len());
        let mut times = Vec::with_capacity(edges.len());
        let mut in_degree = vec![0u64; n];
        let mut i = 0;
        while i < edges.len() {
            let key = edges[i].0;
            let mut earliest = NULL_TS;
            while i < edges.len() && edges[i].0 == key {
                let t = edges[i].1;
                if t != NULL_TS && (earliest == NULL_TS || t < earliest) {
                    earliest = t;
                }
                i += 1;
            }
            let (follower, followee) = ((key >> 32) as usize, key as u32);
            offsets[follower + 1] += 1;
            in_degree[followee as usize] += 1;
            targets.push(followee);
            times.push(earliest);
        }
        for a in 0..n {
            offsets[a + 1] += offsets[a];
        }
        let duplicates_removed = (edges.len() - targets.len()) as u64;
        FollowGraph { offsets, targets, created: times, in_degree, duplicates_removed }
    }

    pub fn accounts(&self) -> usize {
        self.in_degree.len()
    }

    pub fn edges(&self) -> usize {
        self.targets.len()
    }

    /// a's followees, ascending.
    #[inline]
    pub fn following(&self, a: usize) -> &[u32] {
        &self.targets[self.offsets[a]..self.offsets[a + 1]]
    }

    /// created_at of a's follows, parallel to [`Self::following`].
    #[inline]
    pub fn following_created(&self, a: usize) -> &[i64] {
        &self.created[self.offsets[a]..self.offsets[a + 1]]
    }

    /// The position of edge a→b within a's followees, if a follows b.
    #[inline]
    pub fn find(&self, a: usize, b: u32) -> Option<usize> {
        self.following(a).binary_search(&b).ok()
    }

    /// created_at of a→b if a follows b (which may be [`NULL_TS`]).
    #[inline]
    pub fn created_at(&self, a: usize, b: u32) -> Option<i64> {
        self.find(a, b).map(|i| self.following_created(a)[i])
    }

    /// Followers of every account, as CSR (`offsets`, `sources` ascending per account).
    pub fn followers_csr(&self) -> (Vec<usize>, Vec<u32>) {
        let n = self.accounts();
        let mut offsets = vec![0usize; n + 1];
        for (a, &d) in self.in_degree.iter().enumerate() {
            offsets[a + 1] = offsets[a] + d as usize;
        }
        let mut cursor = offsets.clone();
        let mut sources = vec![0u32; self.edges()];
        // Walking followers in ascending order leaves each list sorted.
        for a in 0..n {
            for &b in self.following(a) {
                sources[cursor[b as usize]] = a as u32;
                cursor[b as usize] += 1;
            }
        }
        (offsets, sources)
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
        let g = FollowGraph::build(3, &src, &dst, Some(&ts));
        assert_eq!(g.edges(), 3);
        assert_eq!(g.duplicates_removed, 2);
        assert_eq!(g.created_at(0, 1), Some(5));
        assert_eq!(g.created_at(2, 0), Some(NULL_TS));
        assert_eq!(g.created_at(0, 2), None);
        assert_eq!(g.in_degree, vec![2, 1, 0]);
        let (offsets, sources) = g.followers_csr();
        assert_eq!(&sources[offsets[0]..offsets[1]], &[1, 2]);
    }
}
