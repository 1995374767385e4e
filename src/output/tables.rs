//! The result tables as Arrow record batches: column names, types and order of the contract.
//!
//! Counts are int64, ratios float64 (null where the contract says), ids keep the input's
//! integer type. Rows arrive already sorted by key from the kernels.

use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};

use crate::compute::account_metrics::{AccountRow, Camp};
use crate::compute::accounts::AccountTypes;
use crate::compute::brands::BrandRow;
use crate::compute::by_followers::FollowerDecade;
use crate::compute::follow_changes::{ChangeRow, PopulationChanges};
use crate::compute::population::Population;
use crate::error::{Error, Result};
use crate::id_type::IdType;

/// Names of the tables, in the order they are written.
pub const ACCOUNT_METRICS: &str = "account_metrics";
pub const POPULATION_SUMMARY: &str = "population_summary";
pub const RECIPROCITY_BY_FOLLOWERS: &str = "reciprocity_by_followers";
pub const BRAND_AUDIENCE: &str = "brand_audience";
pub const FOLLOW_CHANGES: &str = "follow_changes";

/// Columns added one at a time, with the contract's types.
#[derive(Default)]
pub(crate) struct TableBuilder {
    fields: Vec<Field>,
    columns: Vec<ArrayRef>,
}

fn as_i64(v: u64) -> i64 {
    i64::try_from(v).expect("counts stay below 2^63")
}

impl TableBuilder {
    pub(crate) fn column(mut self, name: &str, array: ArrayRef, nullable: bool) -> Self {
        self.fields.push(Field::new(name, array.data_type().clone(), nullable));
        self.columns.push(array);
        self
    }

    pub(crate) fn ids(self, name: &str, id_type: IdType, keys: &[u64]) -> Self {
        self.column(name, id_type.array_of(keys), false)
    }

    pub(crate) fn counts(self, name: &str, values: impl Iterator<Item = u64>) -> Self {
        self.column(name, Arc::new(Int64Array::from_iter_values(values.map(as_i64))), false)
    }

    pub(crate) fn optional_counts(self, name: &str, values: impl Iterator<Item = Option<u64>>) -> Self {
        self.column(name, Arc::new(values.map(|v| v.map(as_i64)).collect::<Int64Array>()), true)
    }

    pub(crate) fn ratios(self, name: &str, values: impl Iterator<Item = Option<f64>>) -> Self {
        self.column(name, Arc::new(values.collect::<Float64Array>()), true)
    }

    pub(crate) fn strings<'a>(self, name: &str, values: impl Iterator<Item = Option<&'a str>>, nullable: bool) -> Self {
        self.column(name, Arc::new(values.collect::<StringArray>()), nullable)
    }

    pub(crate) fn build(self, table: &str) -> Result<RecordBatch> {
        RecordBatch::try_new(Arc::new(Schema::new(self.fields)), self.columns)
            .map_err(|e| Error::internal(format!("building table {table}"), e))
    }
}

/// `account_metrics`: one row per account, by account_id; `rows` are those of the accounts
/// `first..`, whose keys are `keys`.
pub fn account_metrics(
    id_type: IdType,
    keys: &[u64],
    types: &AccountTypes,
    first: usize,
    rows: &[AccountRow],
) -> Result<RecordBatch> {
    let r = || rows.iter();
    TableBuilder::default()
        .ids("account_id", id_type, keys)
        .strings("account_type", (first..first + rows.len()).map(|a| types.name(a)), true)
        .counts("followers", r().map(|x| u64::from(x.followers)))
        .counts("following", r().map(|x| u64::from(x.following)))
        .counts("mutuals", r().map(|x| u64::from(x.mutuals)))
        .ratios("follow_back_rate", r().map(|x| x.follow_back_rate.get()))
        .ratios("reciprocated_rate", r().map(|x| x.reciprocated_rate.get()))
        .ratios("reciprocity", r().map(|x| x.reciprocity.get()))
        .counts("followbacks_given", r().map(|x| u64::from(x.followbacks_given)))
        .ratios("followback_latency_median_s", r().map(|x| x.followback_latency_median_s.get()))
        .strings("camp", r().map(|x| Some(x.camp.as_str())), false)
        .counts("interactions_out", r().map(|x| x.interactions_out))
        .counts("interactions_in", r().map(|x| x.interactions_in))
        .counts("partners_out", r().map(|x| u64::from(x.partners_out)))
        .counts("engaged_following", r().map(|x| u64::from(x.engaged_following)))
        .ratios("engaged_following_share", r().map(|x| x.engaged_following_share.get()))
        .counts("mutuals_engaged", r().map(|x| u64::from(x.mutuals_engaged)))
        .counts("mutuals_hollow", r().map(|x| u64::from(x.mutuals_hollow)))
        .ratios("top1_share", r().map(|x| x.concentration.top1_share.get()))
        .ratios("top5_share", r().map(|x| x.concentration.top5_share.get()))
        .ratios("hhi_out", r().map(|x| x.concentration.hhi_out.get()))
        .ratios("effective_partners", r().map(|x| x.concentration.effective_partners.get()))
        .optional_counts("handful_80", r().map(|x| x.concentration.handful_80))
        .ratios("gini_following", r().map(|x| x.gini_following.get()))
        .build(ACCOUNT_METRICS)
}

/// `population_summary`: one row; the diff columns are null without a previous snapshot.
pub fn population_summary(p: &Population, changes: Option<&PopulationChanges>) -> Result<RecordBatch> {
    let one = |v: u64| std::iter::once(v);
    let opt = |v: Option<f64>| std::iter::once(v);
    let mut t = TableBuilder::default()
        .counts("accounts", one(p.accounts))
        .counts("follow_edges", one(p.follow_edges))
        .counts("mutual_dyads", one(p.mutual_dyads))
        .counts("asymmetric_dyads", one(p.asymmetric_dyads))
        .column("null_dyads", Arc::new(Int64Array::from(vec![p.null_dyads])), false)
        .ratios("edge_reciprocity", opt(p.edge_reciprocity))
        .ratios("dyad_reciprocity", opt(p.dyad_reciprocity))
        .ratios("density", opt(p.density))
        .ratios("rho", opt(p.rho))
        .counts("interaction_events", one(p.interaction_events))
        .ratios("interaction_pair_reciprocity", opt(p.interaction_pair_reciprocity))
        .ratios("interaction_reciprocity", opt(p.interaction_reciprocity))
        .ratios("followback_latency_median_s", opt(p.followback_latency_median_s))
        .counts("mutual_dyads_engaged", one(p.mutual_dyads_engaged))
        .counts("mutual_dyads_hollow", one(p.mutual_dyads_hollow))
        .ratios("gini_followers", opt(p.gini_followers))
        .ratios("gini_degree", opt(p.gini_degree));
    for (camp, count) in Camp::ALL.iter().zip(p.camps) {
        t = t.counts(&format!("camp_{}", camp.as_str()), one(count));
    }
    let c = changes;
    let count = |f: fn(&PopulationChanges) -> u64| std::iter::once(c.map(f));
    let rate = |f: fn(&PopulationChanges) -> Option<f64>| std::iter::once(c.and_then(f));
    t.optional_counts("edges_added", count(|c| c.edges_added))
        .optional_counts("edges_removed", count(|c| c.edges_removed))
        .optional_counts("mutual_dyads_gained", count(|c| c.mutual_dyads_gained))
        .optional_counts("mutual_dyads_lost", count(|c| c.mutual_dyads_lost))
        .ratios("mutual_tie_break_rate", rate(|c| c.mutual_tie_break_rate))
        .ratios("one_way_tie_break_rate", rate(|c| c.one_way_tie_break_rate))
        .optional_counts("mass_unfollowers", count(|c| c.mass_unfollowers))
        .build(POPULATION_SUMMARY)
}

/// `reciprocity_by_followers`: one row per decade of followers (the contract calls it `bucket`).
pub fn reciprocity_by_followers(decades: &[FollowerDecade]) -> Result<RecordBatch> {
    let b = || decades.iter();
    TableBuilder::default()
        .counts("bucket", b().map(|x| u64::from(x.decade)))
        .counts("followers_min", b().map(|x| x.followers_min))
        .counts("followers_max", b().map(|x| x.followers_max))
        .counts("accounts", b().map(|x| x.accounts))
        .ratios("mean_follow_back_rate", b().map(|x| x.mean_follow_back_rate))
        .ratios("median_follow_back_rate", b().map(|x| x.median_follow_back_rate))
        .ratios("mean_reciprocated_rate", b().map(|x| x.mean_reciprocated_rate))
        .ratios("mean_engaged_following_share", b().map(|x| x.mean_engaged_following_share))
        .ratios("median_effective_partners", b().map(|x| x.median_effective_partners))
        .ratios("mean_gini_following", b().map(|x| x.mean_gini_following))
        .build(RECIPROCITY_BY_FOLLOWERS)
}

/// `brand_audience`: one row per brand, by account_id. An estimated reach is named
/// `reach_2hop_est`, as the contract requires.
pub fn brand_audience(
    id_type: IdType,
    keys: &[u64],
    brands: &[BrandRow],
    reach_estimated: bool,
) -> Result<RecordBatch> {
    let b = || brands.iter();
    let brand_keys: Vec<u64> = b().map(|x| keys[x.account as usize]).collect();
    TableBuilder::default()
        .ids("account_id", id_type, &brand_keys)
        .counts("followers", b().map(|x| x.followers))
        .counts("following", b().map(|x| x.following))
        .counts("mutuals", b().map(|x| x.mutuals))
        .ratios("follow_back_rate", b().map(|x| x.follow_back_rate))
        .ratios("followback_latency_median_s", b().map(|x| x.followback_latency_median_s))
        .counts("engagers", b().map(|x| x.engagers))
        .counts("followers_engaged", b().map(|x| x.followers_engaged))
        .ratios("followers_engaged_share", b().map(|x| x.followers_engaged_share))
        .counts("engagement_in", b().map(|x| x.engagement_in))
        .ratios("engagement_from_followers_share", b().map(|x| x.engagement_from_followers_share))
        .ratios("top1pct_engager_share", b().map(|x| x.top1pct_engager_share))
        .counts(if reach_estimated { "reach_2hop_est" } else { "reach_2hop" }, b().map(|x| x.reach_2hop))
        .build(BRAND_AUDIENCE)
}

/// `follow_changes`: accounts with a change since the previous snapshot, by account_id.
pub fn follow_changes(id_type: IdType, union_keys: &[u64], rows: &[ChangeRow]) -> Result<RecordBatch> {
    let r = || rows.iter();
    let keys: Vec<u64> = r().map(|x| union_keys[x.account as usize]).collect();
    TableBuilder::default()
        .ids("account_id", id_type, &keys)
        .counts("follows_added", r().map(|x| x.follows_added))
        .counts("follows_removed", r().map(|x| x.follows_removed))
        .counts("followers_gained", r().map(|x| x.followers_gained))
        .counts("followers_lost", r().map(|x| x.followers_lost))
        .counts("mutuals_gained", r().map(|x| x.mutuals_gained))
        .counts("mutuals_lost", r().map(|x| x.mutuals_lost))
        .counts("dropped_after_followback", r().map(|x| x.dropped_after_followback))
        .counts("following_prev", r().map(|x| x.following_prev))
        .column("mass_unfollow", Arc::new(r().map(|x| Some(x.mass_unfollow)).collect::<BooleanArray>()), false)
        .build(FOLLOW_CHANGES)
}
