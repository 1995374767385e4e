//! One bucket of accounts routed by another engine (Spark): rows keyed by id keys rather
//! than by the run's dense ids, computed by the same bucket kernel as every other bucket.
//!
//! An engine that routes rows itself (by a hash of the account id) cannot hand out global
//! dense ids. It does not need to: the kernels only compare neighbour ids with each other, so
//! any order-preserving numbering of the ids a bucket sees gives the same sorted lists. The
//! bucket numbers its own accounts (the `own` side of its rows, and listed accounts) and,
//! separately, every id it sees; the results carry id keys again.

use serde::{Deserialize, Serialize};

use super::account_metrics::{AccountRow, CampRule};
use super::brands::BrandRow;
use super::bucket::{bucket_kernel, BucketResult, BucketRows};
use super::follow_changes::{ChangeRow, ChangeSums};
use super::follow_graph::EdgeHalf;
use super::population::GraphTotals;
use super::universe::UniverseBuilder;

/// Rows of one stream: the bucket's account (`own`), the other account, and created_at (ns,
/// [`super::NULL_TS`] when null) for follows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyedRows {
    pub own: Vec<u64>,
    pub other: Vec<u64>,
    pub created: Vec<i64>,
}

/// Everything routed to one bucket, cleaned (no null ids, no self-loops, window applied).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyedBucket {
    pub follows_out: KeyedRows,
    pub follows_in: KeyedRows,
    pub events_out: KeyedRows,
    pub events_in: KeyedRows,
    /// The previous night's follows, when compared.
    pub previous: Option<(KeyedRows, KeyedRows)>,
    /// Accounts of the accounts table that fall in this bucket.
    pub listed: Vec<u64>,
}

/// What a bucket hands back for the merge: everything keyed by id key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyedResult {
    /// Tonight's accounts of this bucket, ascending, with their rows.
    pub accounts: Vec<u64>,
    pub rows: Vec<AccountRow>,
    pub latencies_ns: Vec<i64>,
    pub totals: GraphTotals,
    pub duplicate_follows: u64,
    /// Brand rows (reach_2hop left 0), `account` unused: see `brand_keys`.
    pub brand_rows: Vec<BrandRow>,
    pub brand_keys: Vec<u64>,
    /// Change rows with their accounts' keys, their sums, and the previous night's duplicates.
    pub changes: Option<(Vec<u64>, Vec<ChangeRow>, ChangeSums, u64)>,
}

/// Computes one bucket. `brands` are the keys of every brand (ascending); those among the
/// bucket's accounts get rows.
pub fn keyed_bucket(bucket: KeyedBucket, brands: &[u64], rule: &CampRule) -> KeyedResult {
    let KeyedBucket { follows_out, follows_in, events_out, events_in, previous, listed } = bucket;
    let current = [&follows_out, &follows_in, &events_out, &events_in];
    let before: Vec<&KeyedRows> = previous.iter().flat_map(|(o, i)| [o, i]).collect();

    let mut tonight = UniverseBuilder::default();
    tonight.add(&[&listed]);
    current.iter().for_each(|r| tonight.add(&[&r.own]));
    let tonight = tonight.into_sorted_keys();
    let mut own = UniverseBuilder::default();
    own.add(&[&tonight]);
    before.iter().for_each(|r| own.add(&[&r.own]));
    let own = own.finish();
    let mut seen = UniverseBuilder::default();
    seen.add(&[own.keys()]);
    current.iter().chain(&before).for_each(|r| seen.add(&[&r.other]));
    let seen = seen.finish();

    let n = own.len();
    // Rows are consumed as they are numbered: the bucket's columns are not held twice.
    let half = |rows: KeyedRows, timed: bool| EdgeHalf {
        local: own.dense(&rows.own),
        other: seen.dense(&rows.other),
        created: timed.then_some(rows.created),
    };
    let rows = BucketRows {
        follows: (half(follows_out, true), half(follows_in, true)),
        events: Some((half(events_out, false), half(events_in, false))),
        previous: previous.map(|(out, inward)| (half(out, false), half(inward, false))),
    };
    let graphs = rows.into_graphs(n);

    // Previous-only accounts sit among tonight's in key order; they get no rows.
    let is_tonight: Vec<bool> = own.keys().iter().map(|k| tonight.binary_search(k).is_ok()).collect();
    let brand_local: Vec<u32> = own
        .keys()
        .iter()
        .enumerate()
        .filter(|&(i, k)| is_tonight[i] && brands.binary_search(k).is_ok())
        .map(|(i, _)| i as u32)
        .collect();
    let result = bucket_kernel(&graphs.follows, &graphs.interactions, graphs.previous.as_ref(), &brand_local, rule);
    let BucketResult { pass, totals, duplicate_follows, brand_rows, changes } = result;
    let rows: Vec<AccountRow> = pass.rows.into_iter().zip(&is_tonight).filter(|(_, &t)| t).map(|(r, _)| r).collect();
    let key_of = |local: u32| own.keys()[local as usize];
    KeyedResult {
        accounts: tonight,
        rows,
        latencies_ns: pass.latencies_ns,
        totals,
        duplicate_follows,
        brand_keys: brand_local.iter().map(|&i| key_of(i)).collect(),
        brand_rows,
        changes: changes.map(|(changed, sums, duplicates)| {
            (changed.iter().map(|r| key_of(r.account)).collect(), changed, sums, duplicates)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::NULL_TS;

    fn rows(edges: &[(u64, u64)], flip: bool) -> KeyedRows {
        let (own, other) = edges.iter().map(|&(a, b)| if flip { (b, a) } else { (a, b) }).unzip();
        KeyedRows { own, other, created: vec![NULL_TS; edges.len()] }
    }

    #[test]
    fn a_bucket_of_every_account_equals_the_whole_graph() {
        // 10↔20, 30→10, 20→30; 10 sends 20 two events.
        let follows = [(10, 20), (20, 10), (30, 10), (20, 30)];
        let events = [(10, 20), (10, 20)];
        let bucket = KeyedBucket {
            follows_out: rows(&follows, false),
            follows_in: rows(&follows, true),
            events_out: rows(&events, false),
            events_in: rows(&events, true),
            previous: None,
            listed: vec![99],
        };
        let rule = CampRule { min_followers: 0, follows_back_all_rate: 0.9, selective_rate: 0.1 };
        let got = keyed_bucket(bucket, &[20], &rule);
        assert_eq!(got.accounts, vec![10, 20, 30, 99]);
        assert_eq!(
            got.rows.iter().map(|r| (r.followers, r.following, r.mutuals)).collect::<Vec<_>>(),
            vec![(2, 1, 1), (1, 2, 1), (1, 1, 0), (0, 0, 0)]
        );
        assert_eq!(got.rows[0].interactions_out, 2);
        assert_eq!(got.totals, GraphTotals { follow_edges: 4, interaction_events: 2, interaction_pairs: 1 });
        assert_eq!(got.brand_keys, vec![20]);
        assert_eq!(got.brand_rows[0].engagement_in, 2);
    }

    #[test]
    fn a_bucket_split_in_two_gives_the_same_rows() {
        let follows = [(1, 2), (2, 1), (3, 1), (2, 3), (4, 3)];
        let whole =
            KeyedBucket { follows_out: rows(&follows, false), follows_in: rows(&follows, true), ..Default::default() };
        let rule = CampRule { min_followers: 0, follows_back_all_rate: 0.9, selective_rate: 0.1 };
        let all = keyed_bucket(whole, &[], &rule);
        let part = |keep: fn(u64) -> bool| {
            let out: Vec<_> = follows.iter().copied().filter(|e| keep(e.0)).collect();
            let inward: Vec<_> = follows.iter().copied().filter(|e| keep(e.1)).collect();
            keyed_bucket(
                KeyedBucket { follows_out: rows(&out, false), follows_in: rows(&inward, true), ..Default::default() },
                &[],
                &rule,
            )
        };
        let (odd, even) = (part(|k| k % 2 == 1), part(|k| k % 2 == 0));
        for (i, key) in all.accounts.iter().enumerate() {
            let side = if key % 2 == 1 { &odd } else { &even };
            let j = side.accounts.binary_search(key).unwrap();
            assert_eq!(side.rows[j], all.rows[i], "account {key}");
        }
    }
}
