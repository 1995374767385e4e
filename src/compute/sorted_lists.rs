//! Rows grouped by source with each list sorted by target, sorted a partition at a time.
//!
//! Grouping by source and then comparison-sorting each short list costs a mispredicted
//! branch or two per comparison, and a second trip through memory for every list. Here pass
//! 1 of the grouping (`grouping.rs`) moves rows into partitions of a few thousand sources,
//! and each partition — a few MB, in cache — is then sorted whole by (source, target) with
//! an LSD radix sort on one packed `u64` per row: the source within the partition, the
//! target and the row's place in the partition. A radix sort is stable, so equal pairs keep
//! row order. Each list is then handed to `finish` (collapsing duplicates, say) while still
//! in cache. Rows whose packed fields would not fit 64 bits (over ~2^30 accounts) are laid
//! out by source and comparison-sorted list by list instead, with the same result.

use rayon::prelude::*;

use super::grouping::{partition_columns_by_source, PlaceScratch, Region};

/// Lists grouped by source and sorted by target, as `finish` left them: source s's items
/// are `offsets[s]..offsets[s + 1]`.
pub struct SortedLists<B> {
    pub offsets: Vec<usize>,
    pub targets: Vec<u32>,
    pub payload: Vec<B>,
    /// What `finish` returned for each list (for instance how many items it kept at the
    /// front).
    pub finished: Vec<usize>,
}

/// Bits needed to write every value below `bound` (at least 1).
fn bits_below(bound: u64) -> u32 {
    (u64::BITS - bound.saturating_sub(1).leading_zeros()).max(1)
}

/// Digit width of the radix passes: 2048 counters stay in L1.
const DIGIT_BITS: u32 = 11;

/// Sorts `data` stably by its bits `low..high` (LSD), using `spare` as the other buffer;
/// a digit that every value shares is skipped.
fn radix_sort_bits(data: &mut Vec<u64>, spare: &mut Vec<u64>, low: u32, high: u32) {
    let mut shift = low;
    let mut counts = vec![0usize; 1 << DIGIT_BITS];
    while shift < high {
        let width = (high - shift).min(DIGIT_BITS);
        let mask = (1u64 << width) - 1;
        counts[..1 << width].fill(0);
        for &x in data.iter() {
            counts[((x >> shift) & mask) as usize] += 1;
        }
        if !counts[..1 << width].contains(&data.len()) {
            let mut at = 0;
            for c in &mut counts[..1 << width] {
                let here = *c;
                *c = at;
                at += here;
            }
            spare.clear();
            spare.resize(data.len(), 0);
            for &x in data.iter() {
                let slot = &mut counts[((x >> shift) & mask) as usize];
                spare[*slot] = x;
                *slot += 1;
            }
            std::mem::swap(data, spare);
        }
        shift += width;
    }
}

/// Scratch of one thread: packed rows, the radix sort's second buffer, a copy of payloads,
/// and the fallback's placement space.
struct Scratch<B> {
    packed: Vec<u64>,
    spare: Vec<u64>,
    payload: Vec<B>,
    place: PlaceScratch<u32, B>,
}

impl<B> Default for Scratch<B> {
    fn default() -> Self {
        Scratch { packed: Vec::new(), spare: Vec::new(), payload: Vec::new(), place: PlaceScratch::default() }
    }
}

/// Lays out one partition's rows sorted by (source, target), ties in row order. Returns
/// false, having done nothing, if its rows do not pack into 64 bits.
fn sort_region<B: Copy>(region: &mut Region<'_, u32, B>, target_bits: u32, scratch: &mut Scratch<B>) -> bool {
    let rows = region.keys.len();
    let source_bits = bits_below((region.offsets.len() - 1) as u64);
    let row_bits = bits_below(rows as u64);
    if source_bits + target_bits + row_bits > 64 {
        return false;
    }
    let Scratch { packed, spare, payload, .. } = scratch;
    packed.clear();
    packed.extend(region.keys.iter().zip(region.a.iter()).enumerate().map(|(i, (&k, &t))| {
        (((k as usize - region.first_key) as u64) << (target_bits + row_bits)) | (u64::from(t) << row_bits) | i as u64
    }));
    radix_sort_bits(packed, spare, row_bits, row_bits + target_bits + source_bits);
    payload.clear();
    payload.extend_from_slice(region.b);
    let (target_mask, row_mask) = ((1u64 << target_bits) - 1, (1u64 << row_bits) - 1);
    for ((&p, t), b) in packed.iter().zip(region.a.iter_mut()).zip(region.b.iter_mut()) {
        *t = ((p >> row_bits) & target_mask) as u32;
        *b = payload[(p & row_mask) as usize];
    }
    true
}

/// The fallback of [`sort_region`]: rows placed by source, then each list sorted by target
/// as packed (target, place in list) integers.
fn place_then_sort_lists<B: Copy>(region: &mut Region<'_, u32, B>, scratch: &mut Scratch<B>) {
    let Scratch { packed, payload, place, .. } = scratch;
    region.place(place);
    let starts: Vec<usize> = region.list_starts().chain([region.a.len()]).collect();
    for w in starts.windows(2) {
        let (list, times) = (&mut region.a[w[0]..w[1]], &mut region.b[w[0]..w[1]]);
        packed.clear();
        packed.extend(list.iter().enumerate().map(|(i, &t)| (u64::from(t) << 32) | i as u64));
        packed.sort_unstable();
        payload.clear();
        payload.extend_from_slice(times);
        for ((&p, t), b) in packed.iter().zip(list.iter_mut()).zip(times.iter_mut()) {
            *t = (p >> 32) as u32;
            *b = payload[(p as u32) as usize];
        }
    }
}

/// Groups `targets` and `payload` under `sources[i]` (each < n), each list sorted by target
/// with equal targets in row order, then hands each list to `finish` while it is in cache
/// (to edit in place; what it returns is kept per list).
pub fn group_sorted_lists<B>(
    n: usize,
    sources: &[u32],
    targets: &[u32],
    payload: &[B],
    finish: impl Fn(&mut [u32], &mut [B]) -> usize + Sync,
) -> SortedLists<B>
where
    B: Copy + Send + Sync,
{
    let target_bits = bits_below(u64::from(targets.par_iter().copied().max().unwrap_or(0)) + 1);
    sorted_lists_with(n, sources, targets, payload, finish, target_bits)
}

fn sorted_lists_with<B>(
    n: usize,
    sources: &[u32],
    targets: &[u32],
    payload: &[B],
    finish: impl Fn(&mut [u32], &mut [B]) -> usize + Sync,
    target_bits: u32,
) -> SortedLists<B>
where
    B: Copy + Send + Sync,
{
    let mut rows = partition_columns_by_source(n, sources, targets, payload);
    let mut finished = vec![0usize; n];
    let per_partition = rows.keys_per_partition();
    let regions = rows.regions();
    regions.into_par_iter().zip(finished.par_chunks_mut(per_partition)).for_each_init(
        Scratch::default,
        |scratch, (mut region, finished)| {
            if !sort_region(&mut region, target_bits, scratch) {
                place_then_sort_lists(&mut region, scratch);
            }
            let starts: Vec<usize> = region.list_starts().chain([region.a.len()]).collect();
            for (w, result) in starts.windows(2).zip(finished.iter_mut()) {
                *result = finish(&mut region.a[w[0]..w[1]], &mut region.b[w[0]..w[1]]);
            }
        },
    );
    SortedLists { offsets: rows.offsets, targets: rows.a, payload: rows.b, finished }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn radix_sort_is_stable_on_the_bits_it_sorts() {
        // Sorted on bits 4..8 only: the low nibble (the "row") keeps its order among equals.
        let mut data = vec![0x31, 0x12, 0x33, 0x14, 0x05];
        radix_sort_bits(&mut data, &mut Vec::new(), 4, 8);
        assert_eq!(data, vec![0x05, 0x12, 0x14, 0x31, 0x33]);
    }

    #[test]
    fn bits_cover_every_value_below_the_bound() {
        assert_eq!((bits_below(0), bits_below(1), bits_below(2), bits_below(3)), (1, 1, 1, 2));
        assert_eq!((bits_below(1 << 20), bits_below((1 << 20) + 1)), (20, 21));
    }

    fn naive(n: usize, rows: &[(u32, u32, u16)]) -> Vec<Vec<(u32, u16)>> {
        let mut lists = vec![Vec::new(); n];
        for &(s, t, x) in rows {
            lists[s as usize].push((t, x));
        }
        for list in &mut lists {
            list.sort_by_key(|e| e.0);
        }
        lists
    }

    proptest! {
        #[test]
        fn lists_are_a_stable_sort_by_target_then_finished(
            rows in prop::collection::vec((0u32..9000, 0u32..5000, any::<u16>()), 0..600),
            threads in 1usize..4,
            packed in any::<bool>(),
        ) {
            // Sources up to 9000 span three partitions of 4096; `packed: false` forces the
            // list-by-list fallback.
            let n = 9000;
            let (sources, rest): (Vec<u32>, Vec<(u32, u16)>) = rows.iter().map(|r| (r.0, (r.1, r.2))).unzip();
            let (targets, payload): (Vec<u32>, Vec<u16>) = rest.into_iter().unzip();
            let target_bits = if packed { bits_below(5000) } else { 64 };
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            // finish keeps the first item of each run of equal targets.
            let got = pool.install(|| sorted_lists_with(n, &sources, &targets, &payload, |t, p| {
                let mut kept = 0;
                for i in 0..t.len() {
                    if kept == 0 || t[kept - 1] != t[i] {
                        t[kept] = t[i];
                        p[kept] = p[i];
                        kept += 1;
                    }
                }
                kept
            }, target_bits));
            for (s, want) in naive(n, &rows).into_iter().enumerate() {
                let mut want = want;
                want.dedup_by_key(|e| e.0);
                let at = got.offsets[s];
                let list: Vec<(u32, u16)> = (at..at + got.finished[s]).map(|i| (got.targets[i], got.payload[i])).collect();
                prop_assert_eq!(list, want);
            }
        }
    }
}
