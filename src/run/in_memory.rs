//! The in-memory execution: the whole graph at once, as one bucket.
//!
//! The fast path. Its graphs are built from whole columns (no halves: each edge is held
//! once, not twice), the bucket kernel runs on all accounts, and the night-to-night changes
//! are counted from the changed follows alone (`compute/follow_changes/night_diff.rs`),
//! after the interactions are freed. `prepare` is also what `validate` runs.

use std::sync::Arc;

use serde_json::json;

use crate::compute::accounts::{clean_accounts, AccountList, AccountTypes, AccountsDropped};
use crate::compute::brands::{fill_reach, BrandRow};
use crate::compute::bucket::bucket_kernel;
use crate::compute::clean::{clean_edges, Dropped, EdgeRows, Window};
use crate::compute::follow_changes::{compare_nights, Changes};
use crate::compute::follow_graph::FollowGraph;
use crate::compute::interaction_graph::InteractionGraph;
use crate::compute::population::{population, Population};
use crate::compute::reach::{Followers, SampledFollowers};
use crate::compute::universe::Universe;
use crate::config::job::Job;
use crate::error::{Error, Result};
use crate::io::inputs::{read_inputs, Inputs, Scans};
use crate::output::computed::{AccountTable, Computed};
use crate::output::manifest::{ExecutionEntry, Rejected};
use crate::output::progress::Reporter;
use crate::run::params::{brand_ids, camp_rule, interactions_window};
use crate::run::streaming::read_previous_night;
use crate::run::workers::Workers;

/// The inputs, cleaned and turned into graphs.
pub struct Prepared {
    pub scans: Scans,
    pub universe: Universe,
    pub account_list: AccountList,
    pub follow_graph: FollowGraph,
    pub interaction_graph: InteractionGraph,
    pub rejected: Rejected,
}

/// Every input after the row rules, with what each rule dropped.
struct Cleaned {
    follows: (EdgeRows, Dropped),
    interactions: Option<(EdgeRows, Dropped)>,
    accounts: Option<(AccountList, AccountsDropped)>,
}

/// Computes every table with the whole graph in memory.
pub fn compute(job: &Job, reporter: &Reporter, workers: &Workers, scans: Scans) -> Result<Computed> {
    let Prepared { scans, universe, account_list, follow_graph, interaction_graph, rejected } =
        prepare(job, reporter, workers, scans)?;
    workers.pool.install(|| {
        let types = AccountTypes::build(&universe, &account_list);
        let brands = brand_ids(job, scans.id_type, reporter, &universe, &types);
        let (population, rows, brands) = reporter.stage(
            "stats",
            || stats(job, &universe, &brands, &follow_graph, &interaction_graph),
            |(_, _, b)| json!({ "brands": b.len() }),
        )?;
        // The follows' times and the interactions served the stats only. Freed now, their
        // memory is what the previous night is read and grouped into, instead of pages the
        // machine must clear afresh.
        drop(interaction_graph);
        let mut follow_graph = follow_graph;
        follow_graph.forget_times();
        let (changes, previous_drops) = match &scans.previous_follows {
            None => (None, None),
            Some(scan) => {
                let (changes, dropped) = reporter.stage(
                    "changes",
                    || {
                        let (previous, dropped) = read_previous_night(workers, reporter, scan, &universe)?;
                        let changes = compare_nights(&universe, &follow_graph, population.mutual_dyads, previous);
                        Ok::<_, Error>((changes, dropped))
                    },
                    |(c, _): &(Changes, Dropped)| {
                        json!({ "accounts_changed": c.rows.len(), "edges_added": c.population.edges_added })
                    },
                )?;
                (Some(changes), Some(dropped))
            }
        };
        let rejected = rejected.with_previous(previous_drops, changes.as_ref().map(|c| c.duplicates_removed));
        Ok(Computed {
            scans,
            universe,
            types,
            by_followers: crate::compute::by_followers::by_followers(&rows),
            accounts: AccountTable::Rows(rows),
            population,
            brands,
            changes,
            rejected,
            execution: ExecutionEntry::in_memory(),
        })
    })
}

/// The whole graph as one bucket through the bucket kernel; then what needs every account
/// at once: the population figures and the brands' 2-hop reach.
fn stats(
    job: &Job,
    universe: &Universe,
    brands: &[u32],
    follows: &FollowGraph,
    interactions: &InteractionGraph,
) -> Result<(Population, Vec<crate::compute::account_metrics::AccountRow>, Vec<BrandRow>)> {
    let mut result = bucket_kernel(follows, interactions, None, brands, &camp_rule(job));
    let population = population(result.totals, &mut result.pass);
    let mut brand_rows = result.brand_rows;
    let sample = (job.params.reach_2hop_estimate && !brand_rows.is_empty())
        .then(|| SampledFollowers::build(Followers::of_graph(follows), universe.keys()));
    fill_reach(&mut brand_rows, Followers::of_graph(follows), sample.as_ref());
    Ok((population, result.pass.rows, brand_rows))
}

/// Reads, checks and cleans the inputs, and builds the graphs.
pub fn prepare(job: &Job, reporter: &Reporter, workers: &Workers, scans: Scans) -> Result<Prepared> {
    // The previous night is read later, straight into dense ids.
    let previous_rows = scans.previous_follows.as_ref().map_or(0, |d| d.rows());
    let total_rows: u64 = scans.all().map(|d| d.rows()).sum::<u64>() - previous_rows;
    let bar = reporter.bar("read", total_rows);
    let on_rows = {
        let bar = bar.clone();
        Arc::new(move |rows: u64| bar.inc(rows))
    };
    let inputs = reporter.stage(
        "read",
        || workers.runtime.block_on(read_inputs(&scans, workers.concurrency, on_rows)),
        |_| json!({ "rows": total_rows }),
    )?;
    bar.finish_and_clear();
    workers.pool.install(|| {
        let cleaned = reporter.stage(
            "clean",
            || Ok::<_, Error>(clean(inputs, interactions_window(job))),
            |c| json!({ "follows": c.follows.0.len(), "interactions": c.interactions.as_ref().map(|i| i.0.len()) }),
        )?;
        let Cleaned { follows: (follows, follow_drops), interactions, accounts } = cleaned;
        let (interactions, interaction_drops) = interactions.unzip();
        let (account_list, account_drops) = accounts.unzip();
        let account_list = account_list.unwrap_or_default();
        let (universe, dense_follows, dense_interactions) = reporter.stage(
            "ids",
            || number_accounts(follows, interactions, &account_list),
            |(u, _, _)| json!({ "accounts": u.len() }),
        )?;
        let n = universe.len();
        let follow_graph = reporter.stage(
            "dyads",
            || -> Result<_> {
                let (src, dst, ts) = dense_follows;
                Ok(FollowGraph::build(n, src, dst, ts))
            },
            |g| json!({ "follow_edges": g.edges(), "duplicate_follows": g.duplicates_removed }),
        )?;
        let interaction_graph = reporter.stage(
            "interactions",
            || -> Result<_> {
                Ok(match dense_interactions {
                    Some((actor, target)) => InteractionGraph::build(n, actor, target),
                    None => InteractionGraph::empty(n),
                })
            },
            |g| json!({ "events": g.events, "pairs": g.pairs() }),
        )?;
        let rejected = Rejected::new(follow_drops, follow_graph.duplicates_removed, interaction_drops, account_drops);
        Ok(Prepared { scans, universe, account_list, follow_graph, interaction_graph, rejected })
    })
}

/// The contract's row rules on every input (follows have no window).
fn clean(inputs: Inputs, window: Window) -> Cleaned {
    Cleaned {
        follows: clean_edges(inputs.follows, Window::default(), true),
        interactions: inputs.interactions.map(|raw| clean_edges(raw, window, false)),
        accounts: inputs.accounts.map(clean_accounts),
    }
}

type DenseFollows = (Vec<u32>, Vec<u32>, Option<Vec<i64>>);
type DenseEvents = Option<(Vec<u32>, Vec<u32>)>;

/// Numbers every account (dense ids in key order) in one hashing pass over every id column;
/// each raw column is freed as soon as it has been numbered.
fn number_accounts(
    follows: EdgeRows,
    interactions: Option<EdgeRows>,
    accounts: &AccountList,
) -> Result<(Universe, DenseFollows, DenseEvents)> {
    let EdgeRows { src, dst, ts } = follows;
    let mut columns = vec![src, dst];
    if let Some(i) = interactions {
        columns.extend([i.src, i.dst]);
    }
    let (universe, mut dense) = crate::compute::dense_ids::universe_and_dense(columns, &accounts.keys);
    crate::run::plan::check_accounts(universe.len())?;
    let interactions = (dense.len() == 4).then(|| {
        let dst = dense.pop().expect("four columns");
        (dense.pop().expect("four columns"), dst)
    });
    let dst = dense.pop().expect("follow targets");
    let src = dense.pop().expect("follow sources");
    Ok((universe, (src, dst, ts), interactions))
}
