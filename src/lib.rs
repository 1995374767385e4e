//! `reciprocity`: who follows back, and who actually talks to whom.
//!
//! The whole job is one straight line, and [`run`] is that line:
//!
//! ```text
//! job config -> read (object_store + Parquet) -> clean/validate -> compute (pure kernels)
//!            -> write tables -> manifest -> _SUCCESS -> human summary
//! ```
//!
//! The compute step runs in one of two ways, with the same kernels: in memory (the whole
//! graph at once, the fast path), or in buckets of accounts spilled to local disk
//! (`bucketed`, out of core) when the memory limit asks for it. Both hand the same
//! [`Computed`] to `publish`, so their tables are byte-identical.
//!
//! `job` and `cli` parse and validate; `io` and `store` are the only async, I/O-doing code;
//! `compute` holds pure kernels; `tables`, `manifest` and `summary` turn results into bytes
//! and text.

mod account_parts;
mod bucket_rows;
mod bucketed;
pub mod cli;
pub mod compute;
pub mod error;
pub mod external;
pub mod generate;
pub mod id_type;
pub mod io;
pub mod job;
pub mod manifest;
pub mod progress;
mod publish;
pub mod report;
pub mod resources;
pub mod store;
mod streaming;
pub mod summary;
pub mod tables;
pub mod validate;

use std::sync::Arc;

use serde_json::json;

use compute::account_metrics::{account_metrics, AccountPass, CampRule};
use compute::accounts::{brands, clean_accounts, AccountTypes};
use compute::brands::{brand_audience, BrandRow};
use compute::clean::{clean_edges, EdgeRows, Window};
use compute::follow_changes::compare_nights;
use compute::follow_graph::FollowGraph;
use compute::interaction_graph::InteractionGraph;
use compute::population::{population, GraphTotals, Population};
use compute::reach::Followers;
use compute::universe::{Universe, MAX_ACCOUNTS};
use error::{Error, Result};
use id_type::IdType;
use io::inputs::{read_inputs, scan_inputs};
use io::lock;
use io::write::check_output;
use job::Job;
use manifest::{Manifest, Rejected};
use progress::Reporter;

/// Every table a run may write, in order.
pub const TABLES: [&str; 5] = [
    tables::ACCOUNT_METRICS,
    tables::POPULATION_SUMMARY,
    tables::RECIPROCITY_BY_FOLLOWERS,
    tables::BRAND_AUDIENCE,
    tables::FOLLOW_CHANGES,
];

/// What a finished run reports back.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub manifest: Manifest,
    pub population: Population,
    pub summary: String,
}

/// Threads and runtimes of one run.
pub(crate) struct Engine {
    pool: rayon::ThreadPool,
    runtime: tokio::runtime::Runtime,
    concurrency: usize,
}

impl Engine {
    pub(crate) fn new(job: &Job) -> Result<Engine> {
        let threads = job.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::internal("starting the compute threads", e))?;
        let runtime = io::runtime(threads).map_err(|e| Error::internal("starting the I/O runtime", e))?;
        Ok(Engine { pool, runtime, concurrency: threads * 2 })
    }
}

/// Runs a job end to end, holding the lock on OUT throughout. Nothing is written to OUT
/// until every input has been read and every metric computed; `_SUCCESS` is written last.
pub fn run(job: &Job, reporter: &Reporter) -> Result<RunOutcome> {
    let engine = Engine::new(job)?;
    let out = store::open(&job.out, &job.storage)?;
    engine.runtime.block_on(check_output(&out, job.overwrite))?;
    // Footers and the memory check come before the lock: a run refused there writes nothing.
    let scanned = scan(job, reporter, &engine)?;
    let execution = resources::plan(scanned.1, job.memory_limit, job.buckets)?;
    let lock =
        engine.runtime.block_on(lock::acquire(&out, reporter.run_id(), job.stale_lock_after, |m| reporter.warn(m)))?;
    let outcome = run_locked(job, reporter, &engine, &out, scanned, execution);
    let released = engine.runtime.block_on(lock.release());
    let outcome = outcome?;
    released?;
    Ok(outcome)
}

/// Lists the inputs and checks their footers; counts their rows for the memory plan.
pub(crate) fn scan(
    job: &Job,
    reporter: &Reporter,
    engine: &Engine,
) -> Result<(io::inputs::Scans, resources::InputRows)> {
    let scans = reporter.stage(
        "scan",
        || engine.runtime.block_on(scan_inputs(job, engine.concurrency)),
        |s| json!({ "objects": s.all().map(|d| d.objects.len()).sum::<usize>(), "rows": s.all().map(|d| d.rows()).sum::<u64>() }),
    )?;
    let rows = |d: &Option<io::dataset::ScannedDataset>| d.as_ref().map_or(0, |d| d.rows());
    let input_rows = resources::InputRows {
        follows: scans.follows.rows(),
        interactions: rows(&scans.interactions),
        accounts: rows(&scans.accounts),
        previous_follows: rows(&scans.previous_follows),
    };
    Ok((scans, input_rows))
}

/// Reads, checks and cleans the inputs, and builds the graphs: the part of a run that
/// `validate` shares.
pub(crate) fn prepare(
    job: &Job,
    reporter: &Reporter,
    engine: &Engine,
    (scans, input_rows): (io::inputs::Scans, resources::InputRows),
) -> Result<Prepared> {
    // job config -> read (the previous night is read later, straight into dense ids)
    let previous_rows = scans.previous_follows.as_ref().map_or(0, |d| d.rows());
    let total_rows: u64 = scans.all().map(|d| d.rows()).sum::<u64>() - previous_rows;
    let bar = reporter.bar("read", total_rows);
    let on_rows = {
        let bar = bar.clone();
        Arc::new(move |rows: u64| bar.inc(rows))
    };
    let inputs = reporter.stage(
        "read",
        || engine.runtime.block_on(read_inputs(&scans, engine.concurrency, on_rows)),
        |_| json!({ "rows": total_rows }),
    )?;
    bar.finish_and_clear();

    engine.pool.install(|| {
        // clean/validate
        let window = Window { start: job.params.window_start_ns, end: job.params.window_end_ns };
        let cleaned = reporter.stage(
            "clean",
            || -> Result<_> {
                Ok(Cleaned {
                    follows: clean_edges(inputs.follows, Window::default(), true),
                    interactions: inputs.interactions.map(|raw| clean_edges(raw, window, false)).unzip(),
                    accounts: inputs.accounts.map(clean_accounts).unzip(),
                })
            },
            |c| json!({ "follows": c.follows.0.len(), "interactions": c.interactions.0.as_ref().map(EdgeRows::len) }),
        )?;
        let Cleaned { follows: (follows, follow_drops), interactions, accounts } = cleaned;
        let (interactions, interaction_drops) = interactions;
        let (account_list, account_drops) = accounts;
        let account_list = account_list.unwrap_or_default();

        // compute (pure kernels): ids, then the graphs
        let (universe, dense_follows, dense_interactions) = reporter.stage(
            "ids",
            || {
                // One hashing pass numbers every occurrence; each raw id column is freed as
                // soon as it has been numbered.
                let EdgeRows { src, dst, ts } = follows;
                let mut columns = vec![src, dst];
                if let Some(i) = interactions {
                    columns.extend([i.src, i.dst]);
                }
                let (universe, mut dense) = compute::dense_ids::universe_and_dense(columns, &account_list.keys);
                if universe.len() > MAX_ACCOUNTS {
                    return Err(Error::Resource(format!(
                        "{} accounts exceed the {MAX_ACCOUNTS} one run can hold",
                        universe.len()
                    )));
                }
                let interactions = (dense.len() == 4).then(|| {
                    let dst = dense.pop().expect("four columns");
                    (dense.pop().expect("four columns"), dst)
                });
                let dst = dense.pop().expect("follow targets");
                let src = dense.pop().expect("follow sources");
                Ok((universe, (src, dst, ts), interactions))
            },
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
        Ok(Prepared { scans, input_rows, universe, account_list, follow_graph, interaction_graph, rejected })
    })
}

/// The inputs, cleaned and turned into graphs.
pub(crate) struct Prepared {
    pub(crate) scans: io::inputs::Scans,
    pub(crate) input_rows: resources::InputRows,
    pub(crate) universe: Universe,
    account_list: compute::accounts::AccountList,
    pub(crate) follow_graph: FollowGraph,
    pub(crate) interaction_graph: InteractionGraph,
    pub(crate) rejected: Rejected,
}

fn run_locked(
    job: &Job,
    reporter: &Reporter,
    engine: &Engine,
    out: &store::Location,
    scanned: (io::inputs::Scans, resources::InputRows),
    execution: resources::Execution,
) -> Result<RunOutcome> {
    let started_at = chrono::Utc::now();
    let computed = match execution {
        resources::Execution::InMemory => compute_in_memory(job, reporter, engine, scanned)?,
        resources::Execution::Buckets(count) => bucketed::compute(job, reporter, engine, out, scanned, count)?,
    };
    engine.pool.install(|| publish::publish(job, reporter, engine, out, computed, started_at))
}

/// The account_metrics table: its rows, to be written; or the parts a bucketed run already
/// wrote bucket by bucket (`account_parts.rs`).
pub(crate) enum AccountTable {
    Rows(Vec<compute::account_metrics::AccountRow>),
    Written(io::write::TableEntry),
}

/// Everything a run computed, in memory or bucket by bucket, ready to be written.
pub(crate) struct Computed {
    pub(crate) scans: io::inputs::Scans,
    pub(crate) universe: Universe,
    pub(crate) types: AccountTypes,
    pub(crate) accounts: AccountTable,
    pub(crate) by_followers: Vec<compute::by_followers::FollowerBucket>,
    pub(crate) population: Population,
    pub(crate) brands: Vec<BrandRow>,
    pub(crate) changes: Option<compute::follow_changes::Changes>,
    /// Every input's cleaning counts, the previous night's included.
    pub(crate) rejected: Rejected,
    pub(crate) execution: manifest::ExecutionEntry,
}

/// The in-memory path: the whole graph at once.
fn compute_in_memory(
    job: &Job,
    reporter: &Reporter,
    engine: &Engine,
    scanned: (io::inputs::Scans, resources::InputRows),
) -> Result<Computed> {
    let prepared = prepare(job, reporter, engine, scanned)?;
    let Prepared { scans, universe, account_list, follow_graph, interaction_graph, rejected, .. } = prepared;
    engine.pool.install(|| {
        let stats = reporter.stage(
            "stats",
            || stats(job, scans.id_type, reporter, &universe, &account_list, &follow_graph, &interaction_graph),
            |s| json!({ "brands": s.brands.len() }),
        )?;
        // The follows' times and the interactions served the stats only. Freed now, their
        // memory (~0.9 GB at 1M accounts) is what the previous night is read and grouped into,
        // instead of pages the machine must clear afresh.
        drop(interaction_graph);
        let mut follow_graph = follow_graph;
        follow_graph.forget_times();
        let (changes, previous_drops) = match &scans.previous_follows {
            None => (None, None),
            Some(scan) => reporter.stage(
                "changes",
                || {
                    let (previous, dropped) = streaming::read_previous_night(engine, reporter, scan, &universe)?;
                    let mutual_dyads = stats.population.mutual_dyads;
                    Ok::<_, Error>((
                        Some(compare_nights(&universe, &follow_graph, mutual_dyads, previous)),
                        Some(dropped),
                    ))
                },
                |(c, _)| {
                    let c = c.as_ref().expect("compared");
                    json!({ "accounts_changed": c.rows.len(), "edges_added": c.population.edges_added })
                },
            )?,
        };
        let rejected = rejected.with_previous(previous_drops, changes.as_ref().map(|c| c.duplicates_removed));
        let Stats { types, pass, population, brands } = stats;
        let execution = manifest::ExecutionEntry::in_memory();
        let by_followers = compute::by_followers::by_followers(&pass.rows);
        let accounts = AccountTable::Rows(pass.rows);
        Ok(Computed {
            scans,
            universe,
            types,
            accounts,
            by_followers,
            population,
            brands,
            changes,
            rejected,
            execution,
        })
    })
}

pub use io::report::report_page;
pub use validate::{validate, Validation};

pub(crate) type Cleaning<T, D> = (Option<T>, Option<D>);

/// Every input after the row rules, with what each rule dropped.
struct Cleaned {
    follows: (EdgeRows, compute::clean::Dropped),
    interactions: Cleaning<EdgeRows, compute::clean::Dropped>,
    accounts: Cleaning<compute::accounts::AccountList, compute::accounts::AccountsDropped>,
}

/// Per-account and population metrics, and the brand table.
struct Stats {
    types: AccountTypes,
    pass: AccountPass,
    population: Population,
    brands: Vec<BrandRow>,
}

fn stats(
    job: &Job,
    id_type: IdType,
    reporter: &Reporter,
    universe: &Universe,
    account_list: &compute::accounts::AccountList,
    follow_graph: &FollowGraph,
    interaction_graph: &InteractionGraph,
) -> Result<Stats> {
    let types = AccountTypes::build(universe, account_list);
    let mut pass = account_metrics(follow_graph, interaction_graph, &camp_rule(job));
    let population = population(GraphTotals::of(follow_graph, interaction_graph), &mut pass);
    let brand_ids = brand_ids(job, id_type, reporter, universe, &types);
    let sample = (job.params.reach_2hop_estimate && !brand_ids.is_empty())
        .then(|| compute::reach::SampledFollowers::build(Followers::of_graph(follow_graph), universe.keys()));
    let brands = brand_audience(&brand_ids, follow_graph, interaction_graph, &pass.rows, sample.as_ref());
    Ok(Stats { types, pass, population, brands })
}

pub(crate) fn camp_rule(job: &Job) -> CampRule {
    CampRule {
        min_followers: job.params.min_followers,
        follows_back_all_rate: job.params.follows_back_all_rate,
        selective_rate: job.params.selective_rate,
    }
}

/// Dense ids of the brands: accounts typed `brand` and the ids the job lists (a listed id
/// that is not an account is a warning, not an error).
pub(crate) fn brand_ids(
    job: &Job,
    id_type: IdType,
    reporter: &Reporter,
    universe: &Universe,
    types: &AccountTypes,
) -> Vec<u32> {
    let mut listed_keys = Vec::new();
    let mut not_accounts = Vec::new();
    for &id in &job.params.brands {
        match id_type.key_of(id) {
            Some(key) => listed_keys.push(key),
            None => not_accounts.push(id.to_string()),
        }
    }
    let (brand_ids, missing) = brands(universe, types, &listed_keys);
    not_accounts.extend(missing.iter().map(|&k| id_type.id_of(k).to_string()));
    if !not_accounts.is_empty() {
        reporter.warn(format!("listed brands that are not accounts: {}", not_accounts.join(", ")));
    }
    brand_ids
}

/// An id for this run's log lines and manifest (not part of any result).
pub fn new_run_id() -> String {
    let now = chrono::Utc::now();
    format!("{}-{:x}", now.format("%Y%m%dT%H%M%S"), std::process::id())
}
