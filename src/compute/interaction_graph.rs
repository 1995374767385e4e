//! Interaction events aggregated to (actor, target, count), in CSR form by actor.
//!
//! Events are kept as events (duplicates count), so the count of a pair is the number of
//! events between them in that direction.

use rayon::prelude::*;

use super::follow_graph::edge_key;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InteractionGraph {
    /// `offsets[a]..offsets[a + 1]` indexes a's partners in `targets` (ascending).
    pub offsets: Vec<usize>,
    pub targets: Vec<u32>,
    /// Events a sent to each partner, parallel to `targets`.
    pub counts: Vec<u64>,
    /// Events each account received.
    pub received: Vec<u64>,
    /// Events in all.
    pub events: u64,
}

impl InteractionGraph {
    /// Aggregates dense event rows (no self-loops) over `n` accounts.
    pub fn build(n: usize, actor: &[u32], target: &[u32]) -> InteractionGraph {
        let mut keys: Vec<u64> = (0..actor.len()).into_par_iter().map(|i| edge_key(actor[i], target[i])).collect();
        keys.par_sort_unstable();

        let mut offsets = vec![0usize; n + 1];
        let mut targets = Vec::new();
        let mut counts = Vec::new();
        let mut received = vec![0u64; n];
        let mut i = 0;
        while i < keys.len() {
            let key = keys[i];
            let start = i;
            while i < keys.len() && keys[i] == key {
                i += 1;
            }
            let count = (i - start) as u64;
            let (a, t) = ((key >> 32) as usize, key as u32);
            offsets[a + 1] += 1;
            received[t as usize] += count;
            targets.push(t);
            counts.push(count);
        }
        for a in 0..n {
            offsets[a + 1] += offsets[a];
        }
        InteractionGraph { offsets, targets, counts, received, events: keys.len() as u64 }
    }

    /// An empty graph over `n` accounts (no interactions input).
    pub fn empty(n: usize) -> InteractionGraph {
        InteractionGraph { offsets: vec![0; n + 1], received: vec![0; n], ..Default::default() }
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
        let g = InteractionGraph::build(3, &[0, 0, 1, 0, 2], &[1, 1, 0, 2, 0]);
        assert_eq!(g.events, 5);
        assert_eq!(g.pairs(), 4);
        assert_eq!(g.count(0, 1), 2);
        assert_eq!(g.count(1, 2), 0);
        assert_eq!(g.received, vec![2, 2, 1]);
        assert_eq!(g.partners(0), &[1, 2]);
    }
}
