//! A synthetic population: accounts, their follow-back camps, and who follows whom.
//!
//! Follower counts are heavy-tailed (targets drawn by Pareto popularity); ~1% of accounts
//! are brands that mostly follow back within hours; people fall in three camps — back almost
//! everyone within hours, selectively days later, almost never. Real-export noise is mixed
//! in: duplicate rows, null timestamps and a few self-follows, so cleaning has work to do.
//! Each block of accounts draws from its own seeded generator: the output depends on the
//! seed only, never on the thread count.

use rand::{RngExt, SeedableRng};
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Distribution, Exp, LogNormal, Pareto};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

/// Accounts per generator block.
pub const BLOCK: usize = 4096;
/// 2024-06-01T00:00:00Z in microseconds: the start of the follow history.
pub const HISTORY_START_US: i64 = 1_717_200_000_000_000;
pub const DAY_US: i64 = 86_400_000_000;
const HOUR_US: f64 = 3_600_000_000.0;
const HISTORY_DAYS: i64 = 540;

/// What kind of account, and so how it follows back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Brand,
    FollowsBackAll,
    Selective,
    Rarely,
}

impl Kind {
    /// Chance of following back, and mean delay in hours.
    fn follow_back(self) -> (f64, f64) {
        match self {
            Kind::Brand => (0.85, 4.0),
            Kind::FollowsBackAll => (0.95, 3.0),
            Kind::Selective => (0.30, 72.0),
            Kind::Rarely => (0.02, 240.0),
        }
    }
}

/// A generator seeded for one (seed, stream, block).
pub fn block_rng(seed: u64, stream: u64, block: usize) -> Pcg64Mcg {
    let mix = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(stream.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(block as u64);
    Pcg64Mcg::seed_from_u64(mix)
}

/// Distinct random non-negative 63-bit ids, as real exports have (not 0..N).
pub fn account_ids(n: usize, seed: u64) -> Vec<i64> {
    let mut ids: Vec<i64> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .flat_map_iter(|b| {
            let mut rng = block_rng(seed, 1, b);
            let len = BLOCK.min(n - b * BLOCK);
            (0..len).map(move |_| (rng.random::<u64>() >> 1) as i64).collect::<Vec<_>>()
        })
        .collect();
    // Collisions are ~n²/2⁶⁴ likely; replace any, deterministically.
    let mut sorted = ids.clone();
    sorted.par_sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        let mut seen = std::collections::HashSet::with_capacity(n);
        let mut rng = block_rng(seed, 2, 0);
        for id in ids.iter_mut() {
            while !seen.insert(*id) {
                *id = (rng.random::<u64>() >> 1) as i64;
            }
        }
    }
    ids
}

pub fn kinds(n: usize, seed: u64) -> Vec<Kind> {
    (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .flat_map_iter(|b| {
            let mut rng = block_rng(seed, 3, b);
            let len = BLOCK.min(n - b * BLOCK);
            (0..len)
                .map(move |_| match rng.random::<f64>() {
                    x if x < 0.01 => Kind::Brand,
                    x if x < 0.16 => Kind::FollowsBackAll,
                    x if x < 0.66 => Kind::Selective,
                    _ => Kind::Rarely,
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Follow rows by account index: (follower, followee, created_at µs or None).
#[derive(Debug, Clone, Default)]
pub struct FollowRows {
    pub follower: Vec<u32>,
    pub followee: Vec<u32>,
    pub created_us: Vec<Option<i64>>,
}

/// Who follows whom, drawn one block of accounts at a time: a block needs only the shared
/// popularity table, so a population of any size is generated in a block's memory.
pub struct FollowModel<'a> {
    kinds: &'a [Kind],
    targets: WeightedAliasIndex<f64>,
    out_degree: LogNormal<f64>,
    seed: u64,
}

/// One block's follow rows, and for each account its own (initial) follows: where to find
/// them, to whom, and whether they were followed back — what its interactions are drawn from.
#[derive(Debug, Default)]
pub struct BlockFollows {
    pub rows: FollowRows,
    /// Account `first + i`'s initial follows are `targets[starts[i]..starts[i + 1]]`.
    pub first: usize,
    pub starts: Vec<usize>,
    pub targets: Vec<u32>,
    pub followed_back: Vec<bool>,
}

impl BlockFollows {
    /// The accounts `a` chose to follow, and whether each followed back.
    pub fn own(&self, a: usize) -> (&[u32], &[bool]) {
        let i = a - self.first;
        let range = self.starts[i]..self.starts[i + 1];
        (&self.targets[range.clone()], &self.followed_back[range])
    }
}

impl<'a> FollowModel<'a> {
    /// Popularity by Pareto (brands 25× more), and out-degrees by LogNormal around the mean.
    pub fn new(kinds: &'a [Kind], mean_following: f64, seed: u64) -> FollowModel<'a> {
        let n = kinds.len();
        // Each follow-back adds a follow; aim the initial ones so the total mean is about right.
        let initial_mean = (mean_following / 1.3).max(0.1);
        let popularity: Vec<f64> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .flat_map_iter(|b| {
                let mut rng = block_rng(seed, 4, b);
                let pareto = Pareto::new(1.0, 1.2).expect("valid Pareto");
                let range = b * BLOCK..(b * BLOCK + BLOCK).min(n);
                let kinds = &kinds[range];
                kinds
                    .iter()
                    .map(move |&k| pareto.sample(&mut rng) * if k == Kind::Brand { 25.0 } else { 1.0 })
                    .collect::<Vec<_>>()
            })
            .collect();
        let targets = WeightedAliasIndex::new(popularity).expect("positive weights");
        let sigma: f64 = 1.0;
        let out_degree = LogNormal::new(initial_mean.ln() - sigma * sigma / 2.0, sigma).expect("valid LogNormal");
        FollowModel { kinds, targets, out_degree, seed }
    }

    pub fn blocks(&self) -> usize {
        self.kinds.len().div_ceil(BLOCK)
    }

    /// Block `b`: initial follows by popularity, then follow-backs by each followee's camp.
    pub fn block(&self, b: usize) -> BlockFollows {
        let (n, kinds) = (self.kinds.len(), self.kinds);
        let mut rng = block_rng(self.seed, 5, b);
        let mut out = BlockFollows { first: b * BLOCK, starts: vec![0], ..Default::default() };
        let mut own_rows: Vec<usize> = Vec::new();
        let mut chosen = std::collections::HashSet::new();
        for a in b * BLOCK..(b * BLOCK + BLOCK).min(n) {
            let degree = (self.out_degree.sample(&mut rng).round() as usize).min(n / 2);
            chosen.clear();
            for _ in 0..degree {
                // Without replacement: popular targets would otherwise repeat; give up a
                // slot after a few tries so near-complete rows stay cheap.
                let Some(t) = (0..16).map(|_| self.targets.sample(&mut rng)).find(|&t| t != a && !chosen.contains(&t))
                else {
                    continue;
                };
                chosen.insert(t);
                let created = HISTORY_START_US + rng.random_range(0..HISTORY_DAYS * DAY_US);
                own_rows.push(out.rows.follower.len());
                out.targets.push(t as u32);
                push_follow(&mut out.rows, a, t, created, &mut rng);
            }
            out.starts.push(out.targets.len());
        }
        // Follow-backs, decided by the followee's camp.
        let mut followed_back = vec![false; out.rows.follower.len()];
        for (i, back) in followed_back.iter_mut().enumerate() {
            let (a, t) = (out.rows.follower[i] as usize, out.rows.followee[i] as usize);
            if a == t {
                continue;
            }
            let (p, mean_hours) = kinds[t].follow_back();
            if rng.random_bool(p) {
                let delay = Exp::new(1.0 / mean_hours).expect("valid Exp").sample(&mut rng) * HOUR_US;
                let created = out.rows.created_us[i].unwrap_or(HISTORY_START_US) + 1 + delay as i64;
                push_follow(&mut out.rows, t, a, created, &mut rng);
                *back = true;
            }
        }
        out.followed_back = own_rows.iter().map(|&i| followed_back[i]).collect();
        out
    }
}

/// One follow row, with the noise real exports carry: 0.2% re-exported duplicates, 0.5%
/// null timestamps, and a self-follow now and then.
fn push_follow(rows: &mut FollowRows, a: usize, t: usize, created: i64, rng: &mut Pcg64Mcg) {
    let created = (!rng.random_bool(0.005)).then_some(created);
    rows.follower.push(a as u32);
    rows.followee.push(t as u32);
    rows.created_us.push(created);
    if rng.random_bool(0.002) {
        rows.follower.push(a as u32);
        rows.followee.push(t as u32);
        rows.created_us.push(created.map(|c| c + rng.random_range(0..30 * DAY_US)));
    }
    if rng.random_bool(0.0002) {
        rows.follower.push(a as u32);
        rows.followee.push(a as u32);
        rows.created_us.push(created);
    }
}
