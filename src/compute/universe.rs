//! The account universe and the dense ids the kernels work with.
//!
//! The universe is every id in a row that cleaning kept (both sides of follows and
//! interactions) plus every non-null id of the accounts table. Sorted by key, position in the
//! universe is the dense `u32` id — so dense order is account_id order, and every per-account
//! table comes out sorted by account_id for free.

use rayon::prelude::*;

/// The largest number of accounts the dense `u32` ids can hold.
pub const MAX_ACCOUNTS: usize = u32::MAX as usize;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Universe {
    /// Distinct id keys, ascending; index = dense id.
    keys: Vec<u64>,
}

impl Universe {
    /// Builds the universe from every id column that counts.
    pub fn from_columns(columns: &[&[u64]]) -> Universe {
        let total = columns.iter().map(|c| c.len()).sum();
        let mut keys = Vec::with_capacity(total);
        for column in columns {
            keys.extend_from_slice(column);
        }
        keys.par_sort_unstable();
        keys.dedup();
        keys.shrink_to_fit();
        Universe { keys }
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
        self.keys.binary_search(&key).ok().map(|i| i as u32)
    }

    /// Each of this universe's accounts' dense id in a larger universe that holds them all.
    pub fn dense_in(&self, larger: &Universe) -> Vec<u32> {
        larger.dense(&self.keys)
    }

    /// Dense ids of keys that are all known to be in the universe.
    pub fn dense(&self, keys: &[u64]) -> Vec<u32> {
        keys.par_iter().map(|&k| self.find(k).expect("every kept id is in the universe")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_ids_follow_key_order() {
        let u = Universe::from_columns(&[&[30, 10], &[20, 10], &[]]);
        assert_eq!(u.keys(), &[10, 20, 30]);
        assert_eq!(u.dense(&[30, 10, 20]), vec![2, 0, 1]);
        assert_eq!(u.find(15), None);
    }
}
