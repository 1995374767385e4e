//! The per-account pass: one row of `account_metrics` per account, in one parallel sweep.
//!
//! For each account a, its followees (sorted) are walked alongside its interaction partners
//! (sorted): a followee m is a mutual when m follows a back, and the events both ways between
//! a and m decide whether that mutual is engaged or hollow. The same sweep yields the
//! follow-back latencies and the pair sums that population figures need.

use rayon::prelude::*;

use super::concentration::{concentration, Concentration};
use super::follow_graph::FollowGraph;
use super::interaction_graph::InteractionGraph;
use super::maybe_f64::MaybeF64;
use super::stats::{gini_with_zeros, median_i64};
use super::{ratio, seek, NULL_TS};

const NS_PER_S: f64 = 1e9;

/// The follow-back camp of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Camp {
    FollowsBackAll,
    Selective,
    RarelyFollowsBack,
    Insufficient,
}

impl Camp {
    pub const ALL: [Camp; 4] = [Camp::FollowsBackAll, Camp::Selective, Camp::RarelyFollowsBack, Camp::Insufficient];

    pub fn as_str(self) -> &'static str {
        match self {
            Camp::FollowsBackAll => "follows_back_all",
            Camp::Selective => "selective",
            Camp::RarelyFollowsBack => "rarely_follows_back",
            Camp::Insufficient => "insufficient",
        }
    }
}

/// Thresholds of the camps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CampRule {
    pub min_followers: u64,
    pub follows_back_all_rate: f64,
    pub selective_rate: f64,
}

impl CampRule {
    /// An account with no followers has no follow-back rate and is `insufficient` even when
    /// min_followers is 0.
    pub fn camp(&self, followers: u64, follow_back_rate: Option<f64>) -> Camp {
        match follow_back_rate {
            _ if followers < self.min_followers => Camp::Insufficient,
            None => Camp::Insufficient,
            Some(r) if r >= self.follows_back_all_rate => Camp::FollowsBackAll,
            Some(r) if r >= self.selective_rate => Camp::Selective,
            Some(_) => Camp::RarelyFollowsBack,
        }
    }
}

/// One account's metrics (the id and type are added when the table is built). Counts of
/// accounts are `u32` (there are at most `u32::MAX` accounts), counts of events `u64`: a row
/// per account is held for the whole run, so its size is memory and time.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AccountRow {
    pub followers: u32,
    pub following: u32,
    pub mutuals: u32,
    pub follow_back_rate: MaybeF64,
    pub reciprocated_rate: MaybeF64,
    pub reciprocity: MaybeF64,
    pub followbacks_given: u32,
    pub followback_latency_median_s: MaybeF64,
    pub camp: Camp,
    pub interactions_out: u64,
    pub interactions_in: u64,
    pub partners_out: u32,
    pub engaged_following: u32,
    pub engaged_following_share: MaybeF64,
    pub mutuals_engaged: u32,
    pub mutuals_hollow: u32,
    pub concentration: Concentration,
    pub gini_following: MaybeF64,
    /// Partners that also sent events to this account (for the population pair reciprocity).
    pub partners_reciprocated: u32,
    /// Σ over partners p of min(events a→p, events p→a).
    pub events_reciprocated: u64,
}

/// All account rows (by dense id) and every follow-back latency (ns) of the population.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AccountPass {
    pub rows: Vec<AccountRow>,
    pub latencies_ns: Vec<i64>,
}

/// Accounts per task of the account pass: each task appends its accounts' latencies to one
/// vector of its own, so no account allocates (a vector per account was measurably slower: docs/benchmarks.md).
const ACCOUNTS_PER_TASK: usize = 4096;

/// Computes every account's row.
pub fn account_metrics(follows: &FollowGraph, interactions: &InteractionGraph, rule: &CampRule) -> AccountPass {
    let n = follows.accounts();
    let mut rows: Vec<AccountRow> = Vec::with_capacity(n);
    // Rows land in their final vector, task by task.
    let latencies: Vec<Vec<i64>> = rows.spare_capacity_mut()[..n]
        .par_chunks_mut(ACCOUNTS_PER_TASK)
        .enumerate()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(scratch, sent_to_followees), (task, slots)| {
                let mut latencies = Vec::new();
                let first = task * ACCOUNTS_PER_TASK;
                for (i, slot) in slots.iter_mut().enumerate() {
                    let row = account_row(
                        first + i,
                        follows,
                        interactions,
                        rule,
                        (scratch, sent_to_followees),
                        &mut latencies,
                    );
                    slot.write(row);
                }
                latencies
            },
        )
        .collect();
    // SAFETY: the tasks above wrote every one of the first n slots.
    unsafe { rows.set_len(n) };
    let lengths: Vec<usize> = latencies.iter().map(Vec::len).collect();
    let offsets = super::csr::offsets_of(&lengths);
    let total = *offsets.last().expect("offsets start at 0");
    // Not zeroed first: a single-threaded memset of fresh pages is a serial cost (docs/benchmarks.md).
    let mut latencies_ns: Vec<i64> = Vec::with_capacity(total);
    super::csr::split_mut(&mut latencies_ns.spare_capacity_mut()[..total], &offsets)
        .into_par_iter()
        .zip(latencies.par_iter())
        .for_each(|(to, from)| {
            for (slot, &ns) in to.iter_mut().zip(from) {
                slot.write(ns);
            }
        });
    // SAFETY: every task's slots were written above, and the tasks' lengths sum to total.
    unsafe { latencies_ns.set_len(total) };
    AccountPass { rows, latencies_ns }
}

/// One account's row; its follow-back latencies are appended to `latencies`.
fn account_row(
    a: usize,
    follows: &FollowGraph,
    interactions: &InteractionGraph,
    rule: &CampRule,
    // Only the non-zero sends (the zeros are counted, not listed), and scratch for the
    // concentration figures.
    (scratch, sent_to_followees): (&mut Vec<u64>, &mut Vec<u64>),
    latencies: &mut Vec<i64>,
) -> AccountRow {
    // Four sorted lists of a's neighbours, walked together.
    let followees = follows.following(a);
    let followed_at = follows.following_created(a);
    let followers = follows.followers(a);
    let followed_back_at = follows.followers_created(a);
    let partners = interactions.partners(a);
    let sent = interactions.partner_counts(a);
    let senders = interactions.senders(a);
    let received = interactions.sender_counts(a);

    let (mut mutuals, mut engaged_following, mut mutuals_engaged, mut mutuals_hollow) = (0, 0, 0, 0);
    let first_latency = latencies.len();
    sent_to_followees.clear();
    let (mut p, mut q, mut r) = (0, 0, 0);
    for (&m, &t_out) in followees.iter().zip(followed_at) {
        let w_out = if seek(partners, &mut p, m) { sent[p] } else { 0 };
        if w_out > 0 {
            sent_to_followees.push(w_out);
            engaged_following += 1;
        }
        if !seek(followers, &mut q, m) {
            continue;
        }
        mutuals += 1;
        let t_back = followed_back_at[q];
        // a followed back when m's follow of a came strictly first.
        if t_out != NULL_TS && t_back != NULL_TS && t_back < t_out {
            latencies.push(t_out.saturating_sub(t_back));
        }
        let w_in = if seek(senders, &mut r, m) { received[r] } else { 0 };
        mutuals_engaged += u64::from(w_out > 0 && w_in > 0);
        mutuals_hollow += u64::from(w_out == 0 && w_in == 0);
    }

    let (mut partners_reciprocated, mut events_reciprocated) = (0, 0);
    let mut s = 0;
    for (&t, &w) in partners.iter().zip(sent) {
        if seek(senders, &mut s, t) {
            partners_reciprocated += 1;
            events_reciprocated += w.min(received[s]);
        }
    }

    let followers = followers.len() as u64;
    let following = followees.len() as u64;
    let follow_back_rate = ratio(mutuals, followers);
    let mine = &mut latencies[first_latency..];
    let followbacks_given = mine.len() as u64;
    let median = median_i64(mine).map(|ns| ns / NS_PER_S);
    AccountRow {
        followers: of_accounts(followers),
        following: of_accounts(following),
        mutuals: of_accounts(mutuals),
        follow_back_rate: follow_back_rate.into(),
        reciprocated_rate: ratio(mutuals, following).into(),
        reciprocity: ratio(2 * mutuals, followers + following).into(),
        followbacks_given: of_accounts(followbacks_given),
        followback_latency_median_s: median.into(),
        camp: rule.camp(followers, follow_back_rate),
        interactions_out: sent.iter().sum(),
        interactions_in: received.iter().sum(),
        partners_out: of_accounts(partners.len() as u64),
        engaged_following: of_accounts(engaged_following),
        engaged_following_share: ratio(engaged_following, following).into(),
        mutuals_engaged: of_accounts(mutuals_engaged),
        mutuals_hollow: of_accounts(mutuals_hollow),
        concentration: concentration(sent, scratch),
        gini_following: gini_with_zeros(followees.len() - sent_to_followees.len(), sent_to_followees).into(),
        partners_reciprocated: of_accounts(partners_reciprocated),
        events_reciprocated,
    }
}

/// A count of accounts, which fits `u32` because the dense ids do.
fn of_accounts(count: u64) -> u32 {
    u32::try_from(count).expect("at most u32::MAX accounts")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_account_rows_stay_compact() {
        // A row per account is held for the whole run; ten Option<f64> and u64 counts of
        // accounts made it 280 bytes, and the larger row slowed the stats stage by half
        // (docs/benchmarks.md).
        assert!(std::mem::size_of::<AccountRow>() <= 160, "{} bytes", std::mem::size_of::<AccountRow>());
    }
}
