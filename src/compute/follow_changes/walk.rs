//! The per-account walk over both nights' lists: what each bucket of a bucketed or Spark
//! run counts its changes with (the in-memory run counts the same from the changed follows
//! alone, `night_diff.rs`).

use rayon::prelude::*;

use super::rows::{is_mass_unfollow, ChangeRow, ChangeSums, Tonight};
use crate::compute::follow_graph::FollowGraph;

/// Elements of sorted `a` that are not in sorted `b`.
fn count_missing(a: &[u32], b: &[u32]) -> u64 {
    a.len() as u64 - common(a, b)
}

/// How many elements sorted, distinct `a` and `b` share: one branch-free merge serves both
/// differences (|a ∖ b| = |a| − common, |b ∖ a| = |b| − common).
fn common(a: &[u32], b: &[u32]) -> u64 {
    let (mut i, mut j, mut shared) = (0, 0, 0u64);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        shared += u64::from(x == y);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    shared
}

/// Sorted intersection of sorted `a` and `b`.
fn intersect(a: &[u32], b: &[u32], out: &mut Vec<u32>) {
    out.clear();
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j < b.len() && b[j] == x {
            out.push(x);
        }
    }
}

#[derive(Default)]
struct Scratch {
    mutual_now: Vec<u32>,
    mutual_before: Vec<u32>,
}

/// Every account's changes (rows with a non-zero count, by index into the graphs) and the
/// population sums. Both graphs cover the same accounts; each account's four sorted lists
/// (followees and followers, tonight and before) are walked as merges: no edge is looked up
/// at random. The in-memory run counts the same from the changed follows (`night_diff.rs`).
pub fn follow_changes(tonight: &Tonight, previous: &FollowGraph) -> (Vec<ChangeRow>, ChangeSums) {
    let n = previous.accounts();
    // Per account: its row, its mutual ends in P, and the one-way P ties it broke.
    let rows: Vec<(ChangeRow, u64, u64)> = (0..n)
        .into_par_iter()
        .map_init(Scratch::default, |s, a| {
            let (now, now_in) = tonight.lists(a);
            let before = previous.following(a);
            let before_in = previous.followers(a);
            intersect(now, now_in, &mut s.mutual_now);
            intersect(before, before_in, &mut s.mutual_before);
            let len = |l: &[u32]| l.len() as u64;
            let (kept, kept_in) = (common(now, before), common(now_in, before_in));
            let mutuals_kept = common(&s.mutual_now, &s.mutual_before);
            let mut row = ChangeRow {
                account: a as u32,
                follows_added: len(now) - kept,
                follows_removed: len(before) - kept,
                followers_gained: len(now_in) - kept_in,
                followers_lost: len(before_in) - kept_in,
                mutuals_gained: len(&s.mutual_now) - mutuals_kept,
                mutuals_lost: len(&s.mutual_before) - mutuals_kept,
                dropped_after_followback: count_missing(&s.mutual_before, now_in),
                following_prev: before.len() as u64,
                mass_unfollow: false,
            };
            row.mass_unfollow = is_mass_unfollow(row.following_prev, row.follows_removed);
            // One-way ties of P from a's side (a→b, no b→a) that a no longer has: |before ∖
            // mutual_before| − |(before ∖ mutual_before) ∩ now|.
            let one_way = before.len() as u64 - s.mutual_before.len() as u64;
            let one_way_kept = {
                let (mut j, mut k, mut kept) = (0, 0, 0u64);
                for &b in before {
                    while k < s.mutual_before.len() && s.mutual_before[k] < b {
                        k += 1;
                    }
                    if k < s.mutual_before.len() && s.mutual_before[k] == b {
                        continue;
                    }
                    while j < now.len() && now[j] < b {
                        j += 1;
                    }
                    kept += u64::from(j < now.len() && now[j] == b);
                }
                kept
            };
            (row, s.mutual_before.len() as u64, one_way - one_way_kept)
        })
        .collect();

    let sum = |f: &(dyn Fn(&(ChangeRow, u64, u64)) -> u64 + Sync)| rows.par_iter().map(f).sum::<u64>();
    let sums = ChangeSums {
        edges_added: sum(&|r| r.0.follows_added),
        edges_removed: sum(&|r| r.0.follows_removed),
        mutual_ends_gained: sum(&|r| r.0.mutuals_gained),
        mutual_ends_lost: sum(&|r| r.0.mutuals_lost),
        previous_edges: previous.edges() as u64,
        previous_mutual_ends: sum(&|r| r.1),
        one_way_broken: sum(&|r| r.2),
        mass_unfollowers: rows.iter().filter(|r| r.0.mass_unfollow).count() as u64,
    };
    let rows = rows.into_iter().map(|r| r.0).filter(ChangeRow::has_changes).collect();
    (rows, sums)
}
