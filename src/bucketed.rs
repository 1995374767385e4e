//! The bucketed (out-of-core) run: the in-memory path's kernels, one range of accounts at a
//! time, with the rows in between on local disk — or read again from the inputs.
//!
//! ```text
//! pass 1: stream ids -> universe          pass 2: stream rows -> dense ids -> spill by bucket
//! for each bucket: its rows (spill files, or a re-read) -> bucket graphs -> per-account rows
//!                  (written as account_metrics parts), brand rows, changes, additive parts
//! then: population and reach from what the buckets gathered
//! ```
//!
//! A bucket is a contiguous range of dense ids (`compute/buckets.rs`). Every follow and
//! event goes to two buckets, its source's and its target's, so a bucket's graphs hold each of
//! its accounts' four neighbour lists exactly as the whole graph would: the per-account kernel
//! runs on them unchanged, the rows come out in account_id order, and everything
//! population-wide is a sum, or a median/Gini over per-account values kept in memory. The
//! tables are therefore byte-identical to the in-memory run's for any K.
//! Memory: the universe, ~16 bytes per account and the follow-back latencies for the whole
//! run, plus one bucket's graphs (`resources::buckets_for`).

use std::sync::Arc;

use serde_json::json;

use crate::account_parts::AccountParts;
use crate::bucket_rows::{BucketRows, Source};
use crate::compute::account_metrics::account_metrics;
use crate::compute::accounts::{clean_accounts, AccountTypes};
use crate::compute::brands::{brand_rows, fill_reach};
use crate::compute::buckets::Buckets;
use crate::compute::by_followers::FollowerGroups;
use crate::compute::clean::{Dropped, Window};
use crate::compute::follow_changes::{follow_changes, ChangeRow, ChangeSums, Changes, Tonight};
use crate::compute::follow_graph::FollowGraph;
use crate::compute::interaction_graph::InteractionGraph;
use crate::compute::population::{GraphTotals, PopulationParts};
use crate::compute::reach::{FollowerLists, SampledFollowers};
use crate::compute::universe::{Extension, Universe, UniverseBuilder, MAX_ACCOUNTS};
use crate::error::{Error, Result};
use crate::io::inputs::{read_accounts, Scans};
use crate::io::spill::{route, Spill, Stream};
use crate::io::write::TableEntry;
use crate::job::Job;
use crate::manifest::{ExecutionEntry, Rejected};
use crate::progress::Reporter;
use crate::resources::{self, InputRows};
use crate::store::Location;
use crate::streaming::stream_edges;
use crate::{brand_ids, camp_rule, AccountTable, Computed, Engine};

/// Computes every table in `count` buckets (or as many as the memory limit needs).
pub(crate) fn compute(
    job: &Job,
    reporter: &Reporter,
    engine: &Engine,
    out: &Location,
    (scans, input_rows): (Scans, InputRows),
    count: Option<usize>,
) -> Result<Computed> {
    let mut ids = reporter.stage(
        "ids",
        || read_ids(job, reporter, engine, &scans),
        |i| json!({ "accounts": i.universe.len() }),
    )?;
    let n = ids.universe.len();
    let types = AccountTypes::build(&ids.universe, &ids.accounts);
    let brands = brand_ids(job, scans.id_type, reporter, &ids.universe, &types);
    let count = match (count, job.memory_limit) {
        (Some(k), _) => k,
        (None, Some(limit)) => resources::buckets_for(input_rows, n as u64, !brands.is_empty(), limit)?,
        (None, None) => unreachable!("buckets are chosen for a memory limit"),
    };
    let buckets = Buckets::new(n + ids.extension.keys.len(), count);

    let rescan = job.rescan || {
        let (need, dir) = (resources::spill_bytes(input_rows), &job.spill_dir);
        let free = resources::free_disk(dir);
        let short = free.is_some_and(|free| free < need + need / 10);
        if short {
            reporter.warn(format!(
                "spilling would need about {} in {} but it has {} free: reading the inputs again for each of the \
                 {count} buckets instead (--rescan)",
                resources::human(need),
                dir.display(),
                resources::human(free.unwrap_or(0))
            ));
        }
        short
    };
    let spill = match rescan {
        true => None,
        false => {
            let mut spill = Spill::create(&job.spill_dir, reporter.run_id(), count)?;
            reporter.stage(
                "spill",
                || spill_rows(job, reporter, engine, &scans, &mut ids, &buckets, &mut spill),
                |bytes| json!({ "buckets": count, "bytes": bytes }),
            )?;
            Some(spill)
        }
    };

    let swept = reporter.stage(
        "buckets",
        || {
            let table = AccountParts::start(
                &engine.runtime,
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
                    engine,
                    reporter,
                    scans: &scans,
                    window: interactions_window(job),
                    ids: (&ids.universe, &ids.extension),
                },
            };
            engine.pool.install(|| sweep(job, reporter, &ids, &buckets, &brands, &source, table))
        },
        |s| json!({ "accounts": s.table.rows, "follow_edges": s.totals.follow_edges }),
    )?;
    let execution = match spill {
        Some(spill) => ExecutionEntry::buckets(count, spill.bytes()),
        None => ExecutionEntry::rescan(count),
    };

    let Swept { table, population, groups, totals, mut brand_rows, followers, duplicate_follows, changes } = swept;
    let (population, brand_rows) = reporter.stage(
        "stats",
        || {
            engine.pool.install(|| {
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

/// What pass 1 found: the accounts, and what cleaning dropped.
struct IdPass {
    universe: Universe,
    accounts: crate::compute::accounts::AccountList,
    follow_drops: Dropped,
    interaction_drops: Option<Dropped>,
    account_drops: Option<crate::compute::accounts::AccountsDropped>,
    previous_drops: Option<Dropped>,
    /// Ids seen only in the previous night's follows; their dense ids follow the universe's.
    extension: Extension,
}

fn interactions_window(job: &Job) -> Window {
    Window { start: job.params.window_start_ns, end: job.params.window_end_ns }
}

/// Pass 1: every kept id into the universe; the previous night's ids that are not in it.
fn read_ids(job: &Job, reporter: &Reporter, engine: &Engine, scans: &Scans) -> Result<IdPass> {
    let total: u64 = scans.all().map(|d| d.rows()).sum();
    let bar = reporter.bar("ids", total);
    let on_rows: Arc<dyn Fn(u64) + Send + Sync> = {
        let bar = bar.clone();
        Arc::new(move |rows| bar.inc(rows))
    };
    let mut builder = UniverseBuilder::default();
    let mut add = |rows: crate::compute::clean::EdgeRows| {
        builder.add(&[&rows.src, &rows.dst]);
        Ok(())
    };
    let follow_drops = stream_edges(engine, &scans.follows, on_rows.clone(), Window::default(), false, &mut add)?;
    let interaction_drops = match &scans.interactions {
        Some(scan) => Some(stream_edges(engine, scan, on_rows.clone(), interactions_window(job), false, &mut add)?),
        None => None,
    };
    let (accounts, account_drops) = match &scans.accounts {
        Some(scan) => {
            let raw = engine.runtime.block_on(read_accounts(scan, engine.concurrency, on_rows.clone()))?;
            let (list, dropped) = clean_accounts(raw);
            (list, Some(dropped))
        }
        None => Default::default(),
    };
    builder.add(&[&accounts.keys]);
    let universe = engine.pool.install(|| builder.finish());
    if universe.len() > MAX_ACCOUNTS {
        return Err(Error::Resource(format!("{} accounts exceed the {MAX_ACCOUNTS} one run can hold", universe.len())));
    }
    let mut extension = Extension::default();
    let previous_drops = match &scans.previous_follows {
        Some(scan) => Some(stream_edges(engine, scan, on_rows.clone(), Window::default(), false, |rows| {
            universe.dense_extending(&rows.src, &mut extension);
            universe.dense_extending(&rows.dst, &mut extension);
            Ok(())
        })?),
        None => None,
    };
    bar.finish_and_clear();
    Ok(IdPass { universe, accounts, follow_drops, interaction_drops, account_drops, previous_drops, extension })
}

/// Pass 2: every kept row, in dense ids, to both of its ends' buckets.
fn spill_rows(
    job: &Job,
    reporter: &Reporter,
    engine: &Engine,
    scans: &Scans,
    ids: &mut IdPass,
    buckets: &Buckets,
    spill: &mut Spill,
) -> Result<u64> {
    let edge_rows = scans.follows.rows()
        + scans.interactions.as_ref().map_or(0, |d| d.rows())
        + scans.previous_follows.as_ref().map_or(0, |d| d.rows());
    let bar = reporter.bar("spill", edge_rows);
    let on_rows: Arc<dyn Fn(u64) + Send + Sync> = {
        let bar = bar.clone();
        Arc::new(move |rows| bar.inc(rows))
    };
    let (universe, extension) = (&ids.universe, &mut ids.extension);
    stream_edges(engine, &scans.follows, on_rows.clone(), Window::default(), true, |rows| {
        let (src, dst) = (universe.dense(&rows.src), universe.dense(&rows.dst));
        let parts = route(buckets, &src, &dst, rows.ts.as_deref());
        spill.append_routed(Stream::FollowsOut, Stream::FollowsIn, &parts)
    })?;
    if let Some(scan) = &scans.interactions {
        stream_edges(engine, scan, on_rows.clone(), interactions_window(job), false, |rows| {
            let (src, dst) = (universe.dense(&rows.src), universe.dense(&rows.dst));
            spill.append_routed(Stream::EventsOut, Stream::EventsIn, &route(buckets, &src, &dst, None))
        })?;
    }
    if let Some(scan) = &scans.previous_follows {
        stream_edges(engine, scan, on_rows.clone(), Window::default(), false, |rows| {
            let (src, dst) =
                (universe.dense_extending(&rows.src, extension), universe.dense_extending(&rows.dst, extension));
            spill.append_routed(Stream::PreviousOut, Stream::PreviousIn, &route(buckets, &src, &dst, None))
        })?;
    }
    bar.finish_and_clear();
    spill.finish_writing()?;
    Ok(spill.bytes())
}

/// What the buckets gathered.
struct Swept {
    /// account_metrics, written (once every bucket is).
    table: TableEntry,
    population: PopulationParts,
    groups: FollowerGroups,
    totals: GraphTotals,
    /// Brand rows without reach_2hop, and every account's followers for the walk.
    brand_rows: Vec<crate::compute::brands::BrandRow>,
    followers: FollowerLists,
    duplicate_follows: u64,
    /// Change rows (dense ids in U'), their sums, and the previous night's duplicates.
    changes: Option<(Vec<ChangeRow>, ChangeSums, u64)>,
}

/// Each bucket in turn: its graphs from its rows, then the per-account kernels.
fn sweep(
    job: &Job,
    reporter: &Reporter,
    ids: &IdPass,
    buckets: &Buckets,
    brands: &[u32],
    source: &Source,
    mut table: AccountParts,
) -> Result<Swept> {
    let n = ids.universe.len();
    let rule = camp_rule(job);
    let bar = reporter.bar_of("buckets", buckets.count() as u64, "buckets");
    let mut swept = Swept {
        table: TableEntry { rows: 0, objects: Vec::new() },
        population: PopulationParts::default(),
        groups: FollowerGroups::default(),
        totals: GraphTotals::default(),
        brand_rows: Vec::with_capacity(brands.len()),
        followers: FollowerLists::default(),
        duplicate_follows: 0,
        changes: source.compares_nights().then(|| (Vec::new(), ChangeSums::default(), 0)),
    };
    for k in 0..buckets.count() {
        let started = std::time::Instant::now();
        let range = buckets.range(k);
        let (start, size) = (range.start, range.len());
        // Accounts of this range that exist tonight; the rest were seen only the night before.
        let tonight = n.min(range.end).saturating_sub(start);

        let BucketRows { follows, events, previous } = source.rows(k, range.clone())?;
        let follows = FollowGraph::from_halves(size, follows.0, follows.1);
        let interactions = match events {
            Some((sent, received)) => {
                InteractionGraph::from_halves(size, (sent.local, sent.other), (received.local, received.other))
            }
            None => InteractionGraph::empty(size),
        };

        let mut pass = account_metrics(&follows, &interactions, &rule);
        pass.rows.truncate(tonight);
        swept.population.add(&pass.rows, std::mem::take(&mut pass.latencies_ns));
        swept.groups.add(&pass.rows);
        swept.totals.add(GraphTotals::of(&follows, &interactions));
        swept.duplicate_follows += follows.duplicates_removed;

        if !brands.is_empty() {
            let in_range = |end: usize| brands.partition_point(|&b| (b as usize) < end);
            let here = &brands[in_range(start)..in_range(start + tonight)];
            swept.brand_rows.extend(brand_rows(here, start as u32, &follows, &interactions, &pass.rows));
            let ends = &follows.in_offsets[..=tonight];
            swept.followers.append(ends, &follows.sources[..ends[tonight]]);
        }

        if let (Some((rows, sums, duplicates)), Some((out, inward))) = (&mut swept.changes, previous) {
            let before = FollowGraph::from_halves(size, out, inward);
            let (changed, bucket_sums) = follow_changes(&Tonight { graph: &follows, accounts: tonight }, &before);
            rows.extend(changed.into_iter().map(|r| ChangeRow { account: r.account + start as u32, ..r }));
            sums.add(&bucket_sums);
            *duplicates += before.duplicates_removed;
        }
        table.push(pass.rows)?;
        bar.inc(1);
        // A bucketed run is long: JSON logs say how far it got (text mode has the bar).
        reporter.event(
            "buckets",
            "bucket_end",
            json!({ "bucket": k + 1, "of": buckets.count(), "accounts": tonight, "seconds": started.elapsed().as_secs_f64() }),
        );
    }
    bar.finish_and_clear();
    Ok(Swept { table: table.finish()?, ..swept })
}
