//! The one routing rule of every execution that splits accounts into buckets.
//!
//! Each edge src → dst goes to two buckets: to its source's as an out-row (own = src,
//! other = dst) and to its target's as an in-row (own = dst, other = src). A bucket then
//! holds each of its accounts' lists exactly as the whole graph would, which is all the
//! bucket kernel needs. Which bucket an account is in is the caller's choice: a range of
//! dense ids on one machine (so the buckets' rows concatenate in account order), or
//! [`hash_bucket`] of its id key where no dense ids exist (Spark).

/// Which end of its edge a routed row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The edge's source: an out-row of the source's bucket.
    Source,
    /// The edge's target: an in-row of the target's bucket.
    Target,
}

/// Routes rows `src[i] → dst[i]`: `place` gives an account's bucket and whatever the caller
/// wants carried with it (its id within the bucket, say), None for a bucket nobody asked
/// for; `emit(end, bucket, placed, i)` is called in row order, the source's row before the
/// target's.
#[inline]
pub fn route<K: Copy, P>(
    src: &[K],
    dst: &[K],
    mut place: impl FnMut(K) -> Option<(usize, P)>,
    mut emit: impl FnMut(End, usize, P, usize),
) {
    for (row, (&s, &d)) in src.iter().zip(dst).enumerate() {
        if let Some((bucket, placed)) = place(s) {
            emit(End::Source, bucket, placed, row);
        }
        if let Some((bucket, placed)) = place(d) {
            emit(End::Target, bucket, placed, row);
        }
    }
}

/// The bucket of an id key among `buckets` when buckets are not ranges: a fixed mix of its
/// bits (SplitMix64's finalizer), the same on every machine and in every run.
#[inline]
pub fn hash_bucket(key: u64, buckets: usize) -> usize {
    let mut z = key.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z % buckets as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_edge_goes_to_both_ends_in_row_order() {
        let mut seen = Vec::new();
        let place = |a: u32| (a < 6).then_some((a as usize / 3, a % 3));
        route(&[0u32, 4, 2], &[5, 3, 9], place, |end, b, local, row| seen.push((end, b, local, row)));
        assert_eq!(
            seen,
            vec![
                (End::Source, 0, 0, 0),
                (End::Target, 1, 2, 0),
                (End::Source, 1, 1, 1),
                (End::Target, 1, 0, 1),
                (End::Source, 0, 2, 2)
            ]
        );
    }

    #[test]
    fn hashed_buckets_are_stable_and_spread() {
        let counts = (0..10_000u64).fold([0usize; 4], |mut c, k| {
            c[hash_bucket(k, 4)] += 1;
            c
        });
        assert!(counts.iter().all(|&c| (2_300..2_700).contains(&c)), "{counts:?}");
        assert_eq!(hash_bucket(42, 7), hash_bucket(42, 7));
        assert_eq!(hash_bucket(u64::MAX, 1), 0);
    }
}
