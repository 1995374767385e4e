//! Grouping rows by source into CSR form: a parallel, stable counting sort.
//!
//! Sorting 35M edges by a 64-bit key is the obvious way to build adjacency lists, and the
//! slow one. Rows only need grouping by source (a counting sort: two passes), after which
//! each source's short list is sorted on its own, in cache. The scatter is stable: rows of
//! one source keep input order, so a transpose of a sorted CSR comes out sorted too.

use rayon::prelude::*;

/// Rows grouped by source: `offsets[s]..offsets[s + 1]` indexes source s's items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grouped<T> {
    pub offsets: Vec<usize>,
    pub items: Vec<T>,
}

/// A pointer that may be written from several threads at disjoint indices.
#[derive(Clone, Copy)]
pub(super) struct SharedOut<T>(pub(super) *mut T);
// SAFETY: every use writes disjoint indices (see `group_by_source`).
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

/// From per-chunk histograms (chunks in input order): the CSR offsets, and each histogram
/// turned into its chunk's starting position within every key's slots. Chunk c's rows of a
/// key land after chunk c−1's: the scatter is stable, and needs no atomics.
fn offsets_and_cursors(n: usize, histograms: &mut [Vec<u32>]) -> Vec<usize> {
    let mut offsets = vec![0usize; n + 1];
    for key in 0..n {
        let mut at = offsets[key];
        for h in histograms.iter_mut() {
            let count = h[key] as usize;
            h[key] = (at - offsets[key]) as u32;
            at += count;
        }
        offsets[key + 1] = at;
    }
    offsets
}

/// Groups `items[i]` under `sources[i]` (each < n), stably.
pub fn group_by_source<T: Copy + Send + Sync>(n: usize, sources: &[u32], items: &[T]) -> Grouped<T> {
    assert_eq!(sources.len(), items.len());
    group_rows_by_source(n, sources, |row| items[row])
}

/// Groups the item `make(i)` of each row i under `sources[i]`, stably: the item is built where
/// it is written, so columns need not be zipped into an array of items first.
pub fn group_rows_by_source<T: Send + Sync>(n: usize, sources: &[u32], make: impl Fn(usize) -> T + Sync) -> Grouped<T> {
    let rows = sources.len();
    let mut out: Vec<T> = Vec::with_capacity(rows);
    let target = SharedOut(out.as_mut_ptr());
    // SAFETY: `place_by_source` hands out every slot < rows exactly once.
    let offsets = place_by_source(n, sources, |row, slot| unsafe { target.at(slot).write(make(row)) });
    // SAFETY: all `rows` slots were written above.
    unsafe { out.set_len(rows) };
    Grouped { offsets, items: out }
}

/// Groups two columns under `sources[i]`, stably, into two arrays: no array of pairs, and
/// the grouped columns can become a CSR's own.
pub fn group_columns_by_source<A, B>(n: usize, sources: &[u32], a: &[A], b: &[B]) -> (Vec<usize>, Vec<A>, Vec<B>)
where
    A: Copy + Send + Sync,
    B: Copy + Send + Sync,
{
    assert!(sources.len() == a.len() && a.len() == b.len());
    let rows = sources.len();
    let (mut out_a, mut out_b): (Vec<A>, Vec<B>) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    let (to_a, to_b) = (SharedOut(out_a.as_mut_ptr()), SharedOut(out_b.as_mut_ptr()));
    // SAFETY: `place_by_source` hands out every slot < rows exactly once.
    let offsets = place_by_source(n, sources, |row, slot| unsafe {
        to_a.at(slot).write(a[row]);
        to_b.at(slot).write(b[row]);
    });
    // SAFETY: all `rows` slots of both were written above.
    unsafe {
        out_a.set_len(rows);
        out_b.set_len(rows);
    }
    (offsets, out_a, out_b)
}

/// The counting sort itself: calls `place(row, slot)` once for every row, with every slot
/// < rows handed out exactly once, rows of one source in input order; returns the offsets.
fn place_by_source(n: usize, sources: &[u32], place: impl Fn(usize, usize) + Sync) -> Vec<usize> {
    let rows = sources.len();
    let chunks = rayon::current_num_threads().max(1).min(rows.max(1));
    let chunk_len = rows.div_ceil(chunks).max(1);

    // Per-chunk histograms: no atomics, and chunk c's rows of source s land after chunk c-1's.
    let mut histograms: Vec<Vec<u32>> = sources.par_chunks(chunk_len).map(|part| histogram(n, part)).collect();
    let offsets = offsets_and_cursors(n, &mut histograms);
    sources.par_chunks(chunk_len).enumerate().zip(histograms.par_iter_mut()).for_each(|((chunk, part), cursor)| {
        for (i, &s) in part.iter().enumerate() {
            // Slots of source s are offsets[s]..offsets[s+1]; each chunk owns its own
            // sub-range of them (prefix sums above), and within a chunk the cursor only
            // increases: every slot < rows is handed out exactly once.
            let slot = offsets[s as usize] + cursor[s as usize] as usize;
            cursor[s as usize] += 1;
            place(chunk * chunk_len + i, slot);
        }
    });
    offsets
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
