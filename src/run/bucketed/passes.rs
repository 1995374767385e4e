//! The bucketed execution's two passes over the inputs: pass 1 numbers every account, pass 2
//! routes every row, in dense ids, to both of its ends' buckets on local disk.

use std::sync::Arc;

use crate::compute::accounts::clean_accounts;
use crate::compute::buckets::Buckets;
use crate::compute::clean::{Dropped, Window};
use crate::compute::universe::{Extension, Universe, UniverseBuilder};
use crate::config::job::Job;
use crate::error::Result;
use crate::io::inputs::{read_accounts, Scans};
use crate::io::spill::{route, Spill, Stream};
use crate::output::progress::Reporter;
use crate::run::params::interactions_window;
use crate::run::plan::check_accounts;
use crate::run::streaming::stream_edges;
use crate::run::workers::Workers;

/// What pass 1 found: the accounts, and what cleaning dropped.
pub(super) struct IdPass {
    pub(super) universe: Universe,
    pub(super) accounts: crate::compute::accounts::AccountList,
    pub(super) follow_drops: Dropped,
    pub(super) interaction_drops: Option<Dropped>,
    pub(super) account_drops: Option<crate::compute::accounts::AccountsDropped>,
    pub(super) previous_drops: Option<Dropped>,
    /// Ids seen only in the previous night's follows; their dense ids follow the universe's.
    pub(super) extension: Extension,
}

/// Pass 1: every kept id into the universe; the previous night's ids that are not in it.
pub(super) fn read_ids(job: &Job, reporter: &Reporter, workers: &Workers, scans: &Scans) -> Result<IdPass> {
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
    let follow_drops = stream_edges(workers, &scans.follows, on_rows.clone(), Window::default(), false, &mut add)?;
    let interaction_drops = match &scans.interactions {
        Some(scan) => Some(stream_edges(workers, scan, on_rows.clone(), interactions_window(job), false, &mut add)?),
        None => None,
    };
    let (accounts, account_drops) = match &scans.accounts {
        Some(scan) => {
            let raw = workers.runtime.block_on(read_accounts(scan, workers.concurrency, on_rows.clone()))?;
            let (list, dropped) = clean_accounts(raw);
            (list, Some(dropped))
        }
        None => Default::default(),
    };
    builder.add(&[&accounts.keys]);
    let universe = workers.pool.install(|| builder.finish());
    check_accounts(universe.len())?;
    let mut extension = Extension::default();
    let previous_drops = match &scans.previous_follows {
        Some(scan) => Some(stream_edges(workers, scan, on_rows.clone(), Window::default(), false, |rows| {
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
pub(super) fn spill_rows(
    job: &Job,
    reporter: &Reporter,
    workers: &Workers,
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
    stream_edges(workers, &scans.follows, on_rows.clone(), Window::default(), true, |rows| {
        let (src, dst) = (universe.dense(&rows.src), universe.dense(&rows.dst));
        let parts = route(buckets, &src, &dst, rows.ts.as_deref());
        spill.append_routed(Stream::FollowsOut, Stream::FollowsIn, &parts)
    })?;
    if let Some(scan) = &scans.interactions {
        stream_edges(workers, scan, on_rows.clone(), interactions_window(job), false, |rows| {
            let (src, dst) = (universe.dense(&rows.src), universe.dense(&rows.dst));
            spill.append_routed(Stream::EventsOut, Stream::EventsIn, &route(buckets, &src, &dst, None))
        })?;
    }
    if let Some(scan) = &scans.previous_follows {
        stream_edges(workers, scan, on_rows.clone(), Window::default(), false, |rows| {
            let (src, dst) =
                (universe.dense_extending(&rows.src, extension), universe.dense_extending(&rows.dst, extension));
            spill.append_routed(Stream::PreviousOut, Stream::PreviousIn, &route(buckets, &src, &dst, None))
        })?;
    }
    bar.finish_and_clear();
    spill.finish_writing()?;
    Ok(spill.bytes())
}
