//! The account universe and the dense ids the kernels work with.
//!
//! The universe is every id in a row that cleaning kept (both sides of follows and
//! interactions) plus every non-null id of the accounts table. Sorted by key, position in the
//! universe is the dense `u32` id — so dense order is account_id order, and every per-account
//! table comes out sorted by account_id for free. Distinct ids are found and mapped with a
//! hash index rather than by sorting every occurrence: there are ~50 id occurrences per
//! account, so hashing the occurrences and sorting only the accounts wins. Runs that hold
//! their inputs whole build the universe and the dense columns in one pass instead
//! (`dense_ids.rs`); this index serves lookups and the streamed, bucketed paths.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use rustc_hash::FxHasher;

use super::key_table::KeyTable;

/// The largest number of accounts the dense `u32` ids can hold.
pub const MAX_ACCOUNTS: usize = u32::MAX as usize;

type FxBuild = BuildHasherDefault<FxHasher>;

#[derive(Debug, Clone, Default)]
pub struct Universe {
    /// Distinct id keys, ascending; index = dense id.
    keys: Vec<u64>,
    /// key → dense id (shared with lookups that run while an input is read), built on first
    /// use: a run without an accounts table or a previous night never asks.
    index: OnceLock<Arc<KeyTable>>,
}

impl PartialEq for Universe {
    fn eq(&self, other: &Self) -> bool {
        self.keys == other.keys
    }
}

/// (row, key) of the ids a lookup did not find, ascending by row.
pub type Missed = [(usize, u64)];

/// Ids outside the universe met so far, numbered after it.
#[derive(Debug, Default)]
pub struct Extension {
    index: HashMap<u64, u32, FxBuild>,
    /// The keys, in order of their ids.
    pub keys: Vec<u64>,
}

impl Extension {
    /// The dense id given to a key outside the universe, if it was met.
    pub fn find(&self, key: u64) -> Option<u32> {
        self.index.get(&key).copied()
    }
}

/// Distinct ids gathered chunk by chunk, for inputs streamed rather than held.
#[derive(Debug, Default)]
pub struct UniverseBuilder {
    distinct: HashSet<u64, FxBuild>,
}

impl UniverseBuilder {
    /// Adds every id of these columns.
    pub fn add(&mut self, columns: &[&[u64]]) {
        const CHUNK: usize = 1 << 20;
        let found: HashSet<u64, FxBuild> = columns
            .par_iter()
            .flat_map(|c| c.par_chunks(CHUNK))
            .fold(HashSet::default, |mut set, chunk| {
                let mut last = None;
                for &k in chunk {
                    if last != Some(k) {
                        set.insert(k);
                        last = Some(k);
                    }
                }
                set
            })
            .reduce(HashSet::default, |a, b| {
                let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
                big.extend(small);
                big
            });
        if self.distinct.len() < found.len() {
            let mine = std::mem::replace(&mut self.distinct, found);
            self.distinct.extend(mine);
        } else {
            self.distinct.extend(found);
        }
    }

    /// The distinct ids, ascending.
    pub fn into_sorted_keys(self) -> Vec<u64> {
        let mut keys: Vec<u64> = self.distinct.into_iter().collect();
        keys.par_sort_unstable();
        keys
    }

    pub fn finish(self) -> Universe {
        Universe::from_sorted_keys(self.into_sorted_keys())
    }
}

impl Universe {
    /// The universe of these distinct keys, ascending.
    pub fn from_sorted_keys(keys: Vec<u64>) -> Universe {
        debug_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        Universe { keys, index: OnceLock::new() }
    }

    fn index(&self) -> &Arc<KeyTable> {
        self.index.get_or_init(|| {
            let mut index = KeyTable::with_capacity(self.keys.len());
            for (i, &k) in self.keys.iter().enumerate() {
                index.number_or_insert(k, i as u32);
            }
            Arc::new(index)
        })
    }

    /// Builds the universe from every id column that counts.
    pub fn from_columns(columns: &[&[u64]]) -> Universe {
        let mut builder = UniverseBuilder::default();
        builder.add(columns);
        builder.finish()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Id keys by dense id.
    pub fn keys(&self) -> &[u64] {
        &self.keys
    }

    /// The dense id of a key, if the key is an account.
    pub fn find(&self, key: u64) -> Option<u32> {
        self.index().get(key)
    }

    /// A lookup to run anywhere, for as long as it is needed: writes each key's dense id, or
    /// `missing` for a key outside the universe, and returns how many were outside.
    pub fn lookup(&self, missing: u32) -> impl Fn(&[u64], &mut [u32]) -> usize + Send + Sync + 'static {
        let index = Arc::clone(self.index());
        move |keys, out| index.lookup_into(keys, out, missing)
    }

    /// Completes dense id columns whose lookups missed: `src_misses` and `dst_misses` list
    /// (row, key) of the rows left `missing`, ascending by row. Keys outside the universe
    /// get ids from `len()` on, in order of first appearance (the sources' misses by row, then
    /// the targets'), and are returned. Rows that cleaning drops get none and stay
    /// `missing`: those where `kept(row)` is false (a null id) and self-loops of an account
    /// outside (both ends missed, with one key).
    pub fn extend_misses(
        &self,
        (src, dst): (&mut [u32], &mut [u32]),
        (src_misses, dst_misses): (&Missed, &Missed),
        kept: impl Fn(usize) -> bool,
    ) -> Vec<u64> {
        let mut extension = Extension::default();
        let n = self.keys.len();
        let mut number = |key: u64| {
            *extension.index.entry(key).or_insert_with(|| {
                extension.keys.push(key);
                (n + extension.keys.len() - 1) as u32
            })
        };
        let key_at = |misses: &Missed, row: usize| misses.binary_search_by_key(&row, |m| m.0).ok().map(|i| misses[i].1);
        for (column, misses, other) in [(&mut *src, src_misses, dst_misses), (&mut *dst, dst_misses, src_misses)] {
            for &(row, key) in misses {
                if kept(row) && key_at(other, row) != Some(key) {
                    column[row] = number(key);
                }
            }
        }
        extension.keys
    }

    /// Dense ids of keys that may fall outside the universe, chunk after chunk: keys outside
    /// get ids from `len()` on, in order of first appearance across chunks.
    pub fn dense_extending(&self, keys: &[u64], extension: &mut Extension) -> Vec<u32> {
        const CHUNK: usize = 1 << 16;
        let index = self.index();
        let mut out = vec![0u32; keys.len()];
        out.par_chunks_mut(CHUNK).zip(keys.par_chunks(CHUNK)).for_each(|(o, k)| {
            index.lookup_into(k, o, u32::MAX);
        });
        let n = self.keys.len();
        for (k, id) in keys.iter().zip(out.iter_mut()).filter(|(_, id)| **id == u32::MAX) {
            *id = *extension.index.entry(*k).or_insert_with(|| {
                extension.keys.push(*k);
                (n + extension.keys.len() - 1) as u32
            });
        }
        out
    }

    /// Dense ids of keys that are all known to be in the universe.
    pub fn dense(&self, keys: &[u64]) -> Vec<u32> {
        const CHUNK: usize = 1 << 16;
        let index = self.index();
        let mut out = vec![0u32; keys.len()];
        out.par_chunks_mut(CHUNK).zip(keys.par_chunks(CHUNK)).for_each(|(o, k)| {
            index.lookup_into(k, o, u32::MAX);
        });
        assert!(!out.contains(&u32::MAX), "every kept id is in the universe");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_outside_get_ids_after_the_universe() {
        let u = Universe::from_columns(&[&[10, 20]]);
        let mut extension = Extension::default();
        let dense = [&[20, 99, 5][..], &[99, 10]].map(|c| u.dense_extending(c, &mut extension));
        assert_eq!(dense, [vec![1, 2, 3], vec![2, 0]]);
        assert_eq!(extension.keys, vec![99, 5]);
    }

    #[test]
    fn missed_ids_are_numbered_after_the_universe_except_on_dropped_rows() {
        const M: u32 = u32::MAX;
        let u = Universe::from_columns(&[&[10, 20]]);
        // Rows: 0: 99→10, 1: 10→77, 2: 55→55 (a self-loop outside), 3: 66→20 with a null
        // target, 4: 55→99.
        let src_keys = [99u64, 10, 55, 66, 55];
        let dst_keys = [10u64, 77, 55, 20, 99];
        let (mut src, mut dst) = (vec![0u32; 5], vec![0u32; 5]);
        assert_eq!(u.lookup(M)(&src_keys, &mut src), 4);
        assert_eq!(u.lookup(M)(&dst_keys, &mut dst), 3);
        let misses = |ids: &[u32], keys: &[u64]| -> Vec<(usize, u64)> {
            ids.iter().zip(keys).enumerate().filter(|(_, (&id, _))| id == M).map(|(i, (_, &k))| (i, k)).collect()
        };
        let (src_misses, dst_misses) = (misses(&src, &src_keys), misses(&dst, &dst_keys));
        let extra = u.extend_misses((&mut src, &mut dst), (&src_misses, &dst_misses), |row| row != 3);
        // Sources first, by row (99, then 55 at row 4: row 2 is dropped), then targets (77).
        assert_eq!(extra, vec![99, 55, 77]);
        assert_eq!(src, vec![2, 0, M, M, 3]);
        assert_eq!(dst, vec![0, 4, M, 1, 2]);
    }

    #[test]
    fn dense_ids_follow_key_order() {
        let u = Universe::from_columns(&[&[30, 10], &[20, 10], &[]]);
        assert_eq!(u.keys(), &[10, 20, 30]);
        assert_eq!(u.dense(&[30, 10, 20, 20]), vec![2, 0, 1, 1]);
        assert_eq!(u.find(15), None);
    }
}
