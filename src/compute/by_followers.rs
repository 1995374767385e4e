//! `reciprocity_by_followers`: accounts grouped by order of magnitude of their audience.
//!
//! bucket 0 holds accounts without followers; bucket k ≥ 1 holds 10^(k−1) ≤ followers < 10^k.
//! Each mean or median is over the bucket's non-null values, null if there are none.

use super::account_metrics::AccountRow;
use super::stats::{mean, median_f64};

#[derive(Debug, Clone, PartialEq)]
pub struct FollowerBucket {
    pub bucket: u32,
    pub followers_min: u64,
    pub followers_max: u64,
    pub accounts: u64,
    pub mean_follow_back_rate: Option<f64>,
    pub median_follow_back_rate: Option<f64>,
    pub mean_reciprocated_rate: Option<f64>,
    pub mean_engaged_following_share: Option<f64>,
    pub median_effective_partners: Option<f64>,
    pub mean_gini_following: Option<f64>,
}

/// ⌊log10(followers)⌋ + 1, computed on integers (0 for no followers).
pub fn bucket_of(followers: u64) -> u32 {
    if followers == 0 {
        0
    } else {
        followers.ilog10() + 1
    }
}

/// One row per non-empty bucket, ascending.
pub fn by_followers(rows: &[AccountRow]) -> Vec<FollowerBucket> {
    let mut groups: Vec<Vec<&AccountRow>> = Vec::new();
    for row in rows {
        let b = bucket_of(row.followers) as usize;
        if groups.len() <= b {
            groups.resize_with(b + 1, Vec::new);
        }
        groups[b].push(row);
    }
    groups
        .iter()
        .enumerate()
        .filter(|(_, g)| !g.is_empty())
        .map(|(b, g)| {
            let values = |f: fn(&AccountRow) -> Option<f64>| -> Vec<f64> { g.iter().filter_map(|r| f(r)).collect() };
            let mut follow_back = values(|r| r.follow_back_rate);
            let mut effective = values(|r| r.concentration.effective_partners);
            FollowerBucket {
                bucket: b as u32,
                followers_min: g.iter().map(|r| r.followers).min().expect("non-empty"),
                followers_max: g.iter().map(|r| r.followers).max().expect("non-empty"),
                accounts: g.len() as u64,
                mean_follow_back_rate: mean(&follow_back),
                median_follow_back_rate: median_f64(&mut follow_back),
                mean_reciprocated_rate: mean(&values(|r| r.reciprocated_rate)),
                mean_engaged_following_share: mean(&values(|r| r.engaged_following_share)),
                median_effective_partners: median_f64(&mut effective),
                mean_gini_following: mean(&values(|r| r.gini_following)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::bucket_of;

    #[test]
    fn buckets_are_decades() {
        let cases = [(0, 0), (1, 1), (9, 1), (10, 2), (99, 2), (100, 3), (999_999, 6), (u64::MAX, 20)];
        for (followers, bucket) in cases {
            assert_eq!(bucket_of(followers), bucket, "followers = {followers}");
        }
    }
}
