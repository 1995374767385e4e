//! The job's input datasets: checked footers first, then the wanted columns of each.
//!
//! Scanning (listing, footers, column names and types, one id type across all datasets)
//! happens for every dataset before any data is decoded, so a bad schema anywhere fails in
//! seconds and names its object and column.

use std::sync::Arc;

use serde::Serialize;

use crate::compute::accounts::RawAccounts;
use crate::compute::clean::RawEdges;
use crate::error::{Error, Result};
use crate::id_type::IdType;
use crate::io::dataset::{scan, ColumnKind, ScannedDataset, WantedColumn};
use crate::io::decode::ColumnData;
use crate::io::landing::read_columns;
use crate::io::object_reader::ObjectVersion;
use crate::io::store::{self, StorageOptions};

pub const FOLLOWS: &str = "follows";
pub const INTERACTIONS: &str = "interactions";
pub const ACCOUNTS: &str = "accounts";
pub const PREVIOUS_FOLLOWS: &str = "previous_follows";

/// Every dataset of a job, scanned.
#[derive(Debug, Clone)]
pub struct Scans {
    pub follows: ScannedDataset,
    pub interactions: Option<ScannedDataset>,
    pub accounts: Option<ScannedDataset>,
    pub previous_follows: Option<ScannedDataset>,
    /// The previous night's URL when it was asked for, not required, and has no objects
    /// (the first night, a gap): the run goes on without comparing nights.
    pub missing_previous: Option<String>,
    pub id_type: IdType,
}

impl Scans {
    pub fn all(&self) -> impl Iterator<Item = &ScannedDataset> {
        std::iter::once(&self.follows).chain(&self.interactions).chain(&self.accounts).chain(&self.previous_follows)
    }
}

/// What the manifest says of one input dataset.
#[derive(Debug, Clone, Serialize)]
pub struct InputDescription {
    pub url: String,
    pub rows: u64,
    pub bytes: u64,
    pub objects: Vec<InputObject>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputObject {
    pub path: String,
    pub size: u64,
    pub rows: u64,
    /// The version read: every read was conditional on it.
    #[serde(flatten)]
    pub version: ObjectVersion,
}

pub fn describe(scan: &ScannedDataset) -> InputDescription {
    InputDescription {
        url: scan.location.url(),
        rows: scan.rows(),
        bytes: scan.bytes(),
        objects: scan
            .objects
            .iter()
            .map(|o| InputObject { path: o.name.clone(), size: o.size, rows: o.rows, version: o.version.clone() })
            .collect(),
    }
}

fn want(name: &str, kind: ColumnKind, required: bool) -> WantedColumn {
    WantedColumn { name: name.to_string(), kind, required }
}

async fn scan_dataset(
    dataset: &str,
    url: &str,
    wanted: Vec<WantedColumn>,
    storage: &StorageOptions,
    concurrency: usize,
) -> Result<ScannedDataset> {
    scan(dataset, store::open(url, storage)?, wanted, concurrency).await
}

/// Where a run's inputs are and which of their columns it reads.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec<'a> {
    pub follows: &'a str,
    pub interactions: Option<&'a str>,
    pub accounts: Option<&'a str>,
    pub previous_follows: Option<&'a str>,
    /// Whether a previous night with no objects is an error (else it is left out).
    pub previous_required: bool,
    /// follower_id, followee_id, created_at.
    pub follow_columns: [&'a str; 3],
    /// actor_id, target_id, created_at.
    pub interaction_columns: [&'a str; 3],
    /// Whether the interactions' created_at is read (a window needs it).
    pub interaction_times: bool,
    /// account_id, account_type.
    pub account_columns: [&'a str; 2],
    pub storage: &'a StorageOptions,
}

/// Lists and checks every input.
pub async fn scan_inputs(spec: &InputSpec<'_>, concurrency: usize) -> Result<Scans> {
    let [follower, followee, followed_at] = spec.follow_columns;
    let follow_columns = vec![
        want(follower, ColumnKind::Id, true),
        want(followee, ColumnKind::Id, true),
        want(followed_at, ColumnKind::Timestamp, false),
    ];
    let follows = scan_dataset(FOLLOWS, spec.follows, follow_columns.clone(), spec.storage, concurrency).await?;
    if follows.rows() == 0 {
        return Err(Error::Input {
            object: follows.location.url(),
            problem: "the follows dataset has no rows; refusing to publish metrics of an empty graph".into(),
        });
    }
    let interactions = match spec.interactions {
        None => None,
        Some(url) => {
            let [actor, target, created_at] = spec.interaction_columns;
            let mut wanted = vec![want(actor, ColumnKind::Id, true), want(target, ColumnKind::Id, true)];
            if spec.interaction_times {
                wanted.push(want(created_at, ColumnKind::Timestamp, true));
            }
            Some(scan_dataset(INTERACTIONS, url, wanted, spec.storage, concurrency).await?)
        }
    };
    let accounts = match spec.accounts {
        None => None,
        Some(url) => {
            let [account_id, account_type] = spec.account_columns;
            let wanted = vec![want(account_id, ColumnKind::Id, true), want(account_type, ColumnKind::Text, false)];
            Some(scan_dataset(ACCOUNTS, url, wanted, spec.storage, concurrency).await?)
        }
    };
    let (mut previous_follows, mut missing_previous) = (None, None);
    if let Some(url) = spec.previous_follows {
        // Only the ids matter for the comparison: created_at is not read.
        let ids_only = follow_columns[..2].to_vec();
        match scan_dataset(PREVIOUS_FOLLOWS, url, ids_only, spec.storage, concurrency).await {
            Ok(scanned) => previous_follows = Some(scanned),
            Err(Error::EmptyDataset { url, .. }) if !spec.previous_required => missing_previous = Some(url),
            Err(e) => return Err(e),
        }
    }
    let id_type = follows.id_type.expect("follows has rows, so an object with id columns");
    for other in interactions.iter().chain(&accounts).chain(&previous_follows) {
        if let Some(t) = other.id_type.filter(|&t| t != id_type) {
            let first = &other.objects[0];
            return Err(Error::column(
                &first.name,
                &other.wanted[0].name,
                format!(
                    "ids are {t} here but {id_type} in the follows dataset ({}); every id column of a run must have one integer type",
                    follows.objects[0].name
                ),
            ));
        }
    }
    Ok(Scans { follows, interactions, accounts, previous_follows, missing_previous, id_type })
}

/// Decoded inputs, ready for cleaning.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub follows: RawEdges,
    pub interactions: Option<RawEdges>,
    pub accounts: Option<RawAccounts>,
}

pub(crate) fn into_ids(column: ColumnData) -> (Vec<u64>, Option<Vec<bool>>) {
    match column {
        ColumnData::Ids { keys, valid } => (keys, valid),
        _ => unreachable!("asked for ids"),
    }
}

pub(crate) fn into_edges(mut columns: Vec<ColumnData>) -> RawEdges {
    let ts = (columns.len() > 2).then(|| match columns.pop() {
        Some(ColumnData::Timestamps(t)) => t,
        _ => unreachable!("asked for timestamps"),
    });
    let mut ids = columns.into_iter().map(into_ids);
    let (src, valid_src) = ids.next().expect("source ids");
    let (dst, valid_dst) = ids.next().expect("target ids");
    RawEdges { src, dst, valid_src, valid_dst, ts }
}

/// Decodes the accounts dataset.
pub async fn read_accounts(
    scan: &ScannedDataset,
    concurrency: usize,
    on_rows: Arc<dyn Fn(u64) + Send + Sync>,
) -> Result<RawAccounts> {
    let mut columns = read_columns(scan, concurrency, on_rows).await?.into_iter();
    let (keys, valid) = into_ids(columns.next().expect("account ids"));
    let types = match columns.next() {
        Some(ColumnData::Text(t)) => t,
        _ => unreachable!("asked for account types"),
    };
    Ok(RawAccounts { keys, valid, types })
}

/// Decodes the wanted columns of every scanned dataset but the previous night's (which is
/// streamed once tonight's ids are known).
pub async fn read_inputs(scans: &Scans, concurrency: usize, on_rows: Arc<dyn Fn(u64) + Send + Sync>) -> Result<Inputs> {
    let follows = into_edges(read_columns(&scans.follows, concurrency, Arc::clone(&on_rows)).await?);
    let interactions = match &scans.interactions {
        Some(s) => Some(into_edges(read_columns(s, concurrency, Arc::clone(&on_rows)).await?)),
        None => None,
    };
    let accounts = match &scans.accounts {
        Some(s) => Some(read_accounts(s, concurrency, Arc::clone(&on_rows)).await?),
        None => None,
    };
    Ok(Inputs { follows, interactions, accounts })
}
