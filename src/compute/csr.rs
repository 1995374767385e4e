//! Adjacency lists in CSR form: rows grouped by source, and the list-wise edits on them.
//!
//! Sorting 35M edges by a 64-bit key is the obvious way to build adjacency lists, and the
//! slow one. Rows only need grouping by source (a stable counting sort, `grouping.rs`), and
//! lists sorted by target are sorted a cache-sized partition of sources at a time
//! (`sorted_lists.rs`).

/// Rows grouped by source: `offsets[s]..offsets[s + 1]` indexes source s's items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grouped<T> {
    pub offsets: Vec<usize>,
    pub items: Vec<T>,
}

/// A pointer that may be written from several threads at disjoint indices.
#[derive(Clone, Copy)]
pub(super) struct SharedOut<T>(pub(super) *mut T);
// SAFETY: every use writes disjoint indices (see `grouping.rs`).
unsafe impl<T: Send> Send for SharedOut<T> {}
unsafe impl<T: Send> Sync for SharedOut<T> {}

impl<T> SharedOut<T> {
    /// Through a method, so closures capture the (Send) wrapper, not the raw pointer field.
    pub(super) fn at(&self, index: usize) -> *mut T {
        // SAFETY: callers stay within the allocation (index < its capacity).
        unsafe { self.0.add(index) }
    }
}

/// How many of `keys` (each < n) fall on each key.
pub(super) fn histogram(n: usize, keys: &[u32]) -> Vec<u32> {
    let mut h = vec![0u32; n];
    for &k in keys {
        h[k as usize] += 1;
    }
    h
}

/// Keeps the first `kept[s]` items of each list of `column`, in place: lists slide down over
/// the dropped tails (no second copy of the column). Returns the new offsets.
pub fn keep_list_prefixes<T: Copy>(offsets: &[usize], kept: &[usize], column: &mut Vec<T>) -> Vec<usize> {
    let mut new_offsets = Vec::with_capacity(offsets.len());
    new_offsets.push(0);
    let mut at = 0;
    for (s, &k) in kept.iter().enumerate() {
        let from = offsets[s];
        if from != at {
            column.copy_within(from..from + k, at);
        }
        at += k;
        new_offsets.push(at);
    }
    column.truncate(at);
    new_offsets
}

/// `data` cut into one mutable slice per source, by `offsets`.
pub fn split_mut<'a, T>(data: &'a mut [T], offsets: &[usize]) -> Vec<&'a mut [T]> {
    let mut lists = Vec::with_capacity(offsets.len().saturating_sub(1));
    let mut rest = data;
    for w in offsets.windows(2) {
        let (list, tail) = std::mem::take(&mut rest).split_at_mut(w[1] - w[0]);
        lists.push(list);
        rest = tail;
    }
    lists
}

/// Offsets of lists with the given lengths.
pub fn offsets_of(lengths: &[usize]) -> Vec<usize> {
    let mut offsets = Vec::with_capacity(lengths.len() + 1);
    offsets.push(0);
    let mut at = 0;
    for &len in lengths {
        at += len;
        offsets.push(at);
    }
    offsets
}

impl<T: Send + Sync> Grouped<T> {
    /// Each source's items as a mutable slice, for per-source work in parallel.
    pub fn lists_mut(&mut self) -> Vec<&mut [T]> {
        split_mut(&mut self.items, &self.offsets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::grouping::{group_by_source, group_columns_by_source};
    use proptest::prelude::*;

    #[test]
    fn regression_no_rows_still_give_one_offset_per_source() {
        let g = group_by_source::<u8>(3, &[], &[]);
        assert_eq!(g.offsets, vec![0, 0, 0, 0]);
    }

    #[test]
    fn groups_stably() {
        let g = group_by_source(3, &[2, 0, 2, 1, 0], &['a', 'b', 'c', 'd', 'e']);
        assert_eq!(g.offsets, vec![0, 2, 3, 5]);
        assert_eq!(g.items, vec!['b', 'e', 'd', 'a', 'c']);
    }

    #[test]
    fn columns_group_like_pairs_and_keep_prefixes() {
        let (offsets, a, b) =
            group_columns_by_source(3, &[2, 0, 2, 1, 0], &[1, 2, 3, 4, 5], &['a', 'b', 'c', 'd', 'e']);
        assert_eq!((&offsets, &a, &b), (&vec![0, 2, 3, 5], &vec![2, 5, 4, 1, 3], &vec!['b', 'e', 'd', 'a', 'c']));
        let (mut a, mut b) = (a, b);
        let kept = [1, 0, 2];
        assert_eq!(keep_list_prefixes(&offsets, &kept, &mut a), vec![0, 1, 1, 3]);
        assert_eq!(keep_list_prefixes(&offsets, &kept, &mut b), vec![0, 1, 1, 3]);
        assert_eq!((a, b), (vec![2, 1, 3], vec!['b', 'a', 'c']));
    }

    #[test]
    fn grouped_lists_keep_their_prefixes() {
        let (offsets, mut a, mut b) =
            group_columns_by_source(2, &[0, 0, 1, 1, 1], &[1, 2, 3, 4, 5], &[10, 20, 30, 40, 50]);
        let offsets_a = keep_list_prefixes(&offsets, &[1, 2], &mut a);
        let offsets_b = keep_list_prefixes(&offsets, &[1, 2], &mut b);
        assert_eq!(offsets_a, vec![0, 1, 3]);
        assert_eq!(offsets_a, offsets_b);
        assert_eq!(a, vec![1, 3, 4]);
        assert_eq!(b, vec![10, 30, 40]);
    }

    proptest! {
        #[test]
        fn matches_a_stable_sort(rows in prop::collection::vec((0u32..20, any::<u16>()), 0..500)) {
            let (sources, items): (Vec<u32>, Vec<u16>) = rows.iter().copied().unzip();
            let g = group_by_source(20, &sources, &items);
            let mut expected = rows.clone();
            expected.sort_by_key(|r| r.0);
            prop_assert_eq!(g.items, expected.iter().map(|r| r.1).collect::<Vec<_>>());
        }
    }
}
