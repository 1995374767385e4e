//! Dense ids for whole in-memory columns in one hashing pass over the occurrences.
//!
//! Finding the distinct ids and then looking every occurrence up again costs two random
//! probes per occurrence into a table of every account. Here every thread numbers its share
//! of each column in one table they share ([`SlotTable`]): a key's provisional number is the
//! slot it sits in, written straight into the output. One table of 8-byte keys is half the
//! size of a table per thread of 16-byte slots, and stays in a last-level cache that the two
//! did not (docs/benchmarks.md). Once every column is through, the keys are sorted
//! into the universe, and one pass turns each slot into the dense id through a table of 4
//! bytes per slot.
//! The result is exactly [`Universe::from_columns`] and [`Universe::dense`]; dense ids do not
//! depend on how the columns were split.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use rayon::prelude::*;

use super::key_table::{home_slot, prefetch_line, PREFETCH_AHEAD};
use super::universe::Universe;

/// Marks an empty slot. The key `u64::MAX` itself lives outside the slots, in slot `cap`.
const EMPTY: u64 = u64::MAX;

/// The most a table is filled before it grows: linear probing stays short below it.
const MAX_LOAD_PERCENT: usize = 70;

/// How the table starts and when it grows.
#[derive(Debug, Clone, Copy)]
struct Sizing {
    /// log2 of the first table's slot count.
    initial_bits: u32,
    /// The fewest rows worth a round: with less room than that left, the table grows first.
    min_round: usize,
}

impl Sizing {
    const DEFAULT: Sizing = Sizing { initial_bits: 16, min_round: 1 << 14 };
}

/// An insert-only set of keys that threads fill together; a key's slot never moves until
/// the table grows, which happens only between rounds, when no thread is numbering.
struct SlotTable {
    slots: Vec<AtomicU64>,
    /// 64 − log2(slot count): the hash's top bits pick the slot.
    shift: u32,
    /// Keys in the slots, as of the last round.
    len: usize,
    /// Whether `u64::MAX` was met (it is numbered `cap`, outside the slots).
    max_key: bool,
}

impl SlotTable {
    fn with_bits(bits: u32) -> Self {
        SlotTable {
            slots: (0..1usize << bits).map(|_| AtomicU64::new(EMPTY)).collect(),
            shift: 64 - bits,
            len: 0,
            max_key: false,
        }
    }

    fn cap(&self) -> usize {
        self.slots.len()
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        home_slot(key, self.shift)
    }

    #[inline]
    fn prefetch(&self, key: u64) {
        prefetch_line(&self.slots[self.home(key)]);
    }

    /// The slot of `key`, which is inserted if new (`true` then).
    #[inline]
    fn slot_of(&self, key: u64) -> (u32, bool) {
        if key == EMPTY {
            return (self.cap() as u32, false);
        }
        let mask = self.cap() - 1;
        let mut at = self.home(key);
        loop {
            let held = self.slots[at].load(Relaxed);
            if held == key {
                return (at as u32, false);
            }
            if held == EMPTY {
                match self.slots[at].compare_exchange(EMPTY, key, Relaxed, Relaxed) {
                    Ok(_) => return (at as u32, true),
                    Err(now) if now == key => return (at as u32, false),
                    Err(_) => {}
                }
            }
            at = (at + 1) & mask;
        }
    }

    /// Numbers `keys` into `out` with a one-entry cache (exports are often clustered by
    /// follower or actor); returns how many keys were new, and whether `u64::MAX` was among them.
    fn number(&self, keys: &[u64], out: &mut [u32]) -> (usize, bool) {
        let (mut last_key, mut last, mut new, mut max_key) = (None, 0u32, 0usize, false);
        for (i, (&k, o)) in keys.iter().zip(out.iter_mut()).enumerate() {
            if let Some(&ahead) = keys.get(i + PREFETCH_AHEAD) {
                self.prefetch(ahead);
            }
            if last_key != Some(k) {
                let (slot, inserted) = self.slot_of(k);
                new += usize::from(inserted);
                max_key |= k == EMPTY;
                last = slot;
                last_key = Some(k);
            }
            *o = last;
        }
        (new, max_key)
    }

    /// Rows that may be numbered before the load is checked again.
    fn room(&self) -> usize {
        (self.cap() * MAX_LOAD_PERCENT / 100).saturating_sub(self.len)
    }

    /// A table twice the size, and where each slot of this one (and `cap`) moved.
    fn grow(&self) -> (SlotTable, Vec<u32>) {
        let bits = 64 - self.shift + 1;
        // Slots (and `cap`) are numbered in `u32`: past 2^31 slots (a 16 GB table, ~1.5
        // billion accounts) a run must be bucketed (`--buckets`), not held in memory.
        assert!(bits <= 31, "more distinct ids than one in-memory run can number; run it in buckets");
        let mut bigger = SlotTable::with_bits(bits);
        let mut moved = vec![u32::MAX; self.cap() + 1];
        for (at, slot) in self.slots.iter().enumerate() {
            let key = slot.load(Relaxed);
            if key != EMPTY {
                moved[at] = bigger.slot_of(key).0;
            }
        }
        moved[self.cap()] = bigger.cap() as u32;
        bigger.len = self.len;
        bigger.max_key = self.max_key;
        (bigger, moved)
    }
}

/// Rows per thread's share of a round of `len` rows (four shares a thread measured no
/// better).
fn share(len: usize, threads: usize) -> usize {
    len.div_ceil(threads).max(1)
}

/// The universe of `columns` and `extra` (keys that count but need no dense column, such as
/// the accounts table's), and each column's dense ids. Each column is freed as soon as it
/// has been numbered, so at most one raw column is held beside the dense ones.
pub fn universe_and_dense(columns: Vec<Vec<u64>>, extra: &[u64]) -> (Universe, Vec<Vec<u32>>) {
    number_columns(columns, extra, Sizing::DEFAULT)
}

fn number_columns(columns: Vec<Vec<u64>>, extra: &[u64], sizing: Sizing) -> (Universe, Vec<Vec<u32>>) {
    let threads = rayon::current_num_threads().max(1);
    let mut table = SlotTable::with_bits(sizing.initial_bits);
    let mut numbered: Vec<Vec<u32>> = Vec::with_capacity(columns.len() + 1);
    let mut inputs: Vec<Vec<u64>> = columns;
    inputs.push(extra.to_vec());
    let column_count = inputs.len();
    for column in inputs {
        let mut out = vec![0u32; column.len()];
        let mut done = 0;
        while done < column.len() {
            if table.room() < sizing.min_round.min(column.len() - done) {
                let (bigger, moved) = table.grow();
                table = bigger;
                let renumber = |ids: &mut [u32]| ids.par_iter_mut().for_each(|id| *id = moved[*id as usize]);
                numbered.iter_mut().for_each(|c| renumber(c));
                renumber(&mut out[..done]);
            }
            let end = column.len().min(done + table.room());
            let rows = share(end - done, threads);
            let (new, max_key) = column[done..end]
                .par_chunks(rows)
                .zip(out[done..end].par_chunks_mut(rows))
                .map(|(keys, out)| table.number(keys, out))
                .reduce(|| (0, false), |a, b| (a.0 + b.0, a.1 || b.1));
            table.len += new;
            table.max_key |= max_key;
            done = end;
        }
        drop(column);
        numbered.push(out);
    }
    // Slot → dense id: the held keys in order.
    let mut held: Vec<(u64, u32)> = table
        .slots
        .par_iter()
        .enumerate()
        .filter_map(|(at, slot)| {
            let key = slot.load(Relaxed);
            (key != EMPTY).then_some((key, at as u32))
        })
        .collect();
    if table.max_key {
        held.push((EMPTY, table.cap() as u32));
    }
    held.par_sort_unstable_by_key(|&(key, _)| key);
    let mut dense_of_slot = vec![u32::MAX; table.cap() + 1];
    for (id, &(_, slot)) in held.iter().enumerate() {
        dense_of_slot[slot as usize] = id as u32;
    }
    drop(table);
    let universe = Universe::from_sorted_keys(held.into_iter().map(|(key, _)| key).collect());
    numbered.truncate(column_count - 1);
    // Each gather reads the slot → id table (4 bytes a slot) at random: prefetched like the
    // probes (docs/benchmarks.md).
    for out in &mut numbered {
        out.par_chunks_mut(1 << 16).for_each(|ids| {
            for i in 0..ids.len() {
                if let Some(&ahead) = ids.get(i + PREFETCH_AHEAD) {
                    prefetch_line(&dense_of_slot[ahead as usize]);
                }
                ids[i] = dense_of_slot[ids[i] as usize];
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

    #[test]
    fn tables_grow_mid_column_and_the_largest_key_is_an_account() {
        let column: Vec<u64> =
            (0..200_000u64).map(|i| i.wrapping_mul(0x2545_F491_4F6C_DD1D)).chain([u64::MAX, 0]).collect();
        let (u, dense) = universe_and_dense(vec![column.clone(), vec![u64::MAX, 7]], &[]);
        let want = Universe::from_columns(&[&column, &[u64::MAX, 7]]);
        assert_eq!(u.keys(), want.keys());
        assert_eq!(dense[0], want.dense(&column));
        assert_eq!(dense[1], want.dense(&[u64::MAX, 7]));
    }

    proptest! {
        #[test]
        fn same_as_finding_the_universe_then_mapping(
            columns in prop::collection::vec(prop::collection::vec(0u64..3000, 0..3000), 0..5),
            extra in prop::collection::vec(0u64..80, 0..10),
            threads in 1usize..4,
            initial_bits in 1u32..12,
            min_round in 1usize..200,
        ) {
            // Small tables and rounds: the table grows many times, mid-column and between
            // columns, while threads insert into it together.
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let sizing = Sizing { initial_bits, min_round };
            let (u, dense) = pool.install(|| number_columns(columns.clone(), &extra, sizing));
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
