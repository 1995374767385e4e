//! The job file as written: its sections and keys, every one optional, unknown ones refused.
//! `job.rs` merges them with flags and defaults into the one `Job`.

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::cli::{LogFormat, TableCompression};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct JobFile {
    pub(super) input: InputSection,
    pub(super) output: OutputSection,
    pub(super) columns: Columns,
    pub(super) parameters: ParameterSection,
    pub(super) run: RunSection,
    pub(super) storage: StorageSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct InputSection {
    pub(super) follows: Option<String>,
    pub(super) interactions: Option<String>,
    pub(super) accounts: Option<String>,
    pub(super) previous_follows: Option<String>,
    pub(super) previous_required: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct OutputSection {
    pub(super) out: Option<String>,
    pub(super) overwrite: Option<bool>,
    pub(super) report: Option<bool>,
    pub(super) compression: Option<TableCompression>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct ParameterSection {
    pub(super) min_followers: Option<u64>,
    pub(super) follows_back_all_rate: Option<f64>,
    pub(super) selective_rate: Option<f64>,
    pub(super) window: Option<String>,
    pub(super) window_start: Option<toml::Value>,
    pub(super) window_end: Option<toml::Value>,
    pub(super) brands: Vec<toml::Value>,
    pub(super) reach_2hop: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RunSection {
    pub(super) threads: Option<usize>,
    pub(super) log_format: Option<LogFormat>,
    pub(super) memory_limit: Option<String>,
    pub(super) stale_lock_after_s: Option<f64>,
    pub(super) lock_lease_s: Option<f64>,
    pub(super) lock_renew_s: Option<f64>,
    pub(super) buckets: Option<usize>,
    pub(super) spill_dir: Option<PathBuf>,
    pub(super) rescan: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct StorageSection {
    pub(super) read_timeout_s: Option<f64>,
    pub(super) connect_timeout_s: Option<f64>,
    pub(super) max_retries: Option<usize>,
    pub(super) retry_timeout_s: Option<f64>,
}

/// Column names of the follows dataset.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FollowColumns {
    pub follower_id: String,
    pub followee_id: String,
    pub created_at: String,
}

impl Default for FollowColumns {
    fn default() -> Self {
        FollowColumns {
            follower_id: "follower_id".into(),
            followee_id: "followee_id".into(),
            created_at: "created_at".into(),
        }
    }
}

/// Column names of the interactions dataset.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InteractionColumns {
    pub actor_id: String,
    pub target_id: String,
    pub created_at: String,
}

impl Default for InteractionColumns {
    fn default() -> Self {
        InteractionColumns {
            actor_id: "actor_id".into(),
            target_id: "target_id".into(),
            created_at: "created_at".into(),
        }
    }
}

/// Column names of the accounts dataset.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountColumns {
    pub account_id: String,
    pub account_type: String,
}

impl Default for AccountColumns {
    fn default() -> Self {
        AccountColumns { account_id: "account_id".into(), account_type: "account_type".into() }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Columns {
    pub follows: FollowColumns,
    pub interactions: InteractionColumns,
    pub accounts: AccountColumns,
}
