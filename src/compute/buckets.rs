//! Buckets of accounts for out-of-core runs: K contiguous ranges of dense ids.
//!
//! Dense ids are in account_id order, so contiguous ranges keep every per-account table in
//! order when the buckets' rows are concatenated: no merge sort at the end, and the tables
//! come out byte-identical whatever K is. Dense ids are positions among ids that are random
//! or sequential alike, so equal ranges hold about equal numbers of accounts.

use std::ops::Range;

/// K ranges of equal size (±1) over dense ids `0..accounts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buckets {
    accounts: usize,
    count: usize,
}

impl Buckets {
    pub fn new(accounts: usize, count: usize) -> Buckets {
        assert!(count > 0, "at least one bucket");
        Buckets { accounts, count }
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// The first dense id of bucket k (k ≤ count; `start(count)` is the end).
    pub fn start(&self, k: usize) -> usize {
        (k as u128 * self.accounts as u128 / self.count as u128) as usize
    }

    pub fn range(&self, k: usize) -> Range<usize> {
        self.start(k)..self.start(k + 1)
    }

    /// The bucket holding dense id a: the last k with start(k) ≤ a, i.e.
    /// ⌈K(a+1)/N⌉ − 1.
    #[inline]
    pub fn of(&self, a: u32) -> usize {
        let (k, n) = (self.count as u64, self.accounts as u64);
        ((k * (u64::from(a) + 1)).div_ceil(n) - 1) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_account_lies_in_its_bucket_s_range(accounts in 1usize..5_000, count in 1usize..100) {
            let b = Buckets::new(accounts, count);
            prop_assert_eq!(b.start(0), 0);
            prop_assert_eq!(b.start(count), accounts);
            for a in 0..accounts as u32 {
                prop_assert!(b.range(b.of(a)).contains(&(a as usize)));
            }
        }
    }
}
