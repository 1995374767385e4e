//! What every execution hands to `publish`: the run's results, ready to be written.
//!
//! In memory, in buckets or computed elsewhere, a run ends in one [`Computed`]; what is
//! written from it does not depend on how it was computed, which is what keeps the tables
//! byte-identical across executions.

use crate::compute::account_metrics::AccountRow;
use crate::compute::accounts::AccountTypes;
use crate::compute::brands::BrandRow;
use crate::compute::by_followers::FollowerDecade;
use crate::compute::follow_changes::Changes;
use crate::compute::population::Population;
use crate::compute::universe::Universe;
use crate::io::inputs::Scans;
use crate::io::write::TableEntry;
use crate::output::manifest::{ExecutionEntry, Manifest, Rejected};

/// The account_metrics table: its rows, to be written; or the parts a bucketed run already
/// wrote bucket by bucket (`account_parts.rs`).
pub enum AccountTable {
    Rows(Vec<AccountRow>),
    Written(TableEntry),
}

/// Everything a run computed, ready to be written.
pub struct Computed {
    pub scans: Scans,
    pub universe: Universe,
    pub types: AccountTypes,
    pub accounts: AccountTable,
    pub by_followers: Vec<FollowerDecade>,
    pub population: Population,
    pub brands: Vec<BrandRow>,
    pub changes: Option<Changes>,
    /// Every input's cleaning counts, the previous night's included.
    pub rejected: Rejected,
    pub execution: ExecutionEntry,
}

/// What a finished run reports back.
#[derive(Debug, Clone)]
pub enum RunOutcome {
    /// The run wrote OUT.
    Published { manifest: Box<Manifest>, population: Box<Population>, summary: String },
    /// OUT already held this very run (same inputs and settings): nothing was written.
    AlreadyComplete { out: String },
}

impl RunOutcome {
    /// The text the binary prints when the run ends.
    pub fn summary(&self) -> String {
        match self {
            RunOutcome::Published { summary, .. } => summary.clone(),
            RunOutcome::AlreadyComplete { out } => format!(
                "{out} already holds this run (same inputs, settings and version); nothing to do (--overwrite recomputes it)\n"
            ),
        }
    }
}
