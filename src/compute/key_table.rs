//! A table from 64-bit id keys to `u32` numbers that can prefetch: the probes of rows ahead
//! overlap instead of each waiting on its own cache miss.
//!
//! Tables of every account (16 MB and more at 1M accounts) do not fit in cache, so a lookup
//! per id occurrence is a cache miss per occurrence. A general-purpose map offers no way to
//! prefetch; this open-addressing table (linear probing, at most half full) does, and each
//! batched lookup prefetches the slot of the key [`PREFETCH_AHEAD`] rows on: how far ahead
//! was chosen by measurement (docs/benchmarks.md, "Measurements behind the code").

/// How many rows ahead a batched lookup prefetches.
pub const PREFETCH_AHEAD: usize = 128;

/// A slot: a key and its number (`EMPTY` if unused).
#[derive(Debug, Clone, Copy)]
struct Slot {
    key: u64,
    number: u32,
}

/// Fibonacci hashing: the top `64 - shift` bits of the product depend on every bit of the
/// key, so sequential and strided ids spread evenly over a table of 2^(64 - shift) slots.
#[inline]
pub(super) fn home_slot(key: u64, shift: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
}

/// Asks for the cache line holding `value` to be brought in (a hint; nothing off x86-64).
/// The tables' probes use it, and so do other random reads run far enough ahead (the id
/// gather in `dense_ids`, the 2-hop walk in `reach`).
#[inline]
pub(super) fn prefetch_line<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        let at: *const T = value;
        // SAFETY: a prefetch is a hint; the address is that of a live value.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Emptiness is marked by the number, so every key (0 included) can be stored; numbers stay
/// below it because there are at most `u32::MAX` accounts.
const EMPTY: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub struct KeyTable {
    slots: Vec<Slot>,
    /// 64 − log2(slot count): the hash's top bits pick the slot.
    shift: u32,
    len: usize,
}

impl Default for KeyTable {
    fn default() -> Self {
        KeyTable::with_bits(10)
    }
}

impl KeyTable {
    fn with_bits(bits: u32) -> Self {
        KeyTable { slots: vec![Slot { key: 0, number: EMPTY }; 1 << bits], shift: 64 - bits, len: 0 }
    }

    /// A table that holds `keys` keys without growing.
    pub fn with_capacity(keys: usize) -> Self {
        KeyTable::with_bits((2 * keys).next_power_of_two().trailing_zeros().max(10))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The slot where `key` starts its probe.
    #[inline]
    fn home(&self, key: u64) -> usize {
        home_slot(key, self.shift)
    }

    /// Asks for the slot where `key` starts its probe to be brought into cache.
    #[inline]
    pub fn prefetch(&self, key: u64) {
        prefetch_line(&self.slots[self.home(key)]);
    }

    /// The number of `key`, if it is in the table.
    #[inline]
    pub fn get(&self, key: u64) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut at = self.home(key);
        loop {
            let slot = self.slots[at];
            if slot.number == EMPTY {
                return None;
            }
            if slot.key == key {
                return Some(slot.number);
            }
            at = (at + 1) & mask;
        }
    }

    /// The number of `key`, or `fresh` (which must be below `u32::MAX`) if the key is new.
    #[inline]
    pub fn number_or_insert(&mut self, key: u64, fresh: u32) -> u32 {
        debug_assert!(fresh != EMPTY);
        let mask = self.slots.len() - 1;
        let mut at = self.home(key);
        loop {
            let slot = &mut self.slots[at];
            if slot.number == EMPTY {
                *slot = Slot { key, number: fresh };
                self.len += 1;
                if 2 * self.len > self.slots.len() {
                    self.grow();
                }
                return fresh;
            }
            if slot.key == key {
                return slot.number;
            }
            at = (at + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let bits = 64 - self.shift + 1;
        let old = std::mem::replace(self, KeyTable::with_bits(bits));
        let mask = self.slots.len() - 1;
        for slot in old.slots.into_iter().filter(|s| s.number != EMPTY) {
            let mut at = self.home(slot.key);
            while self.slots[at].number != EMPTY {
                at = (at + 1) & mask;
            }
            self.slots[at] = slot;
        }
        self.len = old.len;
    }

    /// Looks every key up into `out` (`missing` where absent), prefetching ahead, with a
    /// one-entry cache: exports are often clustered by follower or actor. Returns how many
    /// were absent.
    pub fn lookup_into(&self, keys: &[u64], out: &mut [u32], missing: u32) -> usize {
        let (mut last_key, mut last, mut absent) = (None, 0u32, 0usize);
        for (i, (&k, o)) in keys.iter().zip(out.iter_mut()).enumerate() {
            if let Some(&ahead) = keys.get(i + PREFETCH_AHEAD) {
                self.prefetch(ahead);
            }
            if last_key != Some(k) {
                last = self.get(k).unwrap_or(missing);
                last_key = Some(k);
            }
            absent += usize::from(last == missing);
            *o = last;
        }
        absent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_grow_and_keep_every_number() {
        // Zero and the largest key included: emptiness is marked by the number, not the key.
        let keys: Vec<u64> = (0..5000u64).map(|i| i.wrapping_mul(1 << 40)).chain([u64::MAX]).collect();
        let mut table = KeyTable::default();
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(table.number_or_insert(k, i as u32), i as u32);
        }
        assert!(table.slots.len() >= 2 * keys.len());
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(table.number_or_insert(k, u32::MAX - 1), i as u32);
        }
        assert_eq!(table.len, keys.len());
    }

    #[test]
    fn lookups_find_what_was_numbered_and_only_that() {
        let mut table = KeyTable::with_capacity(3);
        for (i, k) in [7u64, 0, 42].into_iter().enumerate() {
            table.number_or_insert(k, i as u32);
        }
        assert_eq!((table.get(0), table.get(42), table.get(8)), (Some(1), Some(2), None));
        let mut out = vec![0; 5];
        assert_eq!(table.lookup_into(&[42, 42, 8, 7, 0], &mut out, u32::MAX), 1);
        assert_eq!(out, vec![2, 2, u32::MAX, 0, 1]);
    }
}
