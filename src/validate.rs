//! `reciprocity validate`: the pre-flight step of a pipeline — reads, checks and cleans the
//! inputs exactly as a run would, and reports what it found, without computing metrics or
//! writing anything.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Result;
use crate::job::Job;
use crate::manifest::Rejected;
use crate::progress::{Reporter, StageTime};
use crate::{io, prepare, resources, scan, Engine};

/// What `reciprocity validate` found: the inputs would run, and what cleaning would drop.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub valid: bool,
    pub id_type: String,
    pub inputs: BTreeMap<String, io::inputs::InputDescription>,
    pub rejected: Rejected,
    pub accounts: u64,
    pub follow_edges: u64,
    pub interaction_events: u64,
    pub estimated_memory_bytes: u64,
    pub timings_s: Vec<StageTime>,
}

/// Reads, checks and cleans the inputs without computing metrics or writing anything.
pub fn validate(job: &Job, reporter: &Reporter) -> Result<Validation> {
    let engine = Engine::new(job)?;
    let scanned = scan(job, reporter, &engine)?;
    // Validation reads every input at once; it has no bucketed path.
    if let (Some(limit), resources::Execution::Buckets(_)) =
        (job.memory_limit, resources::plan(scanned.1, job.memory_limit, None)?)
    {
        return Err(crate::error::Error::Resource(format!(
            "validating these inputs needs about {} of memory, above the limit of {}; `run` would compute them in \
             buckets, but `validate` reads them whole: raise --memory-limit or validate a part of them",
            resources::human(resources::estimate_bytes(scanned.1)),
            resources::human(limit)
        )));
    }
    let prepared = prepare(job, reporter, &engine, scanned)?;
    let previous_drops = match &prepared.scans.previous_follows {
        Some(scan) => Some(crate::streaming::read_previous_night(&engine, reporter, scan, &prepared.universe)?.1),
        None => None,
    };
    Ok(Validation {
        valid: true,
        id_type: prepared.scans.id_type.to_string(),
        inputs: prepared.scans.all().map(|s| (s.dataset.clone(), io::inputs::describe(s))).collect(),
        rejected: prepared.rejected.with_previous(previous_drops, None),
        accounts: prepared.universe.len() as u64,
        follow_edges: prepared.follow_graph.edges() as u64,
        interaction_events: prepared.interaction_graph.events,
        estimated_memory_bytes: resources::estimate_bytes(prepared.input_rows),
        timings_s: reporter.timings(),
    })
}
