//! `reciprocity validate`: the pre-flight step of a pipeline — reads, checks and cleans the
//! inputs exactly as a run would, and reports what it found, without computing metrics or
//! writing anything.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::config::job::Job;
use crate::config::size::human;
use crate::error::{Error, Result};
use crate::io::inputs::{describe, InputDescription};
use crate::output::manifest::Rejected;
use crate::output::progress::{Reporter, StageTime};
use crate::output::summary::thousands;
use crate::run::in_memory::prepare;
use crate::run::plan::{estimate_bytes, fit, Fit};
use crate::run::scan::{input_rows, scan};
use crate::run::streaming::read_previous_night;
use crate::run::workers::Workers;

/// What `reciprocity validate` found: the inputs would run, and what cleaning would drop.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub valid: bool,
    pub id_type: String,
    pub inputs: BTreeMap<String, InputDescription>,
    pub rejected: Rejected,
    pub accounts: u64,
    pub follow_edges: u64,
    pub interaction_events: u64,
    pub estimated_memory_bytes: u64,
    pub timings_s: Vec<StageTime>,
}

/// Reads, checks and cleans the inputs without computing metrics or writing anything.
pub fn validate(job: &Job, reporter: &Reporter) -> Result<Validation> {
    let workers = Workers::new(job)?;
    let scans = scan(job, reporter, &workers)?;
    let rows = input_rows(&scans);
    // Validation reads every input at once; it has no bucketed path.
    if let (Some(limit), Fit::Buckets(_)) = (job.memory_limit, fit(rows, job.memory_limit, None)?) {
        return Err(Error::Resource(format!(
            "validating these inputs needs about {} of memory, above the limit of {}; `run` would compute them in \
             buckets, but `validate` reads them whole: raise --memory-limit or validate a part of them",
            human(estimate_bytes(rows)),
            human(limit)
        )));
    }
    let prepared = prepare(job, reporter, &workers, scans)?;
    let previous_drops = match &prepared.scans.previous_follows {
        Some(scan) => Some(read_previous_night(&workers, reporter, scan, &prepared.universe)?.1),
        None => None,
    };
    Ok(Validation {
        valid: true,
        id_type: prepared.scans.id_type.to_string(),
        inputs: prepared.scans.all().map(|s| (s.dataset.clone(), describe(s))).collect(),
        rejected: prepared.rejected.with_previous(previous_drops, None),
        accounts: prepared.universe.len() as u64,
        follow_edges: prepared.follow_graph.edges() as u64,
        interaction_events: prepared.interaction_graph.events,
        estimated_memory_bytes: estimate_bytes(rows),
        timings_s: reporter.timings(),
    })
}

impl Validation {
    /// The text report of `reciprocity validate`.
    pub fn render(&self) -> String {
        let v = self;
        let mut out = String::new();
        let _ = writeln!(out, "inputs are valid (ids: {})", v.id_type);
        for (name, input) in &v.inputs {
            let _ = writeln!(
                out,
                "  {name:<17} {} rows in {} objects ({}) at {}",
                thousands(input.rows),
                input.objects.len(),
                human(input.bytes),
                input.url
            );
        }
        let r = &v.rejected;
        let _ = writeln!(
            out,
            "  cleaning would drop {} null ids, {} self-loops, {} duplicate follows, {} events outside the window, {} duplicate accounts",
            thousands(r.null_id),
            thousands(r.self_loop),
            thousands(r.duplicate_follow),
            thousands(r.outside_window),
            thousands(r.duplicate_account)
        );
        let _ = writeln!(
            out,
            "  leaving {} accounts, {} follow edges, {} interaction events; a run needs about {} of memory",
            thousands(v.accounts),
            thousands(v.follow_edges),
            thousands(v.interaction_events),
            human(v.estimated_memory_bytes)
        );
        out
    }
}
