//! Interaction events aggregated to (actor, target, count), in CSR form both ways.
//!
//! Events are kept as events (duplicates count), so the count of a pair is the number of
//! events between them in that direction. Built like the follow graph: grouped by actor with
//! each list sorted by target (`sorted_lists.rs`), then run-length counted; then transposed.

use rayon::prelude::*;

use super::csr::{offsets_of, split_mut};
use super::grouping::transpose;
use super::sorted_lists::group_sorted_lists;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InteractionGraph {
    /// `offsets[a]..offsets[a + 1]` indexes a's partners in `targets` (ascending).
    pub offsets: Vec<usize>,
    pub targets: Vec<u32>,
    /// Events a sent to each partner, parallel to `targets`.
    pub counts: Vec<u64>,
    /// `in_offsets[b]..in_offsets[b + 1]` indexes who sent b events, in `actors` (ascending).
    pub in_offsets: Vec<usize>,
    pub actors: Vec<u32>,
    /// Events each of those sent to b, parallel to `actors`.
    pub in_counts: Vec<u64>,
    /// Events each account received.
    pub received: Vec<u64>,
    /// Events in all.
    pub events: u64,
}

/// How many distinct targets a sorted list holds.
fn distinct(list: &[u32]) -> usize {
    list.iter().zip(list.iter().skip(1)).filter(|(a, b)| a != b).count() + usize::from(!list.is_empty())
}

/// Writes a sorted list's runs as (target, events) into `targets` and `counts`.
fn count_runs(list: &[u32], targets: &mut [u32], counts: &mut [u64]) {
    let mut run = 0;
    for (i, &t) in list.iter().enumerate() {
        if i > 0 && list[i - 1] == t {
            counts[run - 1] += 1;
        } else {
            targets[run] = t;
            counts[run] = 1;
            run += 1;
        }
    }
}

/// One CSR side with event counts: offsets, partners, counts.
type CountedCsr = (Vec<usize>, Vec<u32>, Vec<u64>);

/// Groups `other` by `own`, each list sorted with its events counted.
/// Takes the columns by value so each is freed as soon as it has been used.
fn group_counted(n: usize, own: Vec<u32>, other: Vec<u32>) -> CountedCsr {
    // Only the targets are grouped (4 bytes an event); counts come from runs once sorted.
    let no_payload = vec![(); own.len()];
    let grouped = group_sorted_lists(n, &own, &other, &no_payload, |list, _| distinct(list));
    drop((other, own));
    let offsets = offsets_of(&grouped.finished);
    let pairs = *offsets.last().expect("offsets start at 0");
    let (mut targets, mut counts) = (vec![0u32; pairs], vec![0u64; pairs]);
    split_mut(&mut targets, &offsets)
        .into_par_iter()
        .zip(split_mut(&mut counts, &offsets))
        .enumerate()
        .with_min_len(1024)
        .for_each(|(a, (t, c))| count_runs(&grouped.targets[grouped.offsets[a]..grouped.offsets[a + 1]], t, c));
    (offsets, targets, counts)
}

impl InteractionGraph {
    /// Aggregates dense event rows (no self-loops) over `n` accounts.
    /// Takes the columns by value so each is freed as soon as it has been used.
    pub fn build(n: usize, actor: Vec<u32>, target: Vec<u32>) -> InteractionGraph {
        let events = actor.len() as u64;
        let (offsets, targets, counts) = group_counted(n, actor, target);
        let (in_offsets, actors, in_counts) = transpose(&offsets, &targets, &counts);
        Self::assemble(events, (offsets, targets, counts), (in_offsets, actors, in_counts))
    }

    /// Builds the graph of a range of `n` accounts (one bucket) from both halves of its
    /// events: `sent` as (local actor, global target), `received` as (local target, global
    /// actor). Each list is exactly what [`Self::build`] gives that account.
    pub fn from_halves(n: usize, sent: (Vec<u32>, Vec<u32>), received: (Vec<u32>, Vec<u32>)) -> InteractionGraph {
        let events = sent.0.len() as u64;
        let out = group_counted(n, sent.0, sent.1);
        let inward = group_counted(n, received.0, received.1);
        Self::assemble(events, out, inward)
    }

    fn assemble(events: u64, out: CountedCsr, inward: CountedCsr) -> InteractionGraph {
        let ((offsets, targets, counts), (in_offsets, actors, in_counts)) = (out, inward);
        let received = in_offsets.par_windows(2).map(|w| in_counts[w[0]..w[1]].iter().sum()).collect();
        InteractionGraph { offsets, targets, counts, in_offsets, actors, in_counts, received, events }
    }

    /// An empty graph over `n` accounts (no interactions input).
    pub fn empty(n: usize) -> InteractionGraph {
        InteractionGraph {
            offsets: vec![0; n + 1],
            in_offsets: vec![0; n + 1],
            received: vec![0; n],
            ..Default::default()
        }
    }

    /// a's partners, ascending.
    #[inline]
    pub fn partners(&self, a: usize) -> &[u32] {
        &self.targets[self.offsets[a]..self.offsets[a + 1]]
    }

    /// Events a sent to each of its partners.
    #[inline]
    pub fn partner_counts(&self, a: usize) -> &[u64] {
        &self.counts[self.offsets[a]..self.offsets[a + 1]]
    }

    /// Accounts that sent b events, ascending.
    #[inline]
    pub fn senders(&self, b: usize) -> &[u32] {
        &self.actors[self.in_offsets[b]..self.in_offsets[b + 1]]
    }

    /// Events each of [`Self::senders`] sent to b.
    #[inline]
    pub fn sender_counts(&self, b: usize) -> &[u64] {
        &self.in_counts[self.in_offsets[b]..self.in_offsets[b + 1]]
    }

    /// Events a sent to b.
    #[inline]
    pub fn count(&self, a: usize, b: u32) -> u64 {
        self.partners(a).binary_search(&b).map_or(0, |i| self.partner_counts(a)[i])
    }

    /// Distinct (actor, target) pairs.
    pub fn pairs(&self) -> usize {
        self.targets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_aggregate_per_directed_pair() {
        let g = InteractionGraph::build(3, vec![0, 0, 1, 0, 2], vec![1, 1, 0, 2, 0]);
        assert_eq!(g.events, 5);
        assert_eq!(g.pairs(), 4);
        assert_eq!(g.count(0, 1), 2);
        assert_eq!(g.count(1, 2), 0);
        assert_eq!(g.received, vec![2, 2, 1]);
        assert_eq!(g.partners(0), &[1, 2]);
        assert_eq!(g.senders(0), &[1, 2]);
        assert_eq!(g.sender_counts(1), &[2]);
    }
}
