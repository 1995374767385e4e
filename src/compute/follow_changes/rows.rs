//! What a night-to-night comparison produces: change rows, the population diff and its
//! sums, and the rules both ways of counting them share.

use crate::compute::follow_graph::FollowGraph;
use crate::compute::ratio;

/// One account's changes (dense id in U'; rows are sorted by key before they are written).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangeRow {
    pub account: u32,
    pub follows_added: u64,
    pub follows_removed: u64,
    pub followers_gained: u64,
    pub followers_lost: u64,
    pub mutuals_gained: u64,
    pub mutuals_lost: u64,
    pub dropped_after_followback: u64,
    pub following_prev: u64,
    pub mass_unfollow: bool,
}

impl ChangeRow {
    pub(super) fn has_changes(&self) -> bool {
        self.follows_added
            + self.follows_removed
            + self.followers_gained
            + self.followers_lost
            + self.mutuals_gained
            + self.mutuals_lost
            + self.dropped_after_followback
            > 0
    }
}

/// The population columns that a previous snapshot adds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PopulationChanges {
    pub edges_added: u64,
    pub edges_removed: u64,
    pub mutual_dyads_gained: u64,
    pub mutual_dyads_lost: u64,
    pub mutual_tie_break_rate: Option<f64>,
    pub one_way_tie_break_rate: Option<f64>,
    pub mass_unfollowers: u64,
}

/// Accounts that followed at least this many are candidates for a mass unfollow.
pub const MASS_UNFOLLOW_MIN_FOLLOWING: u64 = 50;

/// The contract's mass unfollow: an account that followed at least
/// [`MASS_UNFOLLOW_MIN_FOLLOWING`] the night before and removed at least 90% of them.
pub fn is_mass_unfollow(following_prev: u64, follows_removed: u64) -> bool {
    following_prev >= MASS_UNFOLLOW_MIN_FOLLOWING && 10 * follows_removed >= 9 * following_prev
}

/// Tonight's graph over a range of U' ids: accounts `0..accounts` of the range exist
/// tonight (U' ids of tonight's accounts equal their U ids, as U' extends U); the rest were
/// seen only the night before and have no lists tonight.
pub struct Tonight<'a> {
    pub graph: &'a FollowGraph,
    pub accounts: usize,
}

impl Tonight<'_> {
    /// a's followees and followers tonight, ascending.
    pub(super) fn lists(&self, a: usize) -> (&[u32], &[u32]) {
        if a < self.accounts {
            (self.graph.following(a), self.graph.followers(a))
        } else {
            (&[], &[])
        }
    }
}

/// The population diff's sums over a range of accounts: they add up across ranges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangeSums {
    pub edges_added: u64,
    pub edges_removed: u64,
    pub mutual_ends_gained: u64,
    pub mutual_ends_lost: u64,
    pub previous_edges: u64,
    pub previous_mutual_ends: u64,
    pub one_way_broken: u64,
    pub mass_unfollowers: u64,
}

impl ChangeSums {
    pub fn add(&mut self, other: &ChangeSums) {
        self.edges_added += other.edges_added;
        self.edges_removed += other.edges_removed;
        self.mutual_ends_gained += other.mutual_ends_gained;
        self.mutual_ends_lost += other.mutual_ends_lost;
        self.previous_edges += other.previous_edges;
        self.previous_mutual_ends += other.previous_mutual_ends;
        self.one_way_broken += other.one_way_broken;
        self.mass_unfollowers += other.mass_unfollowers;
    }

    /// The population columns, once every account has been added.
    pub fn finish(&self) -> PopulationChanges {
        let p_mutual_dyads = self.previous_mutual_ends / 2;
        let p_asymmetric = self.previous_edges - 2 * p_mutual_dyads;
        let mutual_dyads_lost = self.mutual_ends_lost / 2;
        PopulationChanges {
            edges_added: self.edges_added,
            edges_removed: self.edges_removed,
            mutual_dyads_gained: self.mutual_ends_gained / 2,
            mutual_dyads_lost,
            mutual_tie_break_rate: ratio(mutual_dyads_lost, p_mutual_dyads),
            one_way_tie_break_rate: ratio(self.one_way_broken, p_asymmetric),
            mass_unfollowers: self.mass_unfollowers,
        }
    }
}
