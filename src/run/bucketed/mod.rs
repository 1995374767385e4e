//! The bucketed (out-of-core) execution: the bucket kernel, one range of accounts at a time,
//! with the rows in between on local disk — or read again from the inputs.
//!
//! ```text
//! pass 1: stream ids -> universe          pass 2: stream rows -> dense ids -> spill by bucket
//! for each bucket: its rows (spill files, or a re-read) -> bucket graphs -> bucket kernel
//!                  -> account_metrics parts, brand rows, change rows, additive parts
//! then: population and reach from what the buckets gathered
//! ```
//!
//! A bucket is a contiguous range of dense ids (`compute/buckets.rs`); rows reach it by the
//! one routing rule (`compute/routing.rs`), so its graphs hold each of its accounts' lists
//! exactly as the whole graph would, the rows come out in account_id order, and everything
//! population-wide is a sum, or a median/Gini over per-account values kept in memory. The
//! tables are therefore byte-identical to the in-memory run's for any K.
//! Memory: the universe, ~16 bytes per account and the follow-back latencies for the whole
//! run, plus one bucket's graphs (`plan::buckets_for`).

mod passes;
mod rows;
mod sweep;

use serde_json::json;

use crate::compute::accounts::AccountTypes;
use crate::compute::brands::fill_reach;
use crate::compute::buckets::Buckets;
use crate::compute::follow_changes::{ChangeRow, Changes};
use crate::compute::reach::SampledFollowers;
use crate::config::job::Job;
use crate::error::{Error, Result};
use crate::io::inputs::Scans;
use crate::io::spill::Spill;
use crate::io::store::Location;
use crate::output::account_parts::AccountParts;
use crate::output::computed::{AccountTable, Computed};
use crate::output::manifest::{ExecutionEntry, Rejected};
use crate::output::progress::Reporter;
use crate::run::params::{brand_ids, interactions_window};
use crate::run::plan::{self, RowSource};
use crate::run::scan::input_rows;
use crate::run::workers::Workers;
use passes::{read_ids, spill_rows, IdPass};
use rows::Source;
use sweep::{sweep, Swept};

/// Computes every table in `count` buckets (or as many as the memory limit needs), each
/// bucket's rows from `source`.
pub fn compute(
    job: &Job,
    reporter: &Reporter,
    workers: &Workers,
    out: &Location,
    scans: Scans,
    count: Option<usize>,
    source: RowSource,
) -> Result<Computed> {
    let mut ids = reporter.stage(
        "ids",
        || read_ids(job, reporter, workers, &scans),
        |i| json!({ "accounts": i.universe.len() }),
    )?;
    let n = ids.universe.len();
    let types = AccountTypes::build(&ids.universe, &ids.accounts);
    let brands = brand_ids(job, scans.id_type, reporter, &ids.universe, &types);
    let count = match (count, job.memory_limit) {
        (Some(k), _) => k,
        (None, Some(limit)) => plan::buckets_for(input_rows(&scans), n as u64, !brands.is_empty(), limit)?,
        (None, None) => unreachable!("buckets are chosen for a memory limit"),
    };
    let buckets = Buckets::new(n + ids.extension.keys.len(), count);
    let spill = match source {
        RowSource::Reread => None,
        RowSource::Spilled => {
            let (mut spill, abandoned) = Spill::create(&job.spill_dir, reporter.run_id(), count)?;
            for dir in abandoned {
                reporter.warn(format!("removed {}, the spill folder of a run whose process is gone", dir.display()));
            }
            reporter.stage(
                "spill",
                || spill_rows(job, reporter, workers, &scans, &mut ids, &buckets, &mut spill),
                |bytes| json!({ "buckets": count, "bytes": bytes }),
            )?;
            Some(spill)
        }
    };
    let swept = reporter.stage(
        "buckets",
        || {
            let table = AccountParts::start(
                &workers.runtime,
                out,
                scans.id_type,
                ids.universe.keys(),
                &types,
                job.compression.codec(),
            )?;
            let source = match &spill {
                Some(spill) => Source::Spilled {
                    spill,
                    events: scans.interactions.is_some(),
                    previous: scans.previous_follows.is_some(),
                },
                None => Source::Inputs {
                    workers,
                    reporter,
                    scans: &scans,
                    window: interactions_window(job),
                    ids: (&ids.universe, &ids.extension),
                },
            };
            workers.pool.install(|| sweep(job, reporter, &ids, &buckets, &brands, &source, table))
        },
        |s| json!({ "accounts": s.table.rows, "follow_edges": s.totals.follow_edges }),
    )?;
    let execution = match spill {
        Some(spill) => ExecutionEntry::buckets(count, spill.bytes()),
        None => ExecutionEntry::rescan(count),
    };
    finish(job, reporter, workers, scans, ids, types, swept, execution)
}

/// Population figures, brands' reach and change rows from what the buckets gathered.
#[allow(clippy::too_many_arguments)]
fn finish(
    job: &Job,
    reporter: &Reporter,
    workers: &Workers,
    scans: Scans,
    ids: IdPass,
    types: AccountTypes,
    swept: Swept,
    execution: ExecutionEntry,
) -> Result<Computed> {
    let Swept { table, population, groups, totals, mut brand_rows, followers, duplicate_follows, changes } = swept;
    let (population, brand_rows) = reporter.stage(
        "stats",
        || {
            workers.pool.install(|| {
                let population = population.finish(totals);
                let view = followers.view();
                let sample = (job.params.reach_2hop_estimate && !brand_rows.is_empty())
                    .then(|| SampledFollowers::build(view, ids.universe.keys()));
                fill_reach(&mut brand_rows, view, sample.as_ref());
                Ok::<_, Error>((population, brand_rows))
            })
        },
        |(_, b)| json!({ "brands": b.len() }),
    )?;
    let IdPass { universe, follow_drops, interaction_drops, account_drops, previous_drops, extension, .. } = ids;
    let changes = changes.map(|(mut rows, sums, duplicates_removed)| {
        let keys: Vec<u64> = universe.keys().iter().chain(&extension.keys).copied().collect();
        rows.sort_unstable_by_key(|r: &ChangeRow| keys[r.account as usize]);
        Changes { keys, rows, population: sums.finish(), duplicates_removed }
    });
    let rejected = Rejected::new(follow_drops, duplicate_follows, interaction_drops, account_drops)
        .with_previous(previous_drops, changes.as_ref().map(|c| c.duplicates_removed));
    Ok(Computed {
        scans,
        universe,
        types,
        accounts: AccountTable::Written(table),
        by_followers: groups.finish(),
        population,
        brands: brand_rows,
        changes,
        rejected,
        execution,
    })
}
