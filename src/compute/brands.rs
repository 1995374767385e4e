//! `brand_audience`: who follows a brand, who engages with it, and who is one hop further out.
//!
//! reach_2hop is exact by default, or estimated within 2% at 95% confidence (`reach.rs`).

use rayon::prelude::*;

use super::account_metrics::AccountRow;
use super::follow_graph::FollowGraph;
use super::interaction_graph::InteractionGraph;
use super::reach::{self, Followers, Marks, SampledFollowers};
use super::{ratio, seek};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BrandRow {
    /// Dense id of the brand.
    pub account: u32,
    pub followers: u64,
    pub following: u64,
    pub mutuals: u64,
    pub follow_back_rate: Option<f64>,
    pub followback_latency_median_s: Option<f64>,
    pub engagers: u64,
    pub followers_engaged: u64,
    pub followers_engaged_share: Option<f64>,
    pub engagement_in: u64,
    pub engagement_from_followers_share: Option<f64>,
    pub top1pct_engager_share: Option<f64>,
    pub reach_2hop: u64,
}

/// The rows of a bucket's brands (ids local to the bucket, as the graphs' and `rows'`), all
/// but reach_2hop, left 0: [`fill_reach`] sets it once every account's followers are known.
pub fn brand_rows(
    brands: &[u32],
    follows: &FollowGraph,
    interactions: &InteractionGraph,
    rows: &[AccountRow],
) -> Vec<BrandRow> {
    brands
        .par_iter()
        .map(|&brand| {
            let b = brand as usize;
            let row = &rows[b];
            let (engagers, counts_in) = (interactions.senders(b), interactions.sender_counts(b));
            let engagement_in: u64 = counts_in.iter().sum();
            // Engagers and followers are both sorted: a merge finds the engaged followers.
            let followers = follows.followers(b);
            let (mut followers_engaged, mut from_followers, mut at) = (0u64, 0u64, 0usize);
            for (&actor, &c) in engagers.iter().zip(counts_in) {
                if seek(followers, &mut at, actor) {
                    followers_engaged += 1;
                    from_followers += c;
                }
            }
            let mut counts: Vec<u64> = counts_in.to_vec();
            counts.sort_unstable_by(|x, y| y.cmp(x));
            let top = (counts.len() as u64).div_ceil(100) as usize;
            let top_events: u64 = counts[..top].iter().sum();
            BrandRow {
                account: brand,
                followers: row.followers.into(),
                following: row.following.into(),
                mutuals: row.mutuals.into(),
                follow_back_rate: row.follow_back_rate.get(),
                followback_latency_median_s: row.followback_latency_median_s.get(),
                engagers: engagers.len() as u64,
                followers_engaged,
                followers_engaged_share: ratio(followers_engaged, row.followers.into()),
                engagement_in,
                engagement_from_followers_share: ratio(from_followers, engagement_in),
                top1pct_engager_share: ratio(top_events, engagement_in),
                reach_2hop: 0,
            }
        })
        .collect()
}

/// Sets every brand's reach_2hop, walking all accounts' followers.
pub fn fill_reach(brands: &mut [BrandRow], follows: Followers, sample: Option<&SampledFollowers>) {
    if brands.is_empty() {
        return;
    }
    // One mark array per chunk of brands: map_init would build one per rayon split, and
    // zeroing an N-byte array thousands of times costs more than the walks themselves.
    let chunk = brands.len().div_ceil(rayon::current_num_threads() * 4).max(1);
    brands.par_chunks_mut(chunk).for_each(|part| {
        let mut marks = Marks::new(follows.accounts());
        for row in part {
            let b = row.account as usize;
            row.reach_2hop = match sample {
                Some(sample) => reach::estimate(b, follows, sample, &mut marks),
                None => reach::exact(b, follows, &mut marks),
            };
        }
    });
}
