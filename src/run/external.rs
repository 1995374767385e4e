//! The execution whose buckets another engine computed (Spark, `jobs/spark/`): what the
//! engine is told before it starts, and the merge of its keyed results into one
//! [`Computed`], which the run's one pipeline then publishes (`run/mod.rs`).
//!
//! The engine reads the inputs and calls Rust for the rest: the cleaning rules and the
//! routing rule on each batch (`python/`, `compute/clean.rs`, `compute/routing.rs`), and the
//! bucket kernel on each bucket ([`crate::compute::keyed_bucket::keyed_bucket`]); it sums what
//! cleaning dropped and computes brands' 2-hop reach (a join it does well). Here the buckets'
//! results become one [`Computed`]: rows in account_id order, population figures from their
//! sums and per-account values, brand and change rows in dense ids. The footers are read
//! again for the manifest, and the accounts table (small) for the types.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::compute::account_metrics::{AccountPass, AccountRow};
use crate::compute::accounts::{clean_accounts, AccountList, AccountTypes};
use crate::compute::brands::BrandRow;
use crate::compute::clean::Dropped;
use crate::compute::follow_changes::{ChangeRow, ChangeSums, Changes};
use crate::compute::keyed_bucket::KeyedResult;
use crate::compute::population::{population, GraphTotals};
use crate::compute::universe::{Universe, UniverseBuilder};
use crate::config::job::Job;
use crate::error::{Error, Result};
use crate::id_type::IdType;
use crate::io::inputs::{read_accounts, Scans};
use crate::output::computed::{AccountTable, Computed};
use crate::output::manifest::{ExecutionEntry, Rejected};
use crate::output::progress::Reporter;
use crate::run::params::brand_ids;
use crate::run::scan::scan;
use crate::run::workers::Workers;

/// The engine's side of a run.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineCounts {
    /// The engine's name, for the manifest (`execution.mode`).
    pub engine: String,
    pub buckets: usize,
    /// What the engine's cleaning dropped, per dataset (`rejected` in the manifest).
    pub follows: Dropped,
    pub interactions: Option<Dropped>,
    pub previous_follows: Option<Dropped>,
    /// (brand id, reach_2hop); ids as the engine reads them (int64).
    pub reach: Vec<(i64, u64)>,
}

/// What the engine needs to know before it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnginePlan {
    /// The inputs' id type: rows are keyed by it.
    pub id_type: IdType,
    /// Candidate brands: accounts typed `brand` (the first non-null type of each, as in a
    /// run) and the ids the job lists. Those that turn out not to be accounts get no row.
    pub brand_ids: Vec<i128>,
}

/// Lists the inputs and checks their footers and schemas, as a run does first, and reads the
/// accounts table (small) for the brands: the engine calls this before any work.
pub fn plan_for_engine(job: &Job, reporter: &Reporter) -> Result<EnginePlan> {
    check_job(job)?;
    let workers = Workers::new(job)?;
    let scans = scan(job, reporter, &workers)?;
    let (accounts, _) = read_clean_accounts(&workers, &scans)?;
    let id_type = scans.id_type;
    let mut brand_ids: Vec<i128> = accounts
        .keys
        .iter()
        .zip(&accounts.types)
        .filter(|(_, t)| t.as_deref() == Some(crate::compute::accounts::BRAND))
        .map(|(&k, _)| id_type.id_of(k))
        .chain(job.params.brands.iter().copied())
        .collect();
    brand_ids.sort_unstable();
    brand_ids.dedup();
    Ok(EnginePlan { id_type, brand_ids })
}

/// What only the binary can do, refused before the engine starts: the engine joins for
/// reach_2hop exactly; the estimate is the binary's own walk.
pub fn check_job(job: &Job) -> Result<()> {
    if job.params.reach_2hop_estimate {
        return Err(Error::Config(
            "the Spark job computes reach_2hop exactly; drop reach_2hop = \"estimate\" (or run the binary)".into(),
        ));
    }
    Ok(())
}

fn read_clean_accounts(
    workers: &Workers,
    scans: &crate::io::inputs::Scans,
) -> Result<(AccountList, Option<crate::compute::accounts::AccountsDropped>)> {
    Ok(match &scans.accounts {
        Some(s) => {
            let raw = workers.runtime.block_on(read_accounts(s, workers.concurrency, std::sync::Arc::new(|_| {})))?;
            let (list, dropped) = clean_accounts(raw);
            (list, Some(dropped))
        }
        None => (AccountList::default(), None),
    })
}

/// What another engine computed: its counts and every bucket's result.
pub struct Elsewhere {
    pub counts: EngineCounts,
    pub results: Vec<KeyedResult>,
}

/// The merge: every bucket's keyed results as one [`Computed`].
pub fn merge(
    job: &Job,
    reporter: &Reporter,
    workers: &Workers,
    scans: Scans,
    elsewhere: Elsewhere,
) -> Result<Computed> {
    let (accounts, account_drops) = read_clean_accounts(workers, &scans)?;
    let Elsewhere { counts, results } = elsewhere;
    workers.pool.install(|| merge_results(job, reporter, &counts, results, scans, &accounts, account_drops))
}

fn merge_results(
    job: &Job,
    reporter: &Reporter,
    counts: &EngineCounts,
    results: Vec<KeyedResult>,
    scans: Scans,
    accounts: &AccountList,
    account_drops: Option<crate::compute::accounts::AccountsDropped>,
) -> Result<Computed> {
    let mut keyed_rows = Vec::new();
    let mut latencies_ns = Vec::new();
    let mut totals = GraphTotals::default();
    let mut duplicate_follows = 0;
    let mut brand_rows = Vec::new();
    let mut changes = KeyedChanges::default();
    for result in results {
        keyed_rows.extend(result.accounts.into_iter().zip(result.rows));
        latencies_ns.extend(result.latencies_ns);
        totals.add(result.totals);
        duplicate_follows += result.duplicate_follows;
        brand_rows.extend(result.brand_keys.into_iter().zip(result.brand_rows));
        if let Some((keys, rows, sums, duplicates)) = result.changes {
            changes.compared = true;
            changes.rows.extend(keys.into_iter().zip(rows));
            changes.sums.add(&sums);
            changes.duplicates += duplicates;
        }
    }
    let (universe, rows) = accounts_in_order(counts, keyed_rows)?;
    let mut pass = AccountPass { rows, latencies_ns };
    let types = AccountTypes::build(&universe, accounts);
    let expected_brands = brand_ids(job, scans.id_type, reporter, &universe, &types);
    let brands = brands_in_order(counts, scans.id_type, &universe, brand_rows, &expected_brands)?;
    let changes = changes.compared.then(|| changes.in_dense_ids(&universe));
    let population = population(totals, &mut pass);
    let rejected = Rejected::new(counts.follows, duplicate_follows, counts.interactions, account_drops)
        .with_previous(counts.previous_follows, changes.as_ref().map(|c| c.duplicates_removed));
    let execution = ExecutionEntry { mode: counts.engine.clone(), buckets: Some(counts.buckets), spill_bytes: None };
    let by_followers = crate::compute::by_followers::by_followers(&pass.rows);
    let accounts = AccountTable::Rows(pass.rows);
    Ok(Computed { scans, universe, types, accounts, by_followers, population, brands, changes, rejected, execution })
}

/// Every bucket's account rows in account_id order, and the universe of their accounts; an
/// account that came back from two buckets is an error of the engine's routing.
fn accounts_in_order(
    counts: &EngineCounts,
    mut keyed_rows: Vec<(u64, AccountRow)>,
) -> Result<(Universe, Vec<AccountRow>)> {
    keyed_rows.sort_unstable_by_key(|(k, _)| *k);
    if keyed_rows.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(Error::Input {
            object: counts.engine.clone(),
            problem: "an account came back from two buckets; rows must be routed by account".into(),
        });
    }
    let mut builder = UniverseBuilder::default();
    builder.add(&[&keyed_rows.iter().map(|(k, _)| *k).collect::<Vec<_>>()]);
    Ok((builder.finish(), keyed_rows.into_iter().map(|(_, r)| r).collect()))
}

/// The buckets' brand rows in dense ids with the engine's reach, exactly the job's brands.
fn brands_in_order(
    counts: &EngineCounts,
    id_type: IdType,
    universe: &Universe,
    brand_rows: Vec<(u64, BrandRow)>,
    expected_brands: &[u32],
) -> Result<Vec<BrandRow>> {
    let key_of = |id: i64| id_type.key_of(i128::from(id));
    let reach: BTreeMap<u64, u64> = counts.reach.iter().filter_map(|&(id, r)| Some((key_of(id)?, r))).collect();
    let mut brands: Vec<_> = brand_rows
        .into_iter()
        .map(|(key, mut row)| {
            row.account = universe.find(key).expect("a bucket's brand is one of its accounts");
            row.reach_2hop = reach.get(&key).copied().unwrap_or(0);
            row
        })
        .collect();
    brands.sort_unstable_by_key(|r| r.account);
    // The engine may send candidates the job's rule does not count (an account typed `brand`
    // in a later row than its first type): keep the job's brands, and require every one.
    brands.retain(|r| expected_brands.binary_search(&r.account).is_ok());
    if brands.iter().map(|r| r.account).ne(expected_brands.iter().copied()) {
        return Err(Error::Input {
            object: counts.engine.clone(),
            problem: format!("{} brand rows came back for {} brands", brands.len(), expected_brands.len()),
        });
    }
    Ok(brands)
}

/// The buckets' change rows, keyed by id key, and their sums.
#[derive(Default)]
struct KeyedChanges {
    compared: bool,
    rows: Vec<(u64, ChangeRow)>,
    sums: ChangeSums,
    duplicates: u64,
}

impl KeyedChanges {
    /// The changes in U' ids: tonight's accounts' dense ids, then accounts seen only the
    /// night before, numbered after them in key order.
    fn in_dense_ids(mut self, universe: &Universe) -> Changes {
        let n = universe.len();
        let mut extra = UniverseBuilder::default();
        let outside: Vec<u64> = self.rows.iter().map(|(k, _)| *k).filter(|&k| universe.find(k).is_none()).collect();
        extra.add(&[&outside]);
        let extra_keys = extra.into_sorted_keys();
        let dense = |k: u64| match universe.find(k) {
            Some(d) => d,
            None => (n + extra_keys.binary_search(&k).expect("collected above")) as u32,
        };
        self.rows.sort_unstable_by_key(|(k, _)| *k);
        let rows = self.rows.into_iter().map(|(k, r)| ChangeRow { account: dense(k), ..r }).collect();
        let keys = universe.keys().iter().chain(&extra_keys).copied().collect();
        Changes { keys, rows, population: self.sums.finish(), duplicates_removed: self.duplicates }
    }
}
