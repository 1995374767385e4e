//! Synthetic interactions: each account talks mostly to a handful of the accounts it follows.
//!
//! About 80% of an account's events go to 1–5 favourite followees (Zipf-weighted among
//! them), 15% to other followees, 5% to accounts it does not follow (by popularity). In a
//! fresh population a favourite that follows back replies to 5% of those events, so some
//! pairs talk both ways. Kinds are reply, mention, like and repost; times fall in the last 30
//! days of the history.

use rand::RngExt;
use rand_distr::{Distribution, LogNormal};
use rayon::prelude::*;

use rand_pcg::Pcg64Mcg;

use super::population::{block_rng, BlockFollows, FollowRows, BLOCK, DAY_US, HISTORY_START_US};

pub const KINDS: [&str; 4] = ["like", "reply", "repost", "mention"];
const REPLY: u8 = 1;
/// How often a favourite that follows back answers an event (fresh populations).
const REPLY_CHANCE: f64 = 0.05;
const KIND_WEIGHTS: [f64; 4] = [0.55, 0.2, 0.15, 0.1];
const ACTIVITY_START_US: i64 = HISTORY_START_US + 510 * DAY_US;

/// Interaction rows by account index.
#[derive(Debug, Clone, Default)]
pub struct InteractionRows {
    pub actor: Vec<u32>,
    pub target: Vec<u32>,
    pub created_us: Vec<i64>,
    /// Index into [`KINDS`].
    pub kind: Vec<u8>,
}

/// Each account's followees (sorted, distinct), as CSR.
fn followees(n: usize, follows: &FollowRows) -> (Vec<usize>, Vec<u32>) {
    let mut pairs: Vec<u64> = follows
        .follower
        .par_iter()
        .zip(&follows.followee)
        .filter(|(a, t)| a != t)
        .map(|(&a, &t)| (u64::from(a) << 32) | u64::from(t))
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    let mut offsets = vec![0usize; n + 1];
    for &p in &pairs {
        offsets[(p >> 32) as usize + 1] += 1;
    }
    for a in 0..n {
        offsets[a + 1] += offsets[a];
    }
    (offsets, pairs.into_iter().map(|p| p as u32).collect())
}

fn pick_kind(x: f64) -> u8 {
    let mut acc = 0.0;
    for (i, w) in KIND_WEIGHTS.iter().enumerate() {
        acc += w;
        if x < acc {
            return i as u8;
        }
    }
    (KINDS.len() - 1) as u8
}

/// How many events each account sends: LogNormal around the mean.
fn activity(mean_events: f64) -> LogNormal<f64> {
    let sigma: f64 = 1.2;
    LogNormal::new(mean_events.max(0.01).ln() - sigma * sigma / 2.0, sigma).expect("valid LogNormal")
}

/// Account `a`'s events: `events` of them, 80% to 1–5 favourites among `mine` (the accounts
/// it follows; `is_mutual(i)`: whether `mine[i]` follows back), 15% to the rest of `mine`,
/// 5% to anyone of the `n`. With `replies` = Some(p), a favourite that follows back answers
/// each event with probability p (a reply within hours): conversations go both ways.
#[allow(clippy::too_many_arguments)]
fn draw_events(
    a: usize,
    mine: &[u32],
    is_mutual: impl Fn(usize) -> bool,
    (n, events): (usize, usize),
    replies: Option<f64>,
    favourites: &mut Vec<(u32, bool)>,
    rng: &mut Pcg64Mcg,
    rows: &mut InteractionRows,
) {
    favourites.clear();
    for _ in 0..rng.random_range(1..=5usize).min(mine.len()) {
        // Favourites lean towards mutuals: up to three tries to find one.
        let mut pick = rng.random_range(0..mine.len());
        for _ in 0..2 {
            if is_mutual(pick) {
                break;
            }
            pick = rng.random_range(0..mine.len());
        }
        favourites.push((mine[pick], replies.is_some() && is_mutual(pick)));
    }
    for _ in 0..events {
        let roll = rng.random::<f64>();
        let (target, answers) = if !favourites.is_empty() && roll < 0.8 {
            // Zipf-like: the first favourite gets the most.
            let rank = (rng.random::<f64>().powi(2) * favourites.len() as f64) as usize;
            favourites[rank]
        } else if !mine.is_empty() && roll < 0.95 {
            (mine[rng.random_range(0..mine.len())], false)
        } else {
            let mut t = rng.random_range(0..n) as u32;
            while t as usize == a {
                t = rng.random_range(0..n) as u32;
            }
            (t, false)
        };
        let at = ACTIVITY_START_US + rng.random_range(0..30 * DAY_US);
        rows.actor.push(a as u32);
        rows.target.push(target);
        rows.created_us.push(at);
        rows.kind.push(pick_kind(rng.random::<f64>()));
        if let (true, Some(p)) = (answers, replies) {
            if rng.random_bool(p) {
                rows.actor.push(target);
                rows.target.push(a as u32);
                rows.created_us.push(at + rng.random_range(1..6 * 3_600_000_000));
                rows.kind.push(REPLY);
            }
        }
    }
}

/// Interactions on a whole follow graph (the next night of a population): each account
/// talks to the accounts it follows.
pub fn interactions(n: usize, follows: &FollowRows, mean_events: f64, seed: u64) -> InteractionRows {
    let (offsets, targets) = followees(n, follows);
    let activity = activity(mean_events);
    let blocks: Vec<InteractionRows> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let mut rng = block_rng(seed, 6, b);
            let mut rows = InteractionRows::default();
            let mut favourites: Vec<(u32, bool)> = Vec::new();
            for a in b * BLOCK..(b * BLOCK + BLOCK).min(n) {
                let mine = &targets[offsets[a]..offsets[a + 1]];
                let events = activity.sample(&mut rng).round() as usize;
                if events == 0 || n < 2 {
                    continue;
                }
                let is_mutual = |i: usize| {
                    let p = mine[i] as usize;
                    targets[offsets[p]..offsets[p + 1]].binary_search(&(a as u32)).is_ok()
                };
                draw_events(a, mine, is_mutual, (n, events), None, &mut favourites, &mut rng, &mut rows);
            }
            rows
        })
        .collect();
    let mut all = InteractionRows::default();
    for rows in blocks {
        all.actor.extend(rows.actor);
        all.target.extend(rows.target);
        all.created_us.extend(rows.created_us);
        all.kind.extend(rows.kind);
    }
    all
}

/// Interactions of one block of a fresh population, from what the block itself drew: each
/// account talks to the accounts it chose to follow (see [`BlockFollows`]), and those of them
/// that followed back reply now and then.
pub fn block_interactions(
    n: usize,
    block: usize,
    follows: &BlockFollows,
    mean_events: f64,
    seed: u64,
) -> InteractionRows {
    let activity = activity(mean_events);
    let mut rng = block_rng(seed, 6, block);
    let mut rows = InteractionRows::default();
    let mut favourites: Vec<(u32, bool)> = Vec::new();
    for a in follows.first..follows.first + follows.starts.len() - 1 {
        let (mine, back) = follows.own(a);
        let events = activity.sample(&mut rng).round() as usize;
        if events == 0 || n < 2 {
            continue;
        }
        draw_events(a, mine, |i| back[i], (n, events), Some(REPLY_CHANCE), &mut favourites, &mut rng, &mut rows);
    }
    rows
}
