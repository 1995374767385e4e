//! Dense ids for whole in-memory columns in one hashing pass over the occurrences.
//!
//! Finding the distinct ids and then looking every occurrence up again costs two random
//! probes per occurrence into a table of every account. Here each thread ("lane") numbers
//! the ids of its share of every column in order of first sight, in a table of its own, and
//! writes those provisional numbers straight into the output. Once every column is through,
//! the lanes' keys are merged and sorted into the universe, and one sequential pass turns each
//! provisional number into the dense id through a small per-lane table (4 bytes per key).
//! A lane's table is a [`KeyTable`], so that each row prefetches the slot of a row ahead.
//! The result is exactly [`Universe::from_columns`] and [`Universe::dense`]; dense ids do not
//! depend on how the columns were split.

use rayon::prelude::*;

use super::key_table::{KeyTable, PREFETCH_AHEAD};
use super::universe::Universe;

/// One thread's numbering of the keys it has seen.
#[derive(Default)]
struct Lane {
    numbers: KeyTable,
    /// Keys in order of their provisional number.
    keys: Vec<u64>,
}

impl Lane {
    /// Numbers `keys` into `out`, with a one-entry cache: exports are often clustered by
    /// follower or actor.
    fn number(&mut self, keys: &[u64], out: &mut [u32]) {
        let Lane { numbers, keys: seen } = self;
        let (mut last_key, mut last) = (None, 0u32);
        for (i, (&k, o)) in keys.iter().zip(out.iter_mut()).enumerate() {
            if let Some(&ahead) = keys.get(i + PREFETCH_AHEAD) {
                numbers.prefetch(ahead);
            }
            if last_key != Some(k) {
                last = numbers.number_or_insert(k, seen.len() as u32);
                if last as usize == seen.len() {
                    seen.push(k);
                }
                last_key = Some(k);
            }
            *o = last;
        }
    }
}

/// Rows per lane's share of a column of `len` rows.
fn share(len: usize, lanes: usize) -> usize {
    len.div_ceil(lanes).max(1)
}

/// The universe of `columns` and `extra` (keys that count but need no dense column, such as
/// the accounts table's), and each column's dense ids. Each column is freed as soon as it
/// has been numbered, so at most one raw column is held beside the dense ones.
pub fn universe_and_dense(columns: Vec<Vec<u64>>, extra: &[u64]) -> (Universe, Vec<Vec<u32>>) {
    let lane_count = rayon::current_num_threads().max(1);
    let mut lanes: Vec<Lane> = (0..lane_count).map(|_| Lane::default()).collect();
    let mut numbered: Vec<Vec<u32>> = Vec::with_capacity(columns.len());
    for column in columns {
        let mut out = vec![0u32; column.len()];
        let rows = share(column.len(), lane_count);
        lanes
            .par_iter_mut()
            .zip(column.par_chunks(rows).zip(out.par_chunks_mut(rows)))
            .for_each(|(lane, (keys, out))| lane.number(keys, out));
        numbered.push(out);
    }
    let mut keys: Vec<u64> = Vec::with_capacity(lanes.iter().map(|l| l.keys.len()).sum::<usize>() + extra.len());
    for lane in &lanes {
        keys.extend_from_slice(&lane.keys);
    }
    keys.extend_from_slice(extra);
    keys.par_sort_unstable();
    keys.dedup();
    let universe = Universe::from_sorted_keys(keys);
    // Provisional number → dense id, per lane.
    let dense_of: Vec<Vec<u32>> = lanes
        .into_par_iter()
        .map(|lane| {
            drop(lane.numbers);
            universe.dense(&lane.keys)
        })
        .collect();
    for out in &mut numbered {
        let rows = share(out.len(), lane_count);
        out.par_chunks_mut(rows).zip(&dense_of).for_each(|(out, dense)| {
            for id in out {
                *id = dense[*id as usize];
            }
        });
    }
    (universe, numbered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn extra_keys_join_the_universe_without_a_column() {
        let (u, dense) = universe_and_dense(vec![vec![30, 10], vec![20, 30]], &[5, 10]);
        assert_eq!(u.keys(), &[5, 10, 20, 30]);
        assert_eq!(dense, vec![vec![3, 1], vec![2, 3]]);
    }

    proptest! {
        #[test]
        fn same_as_finding_the_universe_then_mapping(
            columns in prop::collection::vec(prop::collection::vec(0u64..3000, 0..3000), 0..5),
            extra in prop::collection::vec(0u64..80, 0..10),
            threads in 1usize..4,
        ) {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let (u, dense) = pool.install(|| universe_and_dense(columns.clone(), &extra));
            let mut slices: Vec<&[u64]> = columns.iter().map(Vec::as_slice).collect();
            slices.push(&extra);
            let want = Universe::from_columns(&slices);
            prop_assert_eq!(u.keys(), want.keys());
            for (got, column) in dense.iter().zip(&columns) {
                prop_assert_eq!(got, &want.dense(column));
            }
        }
    }
}
