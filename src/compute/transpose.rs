//! The transpose of a CSR, in two passes that each write within a cache-sized region.
//!
//! Scattering every edge straight to its target's list writes to random places across the
//! whole output, a cache miss per edge. Instead, pass 1 moves each edge (stably) into its
//! target's partition — a range of a few thousand targets, so each thread appends to a few
//! hundred streams at once — and pass 2 places each partition's edges within it, from a
//! thread's scratch copy, writing only inside that partition's region. Both passes are stable,
//! so a transpose of a sorted CSR comes out sorted. Measured on 38M synthetic edges over 1M
//! accounts: 0.72-0.79 s in one pass, 0.41-0.46 s in two.

use rayon::prelude::*;

use super::csr::{histogram, SharedOut};

/// Targets per partition: 2^12 or more, so that there are at most ~4096 partitions.
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
pub fn transpose<P: Copy + Default + Send + Sync>(
    offsets: &[usize],
    targets: &[u32],
    payload: &[P],
) -> (Vec<usize>, Vec<u32>, Vec<P>) {
    let n = offsets.len() - 1;
    let edges = targets.len();
    let ranges = source_ranges(offsets);
    let histograms: Vec<Vec<u32>> =
        ranges.par_iter().map(|&(from, to)| histogram(n, &targets[offsets[from]..offsets[to]])).collect();
    let mut in_offsets = vec![0usize; n + 1];
    for t in 0..n {
        in_offsets[t + 1] = in_offsets[t] + histograms.iter().map(|h| h[t] as usize).sum::<usize>();
    }
    let shift = partition_shift(n);
    let partitions = n.div_ceil(1 << shift).max(1);
    let partition_start: Vec<usize> = (0..=partitions).map(|p| in_offsets[(p << shift).min(n)]).collect();
    // Chunk c's edges of partition p land after chunk c-1's: pass 1 is stable.
    let mut cursors: Vec<Vec<usize>> = Vec::with_capacity(ranges.len());
    let mut next = partition_start[..partitions].to_vec();
    for h in &histograms {
        cursors.push(next.clone());
        for (p, at) in next.iter_mut().enumerate() {
            *at += h[p << shift..((p + 1) << shift).min(n)].iter().map(|&c| c as usize).sum::<usize>();
        }
    }
    drop(histograms);

    let mut sources: Vec<u32> = Vec::with_capacity(edges);
    let mut carried: Vec<P> = Vec::with_capacity(edges);
    let mut partitioned_targets: Vec<u32> = Vec::with_capacity(edges);
    let (out_s, out_p, out_t) =
        (SharedOut(sources.as_mut_ptr()), SharedOut(carried.as_mut_ptr()), SharedOut(partitioned_targets.as_mut_ptr()));
    ranges.par_iter().zip(cursors.par_iter_mut()).for_each(|(&(from, to), cursor)| {
        for a in from..to {
            for e in offsets[a]..offsets[a + 1] {
                let t = targets[e];
                let p = (t >> shift) as usize;
                let slot = cursor[p];
                cursor[p] += 1;
                // SAFETY: each chunk owns a disjoint sub-range of every partition's slots
                // (prefix sums above), and every slot < edges is written exactly once.
                unsafe {
                    out_s.at(slot).write(a as u32);
                    out_p.at(slot).write(payload[e]);
                    out_t.at(slot).write(t);
                }
            }
        }
    });
    // SAFETY: all `edges` slots of the three were written above.
    unsafe {
        sources.set_len(edges);
        carried.set_len(edges);
        partitioned_targets.set_len(edges);
    }

    let (out_s, out_p) = (SharedOut(sources.as_mut_ptr()), SharedOut(carried.as_mut_ptr()));
    (0..partitions).into_par_iter().for_each_init(
        || (Vec::<u32>::new(), Vec::<P>::new(), Vec::<usize>::new()),
        |(scratch_s, scratch_p, cursor), p| {
            let (lo, hi) = (partition_start[p], partition_start[p + 1]);
            let first_target = p << shift;
            // SAFETY: partition p's slots lo..hi are read and written by this task alone.
            let (part_s, part_p) = unsafe {
                (
                    std::slice::from_raw_parts_mut(out_s.at(lo), hi - lo),
                    std::slice::from_raw_parts_mut(out_p.at(lo), hi - lo),
                )
            };
            scratch_s.clear();
            scratch_s.extend_from_slice(part_s);
            scratch_p.clear();
            scratch_p.extend_from_slice(part_p);
            cursor.clear();
            cursor.extend(in_offsets[first_target..((p + 1) << shift).min(n)].iter().map(|&o| o - lo));
            for (i, &t) in partitioned_targets[lo..hi].iter().enumerate() {
                let slot = &mut cursor[t as usize - first_target];
                part_s[*slot] = scratch_s[i];
                part_p[*slot] = scratch_p[i];
                *slot += 1;
            }
        },
    );
    (in_offsets, sources, carried)
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
    }
}
