//! `_manifest.json`: what a run read, with which parameters, what it dropped and wrote.
//!
//! Written after every table and before `_SUCCESS`. It never holds credentials: inputs are
//! named by URL and object path only (object_store takes secrets from the environment).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::compute::accounts::AccountsDropped;
use crate::compute::clean::Dropped;
use crate::config::job::Job;
use crate::id_type::IdType;
use crate::io::inputs::{describe, InputDescription, Scans};
use crate::io::store::Location;
use crate::output::progress::Reporter;
use crate::output::progress::StageTime;

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub reciprocity_version: &'static str,
    /// What the tables depend on ([`fingerprint`]): a rerun with the same one is a no-op.
    pub fingerprint: String,
    pub run_id: String,
    pub run_date: String,
    pub started_at: String,
    pub finished_at: String,
    pub output: String,
    /// The result tables' Parquet compression.
    pub compression: &'static str,
    pub id_type: String,
    pub inputs: BTreeMap<String, InputDescription>,
    pub parameters: Parameters,
    pub rejected: Rejected,
    pub accounts: u64,
    pub tables: BTreeMap<String, TableEntry>,
    /// The report page, relative to OUT, when the run wrote one.
    pub report: Option<String>,
    pub versions: BTreeMap<&'static str, String>,
    pub timings_s: Vec<StageTime>,
    pub execution: ExecutionEntry,
    pub warnings: Vec<String>,
}

pub use crate::io::write::TableEntry;

impl Manifest {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        job: &Job,
        reporter: &Reporter,
        out: &Location,
        scans: &Scans,
        id_type: IdType,
        accounts: usize,
        rejected: Rejected,
        tables: BTreeMap<String, TableEntry>,
        execution: ExecutionEntry,
        started_at: chrono::DateTime<chrono::Utc>,
    ) -> Manifest {
        let stamp = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        Manifest {
            reciprocity_version: env!("CARGO_PKG_VERSION"),
            fingerprint: fingerprint(job, scans),
            run_id: reporter.run_id().to_string(),
            run_date: job.run_date.to_string(),
            started_at: stamp(started_at),
            finished_at: stamp(chrono::Utc::now()),
            output: out.url(),
            compression: job.compression.name(),
            id_type: id_type.to_string(),
            inputs: scans.all().map(|s| (s.dataset.clone(), describe(s))).collect(),
            parameters: Parameters::of(job),
            rejected,
            accounts: accounts as u64,
            tables,
            report: job.report.then(|| crate::output::folder::REPORT.to_string()),
            versions: versions(),
            timings_s: reporter.timings(),
            execution,
            warnings: reporter.warnings(),
        }
    }
}

/// A digest of everything a run's tables depend on: the version of this program, the
/// parameters, the output settings, and every input object's version (path, size, ETag or
/// version id). How the run executed is left out, as it does not change a byte. Two runs
/// with the same fingerprint write the same tables, so OUT holding a completed run with
/// ours is already done.
pub fn fingerprint(job: &Job, scans: &Scans) -> String {
    use sha2::{Digest, Sha256};
    let inputs: BTreeMap<String, InputDescription> = scans.all().map(|s| (s.dataset.clone(), describe(s))).collect();
    let of = serde_json::json!({
        "reciprocity_version": env!("CARGO_PKG_VERSION"),
        "run_date": job.run_date.to_string(),
        "parameters": Parameters::of(job),
        "compression": job.compression.name(),
        "report": job.report,
        "inputs": inputs,
    });
    format!("{:x}", Sha256::digest(of.to_string().as_bytes()))
}

/// How the run executed: in memory, or in buckets spilled to local disk.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExecutionEntry {
    /// `in_memory`, `buckets` (spilled to disk), `buckets_rescan` (inputs read again for each
    /// bucket), or the engine that computed the buckets (`spark`).
    pub mode: String,
    pub buckets: Option<usize>,
    /// Bytes written to (and read back from) the spill folder.
    pub spill_bytes: Option<u64>,
}

impl ExecutionEntry {
    pub fn in_memory() -> ExecutionEntry {
        ExecutionEntry { mode: "in_memory".into(), buckets: None, spill_bytes: None }
    }

    pub fn buckets(count: usize, spill_bytes: u64) -> ExecutionEntry {
        ExecutionEntry { mode: "buckets".into(), buckets: Some(count), spill_bytes: Some(spill_bytes) }
    }

    /// Buckets whose rows were read again from the inputs for each (`--rescan`).
    pub fn rescan(count: usize) -> ExecutionEntry {
        ExecutionEntry { mode: "buckets_rescan".into(), buckets: Some(count), spill_bytes: None }
    }
}

/// The job's metric parameters, as run.
#[derive(Debug, Clone, Serialize)]
pub struct Parameters {
    pub min_followers: u64,
    pub follows_back_all_rate: f64,
    pub selective_rate: f64,
    pub window_start: Option<String>,
    pub window_end: Option<String>,
    pub brands: Vec<String>,
    pub reach_2hop: &'static str,
    pub columns: BTreeMap<String, BTreeMap<&'static str, String>>,
}

impl Parameters {
    pub fn of(job: &Job) -> Parameters {
        let instant = |ns: Option<i64>| {
            ns.map(|ns| chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        };
        let c = &job.columns;
        let columns = BTreeMap::from([
            (
                "follows".to_string(),
                BTreeMap::from([
                    ("follower_id", c.follows.follower_id.clone()),
                    ("followee_id", c.follows.followee_id.clone()),
                    ("created_at", c.follows.created_at.clone()),
                ]),
            ),
            (
                "interactions".to_string(),
                BTreeMap::from([
                    ("actor_id", c.interactions.actor_id.clone()),
                    ("target_id", c.interactions.target_id.clone()),
                    ("created_at", c.interactions.created_at.clone()),
                ]),
            ),
            (
                "accounts".to_string(),
                BTreeMap::from([
                    ("account_id", c.accounts.account_id.clone()),
                    ("account_type", c.accounts.account_type.clone()),
                ]),
            ),
        ]);
        Parameters {
            min_followers: job.params.min_followers,
            follows_back_all_rate: job.params.follows_back_all_rate,
            selective_rate: job.params.selective_rate,
            window_start: instant(job.params.window_start_ns),
            window_end: instant(job.params.window_end_ns),
            brands: job.params.brands.iter().map(|b| b.to_string()).collect(),
            reach_2hop: if job.params.reach_2hop_estimate { "estimate" } else { "exact" },
            columns,
        }
    }
}

/// Rows removed by cleaning: totals by rule, and per dataset.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Rejected {
    pub null_id: u64,
    pub self_loop: u64,
    pub duplicate_follow: u64,
    pub outside_window: u64,
    pub duplicate_account: u64,
    pub by_dataset: BTreeMap<&'static str, BTreeMap<&'static str, u64>>,
}

impl Rejected {
    pub fn new(
        follows: Dropped,
        duplicate_follow: u64,
        interactions: Option<Dropped>,
        accounts: Option<AccountsDropped>,
    ) -> Rejected {
        let mut by_dataset = BTreeMap::new();
        by_dataset.insert(
            "follows",
            BTreeMap::from([
                ("null_id", follows.null_id),
                ("self_loop", follows.self_loop),
                ("duplicate_follow", duplicate_follow),
            ]),
        );
        if let Some(i) = interactions {
            by_dataset.insert(
                "interactions",
                BTreeMap::from([
                    ("null_id", i.null_id),
                    ("self_loop", i.self_loop),
                    ("outside_window", i.outside_window),
                ]),
            );
        }
        if let Some(a) = accounts {
            by_dataset.insert(
                "accounts",
                BTreeMap::from([("null_id", a.null_id), ("duplicate_account", a.duplicate_account)]),
            );
        }
        let i = interactions.unwrap_or_default();
        let a = accounts.unwrap_or_default();
        Rejected {
            null_id: follows.null_id + i.null_id + a.null_id,
            self_loop: follows.self_loop + i.self_loop,
            duplicate_follow,
            outside_window: i.outside_window,
            duplicate_account: a.duplicate_account,
            by_dataset,
        }
    }
}

impl Rejected {
    /// Adds the previous snapshot's cleaning (per dataset only: the totals are tonight's).
    pub fn with_previous(mut self, dropped: Option<Dropped>, duplicate_follow: Option<u64>) -> Rejected {
        if let Some(d) = dropped {
            self.by_dataset.insert(
                "previous_follows",
                BTreeMap::from([
                    ("null_id", d.null_id),
                    ("self_loop", d.self_loop),
                    ("duplicate_follow", duplicate_follow.unwrap_or(0)),
                ]),
            );
        }
        self
    }
}

/// Versions of what produced the output.
pub fn versions() -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("reciprocity", env!("CARGO_PKG_VERSION").to_string()),
        ("parquet_writer", parquet::file::properties::DEFAULT_CREATED_BY.to_string()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_totals_are_tonight_s_and_the_previous_night_is_listed_apart() {
        let follows = Dropped { null_id: 1, self_loop: 2, outside_window: 0 };
        let events = Dropped { null_id: 3, self_loop: 4, outside_window: 5 };
        let accounts = AccountsDropped { null_id: 6, duplicate_account: 7 };
        let previous = Dropped { null_id: 100, self_loop: 200, outside_window: 0 };
        let r = Rejected::new(follows, 8, Some(events), Some(accounts)).with_previous(Some(previous), Some(9));
        assert_eq!((r.null_id, r.self_loop, r.duplicate_follow), (1 + 3 + 6, 2 + 4, 8));
        assert_eq!((r.outside_window, r.duplicate_account), (5, 7));
        assert_eq!(
            r.by_dataset["previous_follows"],
            BTreeMap::from([("null_id", 100), ("self_loop", 200), ("duplicate_follow", 9)])
        );
        assert_eq!(r.by_dataset["interactions"]["outside_window"], 5);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["by_dataset"]["follows"]["duplicate_follow"], 8);
    }

    #[test]
    fn a_run_without_optional_inputs_lists_only_the_follows() {
        let r = Rejected::new(Dropped::default(), 0, None, None).with_previous(None, None);
        assert_eq!(r.by_dataset.keys().copied().collect::<Vec<_>>(), vec!["follows"]);
    }

    #[test]
    fn executions_are_named_as_the_manifest_documents_them() {
        let json = |e: ExecutionEntry| serde_json::to_string(&e).unwrap();
        assert_eq!(json(ExecutionEntry::in_memory()), r#"{"mode":"in_memory","buckets":null,"spill_bytes":null}"#);
        assert_eq!(json(ExecutionEntry::buckets(4, 96)), r#"{"mode":"buckets","buckets":4,"spill_bytes":96}"#);
        assert_eq!(json(ExecutionEntry::rescan(4)), r#"{"mode":"buckets_rescan","buckets":4,"spill_bytes":null}"#);
    }
}
