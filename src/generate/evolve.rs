//! The next night of a population: follows made and withdrawn since the last snapshot.
//!
//! Reads a population written by `generate` (follows and accounts, int64 ids), then: unfollows
//! hit one-way ties (4%) more often than mutual ones (1%); a few accounts that follow at least
//! 50 others unfollow 95% of them (the "Great Unfollow"); new follows (3% of the edges) go to
//! accounts by preferential attachment, and are followed back by brands (85%) and people (30%)
//! within hours. Interactions are drawn afresh on the new follow graph.

use std::collections::HashMap;
use std::sync::Arc;

use rand::RngExt;
use rand_distr::{Distribution, Exp};
use rand_pcg::Pcg64Mcg;

use super::activity;
use super::population::{block_rng, FollowRows, DAY_US};
use super::Population;
use crate::compute::NULL_TS;
use crate::error::{Error, Result};
use crate::id_type::IdType;
use crate::io::dataset::{scan, ColumnKind, WantedColumn};
use crate::io::decode::ColumnData;
use crate::io::landing::read_columns;
use crate::io::store::{self, StorageOptions};

const UNFOLLOW_ONE_WAY: f64 = 0.04;
const UNFOLLOW_MUTUAL: f64 = 0.01;
const NEW_FOLLOWS: f64 = 0.03;
const MASS_UNFOLLOWER_SHARE: f64 = 0.001;
const MASS_UNFOLLOW_MIN: usize = 50;

fn wanted(columns: &[(&str, ColumnKind)]) -> Vec<WantedColumn> {
    columns.iter().map(|&(name, kind)| WantedColumn { name: name.into(), kind, required: true }).collect()
}

fn read(runtime: &tokio::runtime::Runtime, url: &str, columns: &[(&str, ColumnKind)]) -> Result<Vec<ColumnData>> {
    let location = store::open(url, &StorageOptions::default())?;
    runtime.block_on(async {
        let scanned = scan(url, location, wanted(columns), 4).await?;
        if scanned.id_type.is_some_and(|t| t != IdType::Int64) {
            return Err(Error::Input { object: url.into(), problem: "--evolve-from needs int64 ids".into() });
        }
        read_columns(&scanned, 4, Arc::new(|_| {})).await
    })
}

fn ids(column: &ColumnData) -> Vec<i64> {
    match column {
        ColumnData::Ids { keys, .. } => keys.iter().map(|&k| IdType::Int64.id_of(k) as i64).collect(),
        _ => unreachable!("asked for ids"),
    }
}

/// Reads the population at `from` and returns its next night.
pub fn next_night(runtime: &tokio::runtime::Runtime, from: &str, mean_events: f64, seed: u64) -> Result<Population> {
    let night = read_night(runtime, from)?;
    let n = night.account_ids.len();
    let mut edges: Vec<u64> =
        night.followers.iter().zip(&night.followees).map(|(&a, &b)| (u64::from(a) << 32) | u64::from(b)).collect();
    edges.sort_unstable();
    edges.dedup();
    let has = |a: u32, b: u32| edges.binary_search(&((u64::from(a) << 32) | u64::from(b))).is_ok();
    // One generator, drawn in this order: mass unfollowers, unfollows, new follows.
    let mut rng = block_rng(seed, 7, 0);
    let mass = mass_unfollowers(&edges, n, &mut rng);
    let mut next = surviving_follows(&night, &mass, &has, &mut rng);
    add_follows(&night, &has, &mut next, &mut rng);
    let interactions = activity::interactions(n, &next, mean_events, seed.wrapping_add(1));
    Ok(Population { ids: night.account_ids, brand: night.brand, follows: next, interactions })
}

/// A night as written: its accounts (ids, brand or not) and follows in account indexes.
struct Night {
    account_ids: Vec<i64>,
    brand: Vec<bool>,
    followers: Vec<u32>,
    followees: Vec<u32>,
    created: Vec<Option<i64>>,
}

fn read_night(runtime: &tokio::runtime::Runtime, from: &str) -> Result<Night> {
    let base = from.trim_end_matches('/');
    let accounts = read(
        runtime,
        &format!("{base}/accounts/"),
        &[("account_id", ColumnKind::Id), ("account_type", ColumnKind::Text)],
    )?;
    let follows = read(
        runtime,
        &format!("{base}/follows/"),
        &[("follower_id", ColumnKind::Id), ("followee_id", ColumnKind::Id), ("created_at", ColumnKind::Timestamp)],
    )?;
    let mut account_ids = ids(&accounts[0]);
    let mut brand: Vec<bool> = match &accounts[1] {
        ColumnData::Text(t) => t.iter().map(|t| t.as_deref() == Some("brand")).collect(),
        _ => unreachable!("asked for text"),
    };
    let mut index: HashMap<i64, u32> = account_ids.iter().enumerate().map(|(i, &id)| (id, i as u32)).collect();
    let mut index_of = |id: i64| -> u32 {
        *index.entry(id).or_insert_with(|| {
            account_ids.push(id);
            brand.push(false);
            (account_ids.len() - 1) as u32
        })
    };
    let followers: Vec<u32> = ids(&follows[0]).into_iter().map(&mut index_of).collect();
    let followees: Vec<u32> = ids(&follows[1]).into_iter().map(&mut index_of).collect();
    let created: Vec<Option<i64>> = match &follows[2] {
        ColumnData::Timestamps(t) => t.iter().map(|&t| (t != NULL_TS).then_some(t / 1000)).collect(),
        _ => unreachable!("asked for timestamps"),
    };
    Ok(Night { account_ids, brand, followers, followees, created })
}

/// Who unfollows nearly everyone tonight: a share of the accounts that follow many, and at
/// least one, so that small populations still have a Great Unfollow to look at.
fn mass_unfollowers(edges: &[u64], n: usize, rng: &mut Pcg64Mcg) -> Vec<bool> {
    let mut following = vec![0usize; n];
    for &e in edges {
        following[(e >> 32) as usize] += 1;
    }
    let mut mass: Vec<bool> =
        following.iter().map(|&f| f >= MASS_UNFOLLOW_MIN && rng.random_bool(MASS_UNFOLLOWER_SHARE)).collect();
    let candidates: Vec<usize> = (0..n).filter(|&a| following[a] >= MASS_UNFOLLOW_MIN).collect();
    if !mass.contains(&true) && !candidates.is_empty() {
        mass[candidates[rng.random_range(0..candidates.len())]] = true;
    }
    mass
}

/// The night's follows that survive: one-way ties break more often than mutual ones.
fn surviving_follows(night: &Night, mass: &[bool], has: &impl Fn(u32, u32) -> bool, rng: &mut Pcg64Mcg) -> FollowRows {
    let mut next = FollowRows::default();
    for i in 0..night.followers.len() {
        let (a, b) = (night.followers[i], night.followees[i]);
        let p = if mass[a as usize] {
            0.95
        } else if has(b, a) {
            UNFOLLOW_MUTUAL
        } else {
            UNFOLLOW_ONE_WAY
        };
        if !rng.random_bool(p) {
            next.follower.push(a);
            next.followee.push(b);
            next.created_us.push(night.created[i]);
        }
    }
    next
}

/// New follows of the next day, and the follow-backs they get (brands follow back more).
fn add_follows(night: &Night, has: &impl Fn(u32, u32) -> bool, next: &mut FollowRows, rng: &mut Pcg64Mcg) {
    let n = night.account_ids.len();
    let start = night.created.iter().flatten().max().copied().unwrap_or(0) + 1;
    let delay = Exp::new(1.0 / 6.0).expect("valid Exp");
    let additions = (NEW_FOLLOWS * night.followers.len() as f64) as usize;
    for _ in 0..additions {
        let a = rng.random_range(0..n) as u32;
        let t = night.followees[rng.random_range(0..night.followees.len())];
        if a == t || has(a, t) {
            continue;
        }
        let at = start + rng.random_range(0..DAY_US);
        next.follower.push(a);
        next.followee.push(t);
        next.created_us.push(Some(at));
        let back = if night.brand[t as usize] { 0.85 } else { 0.3 };
        if !has(t, a) && rng.random_bool(back) {
            let hours = delay.sample(rng);
            next.follower.push(t);
            next.followee.push(a);
            next.created_us.push(Some(at + 1 + (hours * 3_600_000_000.0) as i64));
        }
    }
}
