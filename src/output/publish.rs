//! The end of a run: write tables -> manifest -> _SUCCESS -> human summary, the same for
//! in-memory and bucketed runs.

use std::collections::BTreeSet;

use arrow_array::RecordBatch;
use serde_json::json;

use crate::config::job::Job;
use crate::error::{Error, Result};
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
    let batches = {
        let mut batches: Vec<(&str, RecordBatch)> = vec![
            (
                tables::POPULATION_SUMMARY,
                tables::population_summary(&population, changes.as_ref().map(|c| &c.population))?,
            ),
            (tables::RECIPROCITY_BY_FOLLOWERS, tables::reciprocity_by_followers(&by_followers)?),
            (tables::BRAND_AUDIENCE, tables::brand_audience(id_type, keys, &brands, job.params.reach_2hop_estimate)?),
        ];
        if let Some(c) = &changes {
            batches.push((tables::FOLLOW_CHANGES, tables::follow_changes(id_type, &c.keys, &c.rows)?));
        }
        batches
    };
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
        reporter.stage(
            "report",
            || {
                let mut tables = report_tables(&batches);
                // account_metrics is written part by part: the report reads back what it draws.
                tables.account_metrics = runtime.block_on(report::page::read_account_metrics(out))?;
                let html = report::render(&out.url(), &tables, &report::BrandSelection::Top(20))?;
                let page = out.at(REPORT);
                runtime.block_on(report::page::write_report(&page, html))
            },
            |_| json!({ "path": REPORT }),
        )?;
    }

    let manifest =
        Manifest::new(job, reporter, out, &scans, id_type, universe.len(), rejected, written, execution, started_at);
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| Error::internal("serializing the manifest", e))?;
    let listed: BTreeSet<String> =
        manifest.tables.values().flat_map(|t| t.objects.iter().map(|o| o.path.clone())).collect();
    runtime.block_on(async {
        write_manifest(out, json).await?;
        remove_unlisted(out, &TABLES, &listed).await?;
        mark_success(out).await
    })?;

    // human summary
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
    let p = &population;
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
            "brands": brands.len(),
            "rejected": manifest.rejected,
            "execution": manifest.execution,
            "seconds": manifest.timings_s.iter().map(|t| t.seconds).sum::<f64>(),
        }),
    );
    Ok(RunOutcome { manifest, population, summary })
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
