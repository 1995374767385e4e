//! `reciprocity_by_followers`: accounts grouped by order of magnitude of their audience.
//!
//! Decade 0 holds accounts without followers; decade k ≥ 1 holds 10^(k−1) ≤ followers < 10^k
//! (the table calls it `bucket`, as the contract does; in the code a bucket is a set of
//! accounts computed together). Each mean or median is over the decade's non-null values,
//! null if there are none.

use super::account_metrics::AccountRow;
use super::stats::{mean, median_f64};

#[derive(Debug, Clone, PartialEq)]
pub struct FollowerDecade {
    pub decade: u32,
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
pub fn decade_of(followers: u64) -> u32 {
    if followers == 0 {
        0
    } else {
        followers.ilog10() + 1
    }
}

/// One row per non-empty decade, ascending.
pub fn by_followers(rows: &[AccountRow]) -> Vec<FollowerDecade> {
    let mut groups = FollowerGroups::default();
    groups.add(rows);
    groups.finish()
}

/// A sum taken value by value in account order: the same float operations as
/// [`mean`] over the whole group, so a mean gathered range by range is bit-identical.
#[derive(Debug, Clone, Copy, PartialEq)]
struct RunningSum {
    total: f64,
    count: usize,
}

impl Default for RunningSum {
    fn default() -> Self {
        RunningSum { total: std::iter::empty::<f64>().sum(), count: 0 }
    }
}

impl RunningSum {
    fn add(&mut self, value: Option<f64>) {
        if let Some(v) = value {
            self.total += v;
            self.count += 1;
        }
    }

    fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.total / self.count as f64)
    }
}

/// One decade's accounts so far.
#[derive(Debug, Clone, Default, PartialEq)]
struct Group {
    accounts: u64,
    followers_min: u64,
    followers_max: u64,
    follow_back: Vec<f64>,
    effective_partners: Vec<f64>,
    reciprocated: RunningSum,
    engaged_share: RunningSum,
    gini_following: RunningSum,
}

/// `reciprocity_by_followers` gathered a range of accounts at a time (in account order):
/// what a bucketed run keeps instead of the rows (~16 bytes per account).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FollowerGroups {
    groups: Vec<Group>,
}

impl FollowerGroups {
    pub fn add(&mut self, rows: &[AccountRow]) {
        for row in rows {
            let followers = u64::from(row.followers);
            let b = decade_of(followers) as usize;
            if self.groups.len() <= b {
                self.groups.resize_with(b + 1, Group::default);
            }
            let g = &mut self.groups[b];
            g.followers_min = if g.accounts == 0 { followers } else { g.followers_min.min(followers) };
            g.followers_max = g.followers_max.max(followers);
            g.accounts += 1;
            g.follow_back.extend(row.follow_back_rate.get());
            g.effective_partners.extend(row.concentration.effective_partners.get());
            g.reciprocated.add(row.reciprocated_rate.get());
            g.engaged_share.add(row.engaged_following_share.get());
            g.gini_following.add(row.gini_following.get());
        }
    }

    pub fn finish(self) -> Vec<FollowerDecade> {
        self.groups
            .into_iter()
            .enumerate()
            .filter(|(_, g)| g.accounts > 0)
            .map(|(b, mut g)| FollowerDecade {
                decade: b as u32,
                followers_min: g.followers_min,
                followers_max: g.followers_max,
                accounts: g.accounts,
                mean_follow_back_rate: mean(&g.follow_back),
                median_follow_back_rate: median_f64(&mut g.follow_back),
                mean_reciprocated_rate: g.reciprocated.mean(),
                mean_engaged_following_share: g.engaged_share.mean(),
                median_effective_partners: median_f64(&mut g.effective_partners),
                mean_gini_following: g.gini_following.mean(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::decade_of;

    #[test]
    fn decades_are_orders_of_magnitude() {
        let cases = [(0, 0), (1, 1), (9, 1), (10, 2), (99, 2), (100, 3), (999_999, 6), (u64::MAX, 20)];
        for (followers, bucket) in cases {
            assert_eq!(decade_of(followers), bucket, "followers = {followers}");
        }
    }
}
