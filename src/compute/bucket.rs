//! The bucket kernel: every per-account figure of one bucket of accounts, from its graphs.
//!
//! A bucket is any set of accounts whose four neighbour lists (followees, followers, events
//! sent and received) are complete: every account of a run (the in-memory run is the
//! one-bucket case), a range of dense ids (a bucketed run), or the accounts a hash sends to
//! one Spark task. Every execution calls [`bucket_kernel`]; they differ only in how the
//! bucket's graphs are built and in what they do with the results (rows in account order,
//! sums and per-account values for the population, brand and change rows).

use super::account_metrics::{account_metrics, AccountPass, CampRule};
use super::brands::{brand_rows, BrandRow};
use super::follow_changes::{follow_changes, ChangeRow, ChangeSums, Tonight};
use super::follow_graph::{EdgeHalf, FollowGraph};
use super::interaction_graph::InteractionGraph;
use super::population::GraphTotals;

/// Every row routed to one bucket (`routing.rs`), both ends' halves of each input, the
/// bucket's accounts in local ids `0..size`.
#[derive(Debug, Default)]
pub struct BucketRows {
    /// Follows made (out) and received (in), with created_at.
    pub follows: (EdgeHalf, EdgeHalf),
    /// Events sent and received, when there are interactions.
    pub events: Option<(EdgeHalf, EdgeHalf)>,
    /// The previous night's follows, when the nights are compared.
    pub previous: Option<(EdgeHalf, EdgeHalf)>,
}

/// A bucket's graphs, built from its rows.
pub struct BucketGraphs {
    pub follows: FollowGraph,
    pub interactions: InteractionGraph,
    pub previous: Option<FollowGraph>,
}

impl BucketRows {
    /// The graphs of a bucket of `size` accounts; the rows are consumed as they are grouped.
    pub fn into_graphs(self, size: usize) -> BucketGraphs {
        let BucketRows { follows, events, previous } = self;
        let follows = FollowGraph::from_halves(size, follows.0, follows.1);
        let interactions = match events {
            Some((sent, received)) => {
                InteractionGraph::from_halves(size, (sent.local, sent.other), (received.local, received.other))
            }
            None => InteractionGraph::empty(size),
        };
        let previous = previous.map(|(out, inward)| FollowGraph::from_halves(size, out, inward));
        BucketGraphs { follows, interactions, previous }
    }
}

/// What the kernel computes for one bucket, accounts by local id.
pub struct BucketResult {
    /// Every account's row and follow-back latencies (accounts seen only the night before
    /// have rows too, of zeros: callers drop them).
    pub pass: AccountPass,
    pub totals: GraphTotals,
    pub duplicate_follows: u64,
    /// The bucket's brands' rows (local ids; reach_2hop left 0: it needs every account).
    pub brand_rows: Vec<BrandRow>,
    /// Accounts whose follows changed since the previous night (local ids), the sums of the
    /// population diff, and the previous night's duplicate follows.
    pub changes: Option<(Vec<ChangeRow>, ChangeSums, u64)>,
}

/// Computes one bucket. `brands`: local ids of the bucket's brands, ascending.
pub fn bucket_kernel(
    follows: &FollowGraph,
    interactions: &InteractionGraph,
    previous: Option<&FollowGraph>,
    brands: &[u32],
    rule: &CampRule,
) -> BucketResult {
    let pass = account_metrics(follows, interactions, rule);
    let brand_rows = brand_rows(brands, follows, interactions, &pass.rows);
    // Accounts absent tonight have empty lists tonight: the walk needs no other notion of them.
    let changes = previous.map(|before| {
        let (rows, sums) = follow_changes(&Tonight { graph: follows, accounts: follows.accounts() }, before);
        (rows, sums, before.duplicates_removed)
    });
    BucketResult {
        pass,
        totals: GraphTotals::of(follows, interactions),
        duplicate_follows: follows.duplicates_removed,
        brand_rows,
        changes,
    }
}
