//! Grouping rows by a key in two passes that each write within a cache-sized region: the
//! transpose of a CSR, and edge rows grouped by their source.
//!
//! Scattering every row straight to its key's list writes to random places across the
//! whole output, a cache miss per row. Instead, pass 1 moves each row (stably) into its
//! key's partition — a range of a few thousand keys, so each thread appends to a few
//! hundred streams at once — and pass 2 places each partition's rows within it, from a
//! thread's scratch copy, writing only inside that partition's region. Both passes are stable,
//! so a transpose of a sorted CSR comes out sorted. Two passes beat one by close to 2× on a
//! million accounts (docs/benchmarks.md, "Measurements behind the code"). Pass 1 is also offered alone (`Partitioned`), for
//! `sorted_lists.rs` to lay each partition out its own way.

use rayon::prelude::*;

use super::csr::{histogram, split_mut, Grouped, SharedOut};

/// Keys per partition: 2^12 or more, so that there are at most ~4096 partitions.
fn partition_shift(n: usize) -> u32 {
    let per_partition = n.div_ceil(4096).max(1);
    per_partition.next_power_of_two().trailing_zeros().max(12)
}

/// Source ranges with about equal numbers of edges, one per thread.
fn source_ranges(offsets: &[usize]) -> Vec<(usize, usize)> {
    let n = offsets.len() - 1;
    let edges = offsets[n];
    let chunks = rayon::current_num_threads().max(1);
    let bounds: Vec<usize> =
        (0..=chunks).map(|c| offsets.partition_point(|&o| o < edges * c / chunks).min(n)).collect();
    (0..chunks).map(|c| (bounds[c], if c + 1 == chunks { n } else { bounds[c + 1] })).collect()
}

/// The transpose of a CSR (`offsets`, `targets`, `payload`): for each target, its sources in
/// ascending order with the payload of their edge.
pub fn transpose<P: Copy + Send + Sync>(
    offsets: &[usize],
    targets: &[u32],
    payload: &[P],
) -> (Vec<usize>, Vec<u32>, Vec<P>) {
    let n = offsets.len() - 1;
    let ranges = source_ranges(offsets);
    let chunk_keys: Vec<&[u32]> = ranges.iter().map(|&(from, to)| &targets[offsets[from]..offsets[to]]).collect();
    group_in_two_passes(n, &chunk_keys, |c, emit| {
        let (from, to) = ranges[c];
        for a in from..to {
            for e in offsets[a]..offsets[a + 1] {
                emit.push(targets[e], a as u32, payload[e]);
            }
        }
    })
}

/// Groups two columns under `sources[i]` (each < n), stably, into two arrays of their own.
pub fn group_columns_by_source<A, B>(n: usize, sources: &[u32], a: &[A], b: &[B]) -> (Vec<usize>, Vec<A>, Vec<B>)
where
    A: Copy + Send + Sync,
    B: Copy + Send + Sync,
{
    let (chunk_keys, fill) = source_chunks(sources, a, b);
    group_in_two_passes(n, &chunk_keys, fill)
}

/// Pass 1 alone for rows keyed by `sources[i]` (each < n): see [`group_columns_by_source`].
pub(super) fn partition_columns_by_source<A, B>(n: usize, sources: &[u32], a: &[A], b: &[B]) -> Partitioned<A, B>
where
    A: Copy + Send + Sync,
    B: Copy + Send + Sync,
{
    let (chunk_keys, fill) = source_chunks(sources, a, b);
    partition_rows(n, &chunk_keys, fill)
}

/// One chunk of rows per thread, and the pass-1 filler that pushes a chunk's rows.
#[allow(clippy::type_complexity)]
fn source_chunks<'a, A, B>(
    sources: &'a [u32],
    a: &'a [A],
    b: &'a [B],
) -> (Vec<&'a [u32]>, impl Fn(usize, &mut Emit<'_, A, B>) + Sync + 'a)
where
    A: Copy + Sync,
    B: Copy + Sync,
{
    assert!(sources.len() == a.len() && a.len() == b.len());
    let chunk_len = sources.len().div_ceil(rayon::current_num_threads().max(1)).max(1);
    let chunk_keys: Vec<&[u32]> = sources.chunks(chunk_len).collect();
    let fill = move |c: usize, emit: &mut Emit<'_, A, B>| {
        let from = c * chunk_len;
        let to = (from + chunk_len).min(sources.len());
        for ((&s, &x), &y) in sources[from..to].iter().zip(&a[from..to]).zip(&b[from..to]) {
            emit.push(s, x, y);
        }
    };
    (chunk_keys, fill)
}

/// Pass 1's writer for one chunk: appends a row to its key's partition.
pub(super) struct Emit<'a, A, B> {
    cursor: &'a mut [usize],
    shift: u32,
    keys: SharedOut<u32>,
    a: SharedOut<A>,
    b: SharedOut<B>,
}

impl<A, B> Emit<'_, A, B> {
    #[inline]
    fn push(&mut self, key: u32, a: A, b: B) {
        let p = (key >> self.shift) as usize;
        let slot = self.cursor[p];
        self.cursor[p] += 1;
        // SAFETY: each chunk owns a disjoint sub-range of every partition's slots (prefix
        // sums in `group_in_two_passes`), and pushes exactly its own rows' keys: every slot
        // < rows is written exactly once.
        unsafe {
            self.keys.at(slot).write(key);
            self.a.at(slot).write(a);
            self.b.at(slot).write(b);
        }
    }
}

/// Groups rows by key (each < n), stably, carrying two items per row. `chunk_keys[c]` are
/// the keys of chunk c's rows in row order (the chunks in order make up all rows), and
/// `fill(c, emit)` must push exactly those rows, in that order, with their items.
fn group_in_two_passes<A, B>(
    n: usize,
    chunk_keys: &[&[u32]],
    fill: impl Fn(usize, &mut Emit<'_, A, B>) + Sync,
) -> (Vec<usize>, Vec<A>, Vec<B>)
where
    A: Copy + Send + Sync,
    B: Copy + Send + Sync,
{
    let mut rows = partition_rows(n, chunk_keys, fill);
    rows.regions().into_par_iter().for_each_init(PlaceScratch::default, |scratch, mut region| region.place(scratch));
    (rows.offsets, rows.a, rows.b)
}

/// Rows after pass 1: each moved, stably, into the partition of its key (a range of
/// `1 << shift` keys), with the offsets its key's list will have once grouped.
pub(super) struct Partitioned<A, B> {
    shift: u32,
    /// `offsets[k]..offsets[k + 1]`: the rows of key k once grouped (and its partition's
    /// rows are `partition_start[p]..partition_start[p + 1]`).
    pub(super) offsets: Vec<usize>,
    partition_start: Vec<usize>,
    keys: Vec<u32>,
    pub(super) a: Vec<A>,
    pub(super) b: Vec<B>,
}

/// One partition of [`Partitioned`] rows, for pass 2 to lay out in place.
pub(super) struct Region<'a, A, B> {
    /// The partition's first key, and the index of its first row.
    pub(super) first_key: usize,
    pub(super) start: usize,
    /// `offsets[first_key..=last_key + 1]`: absolute.
    pub(super) offsets: &'a [usize],
    /// The key of each row, in pass-1 order.
    pub(super) keys: &'a [u32],
    pub(super) a: &'a mut [A],
    pub(super) b: &'a mut [B],
}

/// Working space of [`Region::place`], reused by one thread.
pub(super) struct PlaceScratch<A, B> {
    a: Vec<A>,
    b: Vec<B>,
    cursor: Vec<usize>,
}

impl<A, B> Default for PlaceScratch<A, B> {
    fn default() -> Self {
        PlaceScratch { a: Vec::new(), b: Vec::new(), cursor: Vec::new() }
    }
}

impl<A: Copy, B: Copy> Region<'_, A, B> {
    /// Where each of the partition's lists starts, relative to the partition.
    pub(super) fn list_starts(&self) -> impl Iterator<Item = usize> + '_ {
        self.offsets[..self.offsets.len() - 1].iter().map(|&o| o - self.start)
    }

    /// Pass 2: lays the partition's rows out by key, stably, within the partition.
    pub(super) fn place(&mut self, scratch: &mut PlaceScratch<A, B>) {
        scratch.a.clear();
        scratch.a.extend_from_slice(self.a);
        scratch.b.clear();
        scratch.b.extend_from_slice(self.b);
        scratch.cursor.clear();
        scratch.cursor.extend(self.list_starts());
        for (i, &k) in self.keys.iter().enumerate() {
            let slot = &mut scratch.cursor[k as usize - self.first_key];
            self.a[*slot] = scratch.a[i];
            self.b[*slot] = scratch.b[i];
            *slot += 1;
        }
    }
}

impl<A: Send, B: Send> Partitioned<A, B> {
    /// Keys per partition.
    pub(super) fn keys_per_partition(&self) -> usize {
        1 << self.shift
    }

    /// The partitions, each with its own rows to rearrange.
    pub(super) fn regions(&mut self) -> Vec<Region<'_, A, B>> {
        let Partitioned { shift, offsets, partition_start, keys, a, b } = self;
        let n = offsets.len() - 1;
        let a_parts = split_mut(a, partition_start);
        let b_parts = split_mut(b, partition_start);
        a_parts
            .into_iter()
            .zip(b_parts)
            .enumerate()
            .map(|(p, (a, b))| {
                let (lo, hi) = (partition_start[p], partition_start[p + 1]);
                let first_key = p << *shift;
                let end_key = ((p + 1) << *shift).min(n);
                Region { first_key, start: lo, offsets: &offsets[first_key..=end_key], keys: &keys[lo..hi], a, b }
            })
            .collect()
    }
}

/// Pass 1 of the grouping: counts each chunk's keys, then moves every row (stably) into its
/// key's partition.
pub(super) fn partition_rows<A, B>(
    n: usize,
    chunk_keys: &[&[u32]],
    fill: impl Fn(usize, &mut Emit<'_, A, B>) + Sync,
) -> Partitioned<A, B>
where
    A: Copy + Send + Sync,
    B: Copy + Send + Sync,
{
    let rows: usize = chunk_keys.iter().map(|k| k.len()).sum();
    let histograms: Vec<Vec<u32>> = chunk_keys.par_iter().map(|keys| histogram(n, keys)).collect();
    let mut offsets = vec![0usize; n + 1];
    for k in 0..n {
        offsets[k + 1] = offsets[k] + histograms.iter().map(|h| h[k] as usize).sum::<usize>();
    }
    let shift = partition_shift(n);
    let partitions = n.div_ceil(1 << shift).max(1);
    let partition_start: Vec<usize> = (0..=partitions).map(|p| offsets[(p << shift).min(n)]).collect();
    // Chunk c's rows of partition p land after chunk c-1's: pass 1 is stable.
    let mut cursors: Vec<Vec<usize>> = Vec::with_capacity(chunk_keys.len());
    let mut next = partition_start[..partitions].to_vec();
    for h in &histograms {
        cursors.push(next.clone());
        for (p, at) in next.iter_mut().enumerate() {
            *at += h[p << shift..((p + 1) << shift).min(n)].iter().map(|&c| c as usize).sum::<usize>();
        }
    }
    drop(histograms);

    let mut a: Vec<A> = Vec::with_capacity(rows);
    let mut b: Vec<B> = Vec::with_capacity(rows);
    let mut keys: Vec<u32> = Vec::with_capacity(rows);
    let (to_a, to_b, to_keys) = (SharedOut(a.as_mut_ptr()), SharedOut(b.as_mut_ptr()), SharedOut(keys.as_mut_ptr()));
    cursors.par_iter_mut().enumerate().for_each(|(c, cursor)| {
        let mut emit = Emit { cursor, shift, keys: to_keys, a: to_a, b: to_b };
        fill(c, &mut emit);
    });
    // SAFETY: all `rows` slots of the three were written above.
    unsafe {
        a.set_len(rows);
        b.set_len(rows);
        keys.set_len(rows);
    }
    Partitioned { shift, offsets, partition_start, keys, a, b }
}

/// Groups `items[i]` under `sources[i]` (each < n), stably.
pub fn group_by_source<T: Copy + Send + Sync>(n: usize, sources: &[u32], items: &[T]) -> Grouped<T> {
    // The second column carries nothing: a vector of `()` allocates nothing.
    let (offsets, items, _) = group_columns_by_source(n, sources, items, &vec![(); items.len()]);
    Grouped { offsets, items }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn regression_no_edges_still_give_one_offset_per_target() {
        let (offsets, sources, _) = transpose::<()>(&[0, 0, 0], &[], &[]);
        assert_eq!((offsets, sources), (vec![0, 0, 0], vec![]));
    }

    #[test]
    fn transpose_lists_sources_in_order() {
        // 0→{1,2}, 1→{2}, 2→{0}
        let (offsets, sources, payload) = transpose(&[0, 2, 3, 4], &[1, 2, 2, 0], &['a', 'b', 'c', 'd']);
        assert_eq!(offsets, vec![0, 1, 2, 4]);
        assert_eq!(sources, vec![2, 0, 0, 1]);
        assert_eq!(payload, vec!['d', 'a', 'b', 'c']);
    }

    #[test]
    fn partitions_are_few_and_cache_sized() {
        assert_eq!(partition_shift(1), 12);
        assert_eq!(partition_shift(1_000_000), 12);
        assert!(41_700_000usize.div_ceil(1 << partition_shift(41_700_000)) <= 4096);
    }

    proptest! {
        #[test]
        fn same_as_listing_every_edge_by_target(
            lists in prop::collection::vec(prop::collection::btree_set(0u32..9000, 0..20), 0..60),
            threads in 1usize..4,
        ) {
            // Targets up to 9000 span three partitions of 4096.
            let n = 9000;
            let mut offsets = vec![0];
            let mut targets = Vec::new();
            for list in &lists {
                targets.extend(list.iter().copied());
                offsets.push(targets.len());
            }
            offsets.resize(n + 1, targets.len());
            let payload: Vec<u64> = (0..targets.len() as u64).collect();
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let (in_offsets, sources, carried) = pool.install(|| transpose(&offsets, &targets, &payload));
            // Every edge in source order, then stably by target: the definition.
            let mut want: Vec<(u32, u32, u64)> =
                (0..n).flat_map(|a| (offsets[a]..offsets[a + 1]).map(move |e| (a, e))).map(|(a, e)| (targets[e], a as u32, e as u64)).collect();
            want.sort_by_key(|w| w.0);
            let got: Vec<(u32, u32, u64)> =
                (0..n).flat_map(|t| (in_offsets[t]..in_offsets[t + 1]).map(move |i| (t as u32, i))).map(|(t, i)| (t, sources[i], carried[i])).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn grouped_columns_are_a_stable_sort_by_source(
            rows in prop::collection::vec((0u32..9000, any::<u16>()), 0..400),
            threads in 1usize..4,
        ) {
            // Sources up to 9000 span three partitions of 4096.
            let n = 9000;
            let sources: Vec<u32> = rows.iter().map(|r| r.0).collect();
            let items: Vec<u16> = rows.iter().map(|r| r.1).collect();
            let positions: Vec<usize> = (0..rows.len()).collect();
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let (offsets, got_items, got_positions) =
                pool.install(|| group_columns_by_source(n, &sources, &items, &positions));
            let mut want: Vec<(u32, u16, usize)> = rows.iter().enumerate().map(|(i, r)| (r.0, r.1, i)).collect();
            want.sort_by_key(|w| w.0);
            let got: Vec<(u32, u16, usize)> = (0..n)
                .flat_map(|s| (offsets[s]..offsets[s + 1]).map(move |i| (s as u32, i)))
                .map(|(s, i)| (s, got_items[i], got_positions[i]))
                .collect();
            prop_assert_eq!(got, want);
        }
    }
}
