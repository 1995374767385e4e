//! The bucketed execution's sweep: each bucket in turn, its graphs from its rows, then the
//! bucket kernel; what the population and the brands need of every bucket is gathered.

use serde_json::json;

use crate::compute::brands::BrandRow;
use crate::compute::bucket::{bucket_kernel, BucketResult};
use crate::compute::buckets::Buckets;
use crate::compute::by_followers::FollowerGroups;
use crate::compute::follow_changes::{ChangeRow, ChangeSums};
use crate::compute::population::{GraphTotals, PopulationParts};
use crate::compute::reach::FollowerLists;
use crate::config::job::Job;
use crate::error::Result;
use crate::io::write::TableEntry;
use crate::output::account_parts::AccountParts;
use crate::output::progress::Reporter;
use crate::run::params::camp_rule;

use super::passes::IdPass;
use super::rows::Source;

/// What the buckets gathered.
pub(super) struct Swept {
    /// account_metrics, written (once every bucket is).
    pub(super) table: TableEntry,
    pub(super) population: PopulationParts,
    pub(super) groups: FollowerGroups,
    pub(super) totals: GraphTotals,
    /// Brand rows without reach_2hop, and every account's followers for the walk.
    pub(super) brand_rows: Vec<BrandRow>,
    pub(super) followers: FollowerLists,
    pub(super) duplicate_follows: u64,
    /// Change rows (dense ids in U'), their sums, and the previous night's duplicates.
    pub(super) changes: Option<(Vec<ChangeRow>, ChangeSums, u64)>,
}

/// Each bucket in turn: its graphs from its rows, then the bucket kernel.
pub(super) fn sweep(
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
        let start = range.start;
        // Accounts of this range that exist tonight; the rest were seen only the night before.
        let tonight = n.min(range.end).saturating_sub(start);
        let graphs = source.rows(k, range.clone())?.into_graphs(range.len());
        let in_range = |end: usize| brands.partition_point(|&b| (b as usize) < end);
        let local_brands: Vec<u32> =
            brands[in_range(start)..in_range(start + tonight)].iter().map(|&b| b - start as u32).collect();
        let result =
            bucket_kernel(&graphs.follows, &graphs.interactions, graphs.previous.as_ref(), &local_brands, &rule);
        if !brands.is_empty() {
            let ends = &graphs.follows.in_offsets[..=tonight];
            swept.followers.append(ends, &graphs.follows.sources[..ends[tonight]]);
        }
        let rows = gather(&mut swept, result, start as u32, tonight);
        table.push(rows)?;
        crate::fault::point("mid_bucket");
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

/// Adds one bucket's results (accounts `start..start + tonight` exist tonight) to what the
/// sweep gathers; returns tonight's account rows, for account_metrics.
fn gather(
    swept: &mut Swept,
    result: BucketResult,
    start: u32,
    tonight: usize,
) -> Vec<crate::compute::account_metrics::AccountRow> {
    let BucketResult { mut pass, totals, duplicate_follows, brand_rows, changes } = result;
    pass.rows.truncate(tonight);
    swept.population.add(&pass.rows, std::mem::take(&mut pass.latencies_ns));
    swept.groups.add(&pass.rows);
    swept.totals.add(totals);
    swept.duplicate_follows += duplicate_follows;
    swept.brand_rows.extend(brand_rows.into_iter().map(|r| BrandRow { account: r.account + start, ..r }));
    if let (Some((rows, sums, duplicates)), Some((changed, bucket_sums, bucket_duplicates))) =
        (&mut swept.changes, changes)
    {
        rows.extend(changed.into_iter().map(|r| ChangeRow { account: r.account + start, ..r }));
        sums.add(&bucket_sums);
        *duplicates += bucket_duplicates;
    }
    pass.rows
}
