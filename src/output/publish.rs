//! The end of a run: write tables -> manifest -> _SUCCESS -> human summary, the same for
//! in-memory and bucketed runs.

use std::collections::BTreeSet;

use arrow_array::RecordBatch;
use serde_json::json;

use crate::compute::brands::BrandRow;
use crate::compute::by_followers::FollowerDecade;
use crate::compute::follow_changes::{ChangeRow, PopulationChanges};
use crate::compute::population::Population;
use crate::config::job::Job;
use crate::error::{Error, Result};
use crate::id_type::IdType;
use crate::io::store::Location;
use crate::output::account_parts::AccountParts;
use crate::output::computed::{AccountTable, Computed, RunOutcome};
use crate::output::folder::{mark_success, remove_unlisted, write_manifest, write_tables, REPORT, TABLES};
use crate::output::manifest::Manifest;
use crate::output::progress::Reporter;
use crate::output::{report, summary, tables};

/// write tables -> manifest -> _SUCCESS -> human summary.
pub(crate) fn publish(
    job: &Job,
    reporter: &Reporter,
    runtime: &tokio::runtime::Runtime,
    out: &Location,
    computed: Computed,
    started_at: chrono::DateTime<chrono::Utc>,
) -> Result<RunOutcome> {
    let Computed { scans, universe, types, accounts, by_followers, population, brands, changes, rejected, execution } =
        computed;
    let id_type = scans.id_type;
    let keys = universe.keys();
    let changed = changes.as_ref().map(|c| (c.keys.as_slice(), c.rows.as_slice(), &c.population));
    let batches = small_tables(job, id_type, keys, &population, &by_followers, &brands, changed)?;
    let write = || {
        // account_metrics goes part by part through the same code in every mode, so its
        // bytes cannot depend on how the rows were computed (a bucketed run has written it).
        let account_metrics = match accounts {
            AccountTable::Rows(rows) => {
                let mut parts = AccountParts::start(runtime, out, id_type, keys, &types, job.compression.codec())?;
                parts.push(rows)?;
                parts.finish()?
            }
            AccountTable::Written(table) => table,
        };
        let mut written = write_tables(runtime, out, &batches, job.compression.codec())?;
        written.insert(tables::ACCOUNT_METRICS.to_string(), account_metrics);
        Ok::<_, Error>(written)
    };
    let written = reporter.stage("write", write, |w| json!({ "tables": w.len() }))?;
    if job.report {
        reporter.stage("report", || write_report(runtime, out, &batches), |_| json!({ "path": REPORT }))?;
    }
    let manifest =
        Manifest::new(job, reporter, out, &scans, id_type, universe.len(), rejected, written, execution, started_at);
    commit(runtime, out, &manifest)?;
    let summary = summary::render(&summary::SummaryInput {
        out: &manifest.output,
        population: &population,
        changes: changes.as_ref().map(|c| &c.population),
        top_brands: summary::top_brands(&brands, id_type, keys, 5),
        brands: brands.len(),
        rejected: &manifest.rejected,
        timings: &manifest.timings_s,
        execution: &manifest.execution,
    });
    log_run_end(reporter, &manifest, &population, brands.len());
    Ok(RunOutcome::Published { manifest: Box::new(manifest), population: Box::new(population), summary })
}

/// Every table but account_metrics, as Arrow batches (each is at most one row per brand,
/// decade or changed account).
fn small_tables<'a>(
    job: &Job,
    id_type: IdType,
    keys: &[u64],
    population: &Population,
    by_followers: &[FollowerDecade],
    brands: &[BrandRow],
    changes: Option<(&[u64], &[ChangeRow], &PopulationChanges)>,
) -> Result<Vec<(&'a str, RecordBatch)>> {
    let mut batches: Vec<(&str, RecordBatch)> = vec![
        (tables::POPULATION_SUMMARY, tables::population_summary(population, changes.map(|c| c.2))?),
        (tables::RECIPROCITY_BY_FOLLOWERS, tables::reciprocity_by_followers(by_followers)?),
        (tables::BRAND_AUDIENCE, tables::brand_audience(id_type, keys, brands, job.params.reach_2hop_estimate)?),
    ];
    if let Some((keys, rows, _)) = changes {
        batches.push((tables::FOLLOW_CHANGES, tables::follow_changes(id_type, keys, rows)?));
    }
    Ok(batches)
}

/// OUT/report.html, from the tables in memory and account_metrics read back (it is written
/// part by part).
fn write_report(runtime: &tokio::runtime::Runtime, out: &Location, batches: &[(&str, RecordBatch)]) -> Result<()> {
    let mut tables = report_tables(batches);
    tables.account_metrics = runtime.block_on(report::page::read_account_metrics(out))?;
    let html = report::render(&out.url(), &tables, &report::BrandSelection::Top(20))?;
    runtime.block_on(report::page::write_report(&out.at(REPORT), html))
}

/// The manifest, then the removal of objects it does not list, then `_SUCCESS`: from here
/// on a reader may trust OUT.
fn commit(runtime: &tokio::runtime::Runtime, out: &Location, manifest: &Manifest) -> Result<()> {
    let json = serde_json::to_string_pretty(manifest).map_err(|e| Error::internal("serializing the manifest", e))?;
    let listed: BTreeSet<String> =
        manifest.tables.values().flat_map(|t| t.objects.iter().map(|o| o.path.clone())).collect();
    runtime.block_on(async {
        write_manifest(out, json).await?;
        remove_unlisted(out, &TABLES, &listed).await?;
        mark_success(out).await
    })
}

/// The JSON log's last event of a run.
fn log_run_end(reporter: &Reporter, manifest: &Manifest, p: &Population, brands: usize) {
    reporter.event(
        "run",
        "run_end",
        json!({
            "output": manifest.output,
            "accounts": p.accounts,
            "follow_edges": p.follow_edges,
            "interaction_events": p.interaction_events,
            "edge_reciprocity": p.edge_reciprocity,
            "rho": p.rho,
            "mutual_dyads_hollow": p.mutual_dyads_hollow,
            "brands": brands,
            "rejected": manifest.rejected,
            "execution": manifest.execution,
            "seconds": manifest.timings_s.iter().map(|t| t.seconds).sum::<f64>(),
        }),
    );
}

/// The report's view of tables still in memory.
fn report_tables(batches: &[(&str, RecordBatch)]) -> report::data::Tables {
    let table = |name: &str| batches.iter().filter(|(n, _)| *n == name).map(|(_, b)| b.clone()).collect();
    report::data::Tables {
        account_metrics: table(tables::ACCOUNT_METRICS),
        population_summary: table(tables::POPULATION_SUMMARY),
        reciprocity_by_followers: table(tables::RECIPROCITY_BY_FOLLOWERS),
        brand_audience: table(tables::BRAND_AUDIENCE),
        follow_changes: table(tables::FOLLOW_CHANGES),
    }
}
