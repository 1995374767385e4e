//! The inputs as the plan sees them: where they are, their footers and row counts.

use serde_json::json;

use crate::config::job::Job;
use crate::error::Result;
use crate::io::inputs::{scan_inputs, InputSpec, Scans};
use crate::output::progress::Reporter;
use crate::run::params;
use crate::run::plan::InputRows;
use crate::run::workers::Workers;

/// Where the job's inputs are and which columns it reads.
pub fn input_spec(job: &Job) -> InputSpec<'_> {
    let c = &job.columns;
    InputSpec {
        follows: &job.follows,
        interactions: job.interactions.as_deref(),
        accounts: job.accounts.as_deref(),
        previous_follows: job.previous_follows.as_deref(),
        previous_required: job.previous_required,
        follow_columns: [&c.follows.follower_id, &c.follows.followee_id, &c.follows.created_at],
        interaction_columns: [&c.interactions.actor_id, &c.interactions.target_id, &c.interactions.created_at],
        // Timestamps are read only when a window needs them.
        interaction_times: params::interactions_window(job).is_set(),
        account_columns: [&c.accounts.account_id, &c.accounts.account_type],
        storage: &job.storage,
    }
}

/// Lists the inputs and checks their footers and schemas.
pub fn scan(job: &Job, reporter: &Reporter, workers: &Workers) -> Result<Scans> {
    let scans = reporter.stage(
        "scan",
        || workers.runtime.block_on(scan_inputs(&input_spec(job), workers.concurrency)),
        |s| json!({ "objects": s.all().map(|d| d.objects.len()).sum::<usize>(), "rows": s.all().map(|d| d.rows()).sum::<u64>() }),
    )?;
    if let Some(url) = &scans.missing_previous {
        reporter.warn(format!(
            "no previous night at {url} (the first night, or a gap): follow_changes is not written; \
             set input.previous_required = true to make this an error"
        ));
    }
    Ok(scans)
}

/// Rows of each input, from the footers: what the memory plan is made from.
pub fn input_rows(scans: &Scans) -> InputRows {
    let rows = |d: &Option<crate::io::dataset::ScannedDataset>| d.as_ref().map_or(0, |d| d.rows());
    InputRows {
        follows: scans.follows.rows(),
        interactions: rows(&scans.interactions),
        accounts: rows(&scans.accounts),
        previous_follows: rows(&scans.previous_follows),
    }
}
