//! `brand_audience`: who follows a brand, who engages with it, and who is one hop further out.
//!
//! reach_2hop is exact: for each brand, the distinct followers-of-followers that are neither
//! the brand nor its followers, counted with a per-thread mark array (no hashing, no sketch).

use rayon::prelude::*;

use super::account_metrics::AccountRow;
use super::follow_graph::FollowGraph;
use super::interaction_graph::InteractionGraph;

#[derive(Debug, Clone, PartialEq)]
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

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// One row per brand (dense ids, ascending and distinct).
pub fn brand_audience(
    brands: &[u32],
    follows: &FollowGraph,
    interactions: &InteractionGraph,
    rows: &[AccountRow],
) -> Vec<BrandRow> {
    if brands.is_empty() {
        return Vec::new();
    }
    let n = follows.accounts();
    let (follower_offsets, follower_ids) = follows.followers_csr();
    let followers_of = |b: usize| &follower_ids[follower_offsets[b]..follower_offsets[b + 1]];

    // Events into each brand, grouped by brand: (actor, count) lists.
    let mut brand_slot = vec![u32::MAX; n];
    for (slot, &b) in brands.iter().enumerate() {
        brand_slot[b as usize] = slot as u32;
    }
    let mut engagements: Vec<Vec<(u32, u64)>> = vec![Vec::new(); brands.len()];
    for actor in 0..n {
        for (&t, &c) in interactions.partners(actor).iter().zip(interactions.partner_counts(actor)) {
            let slot = brand_slot[t as usize];
            if slot != u32::MAX {
                engagements[slot as usize].push((actor as u32, c));
            }
        }
    }

    brands
        .par_iter()
        .zip(engagements)
        .map_init(
            || (vec![0u8; n], Vec::new()),
            |(marks, touched), (&brand, engaged)| {
                let b = brand as usize;
                let row = &rows[b];
                let engagement_in: u64 = engaged.iter().map(|&(_, c)| c).sum();
                let (mut followers_engaged, mut from_followers) = (0u64, 0u64);
                for &(actor, c) in &engaged {
                    if follows.find(actor as usize, brand).is_some() {
                        followers_engaged += 1;
                        from_followers += c;
                    }
                }
                let mut counts: Vec<u64> = engaged.iter().map(|&(_, c)| c).collect();
                counts.sort_unstable_by(|x, y| y.cmp(x));
                let top = (counts.len() as u64).div_ceil(100) as usize;
                let top_events: u64 = counts[..top].iter().sum();
                BrandRow {
                    account: brand,
                    followers: row.followers,
                    following: row.following,
                    mutuals: row.mutuals,
                    follow_back_rate: row.follow_back_rate,
                    followback_latency_median_s: row.followback_latency_median_s,
                    engagers: engaged.len() as u64,
                    followers_engaged,
                    followers_engaged_share: ratio(followers_engaged, row.followers),
                    engagement_in,
                    engagement_from_followers_share: ratio(from_followers, engagement_in),
                    top1pct_engager_share: ratio(top_events, engagement_in),
                    reach_2hop: reach_2hop(b, &followers_of, marks, touched),
                }
            },
        )
        .collect()
}

const FOLLOWER: u8 = 1;
const REACHED: u8 = 2;

/// Distinct x following some follower of `b`, x ≠ b and x not itself a follower of b.
fn reach_2hop<'a>(
    b: usize,
    followers_of: &impl Fn(usize) -> &'a [u32],
    marks: &mut [u8],
    touched: &mut Vec<u32>,
) -> u64 {
    touched.clear();
    marks[b] = FOLLOWER;
    touched.push(b as u32);
    for &f in followers_of(b) {
        marks[f as usize] = FOLLOWER;
        touched.push(f);
    }
    let mut reached = 0u64;
    for &f in followers_of(b) {
        for &x in followers_of(f as usize) {
            if marks[x as usize] == 0 {
                marks[x as usize] = REACHED;
                touched.push(x);
                reached += 1;
            }
        }
    }
    for &t in touched.iter() {
        marks[t as usize] = 0;
    }
    reached
}
