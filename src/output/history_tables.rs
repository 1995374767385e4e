//! The tables of `reciprocity history` as Arrow batches: population_history, brand_history,
//! brand_growth and tie_survival (docs/metrics.md, "Several nights").

use std::sync::Arc;

use arrow_array::{Date32Array, RecordBatch};
use arrow_schema::{Field, Schema};

use crate::compute::brand_growth::{BrandNight, GrowthRow};
use crate::compute::survival::{survival, BinCounts};
use crate::error::{Error, Result};
use crate::id_type::IdType;
use crate::output::tables::TableBuilder;

pub const POPULATION_HISTORY: &str = "population_history";
pub const BRAND_HISTORY: &str = "brand_history";
pub const BRAND_GROWTH: &str = "brand_growth";
pub const TIE_SURVIVAL: &str = "tie_survival";

/// Every table `history` writes, in order.
pub const HISTORY_TABLES: [&str; 4] = [POPULATION_HISTORY, BRAND_HISTORY, BRAND_GROWTH, TIE_SURVIVAL];

/// One row per night: its date (days since the epoch) and its population_summary row, whose
/// columns every night must share.
pub fn population_history(nights: &[(i32, RecordBatch)]) -> Result<RecordBatch> {
    let dated = |day: i32, batch: &RecordBatch| -> Result<RecordBatch> {
        let mut fields = vec![Arc::new(Field::new("date", arrow_schema::DataType::Date32, false))];
        fields.extend(batch.schema().fields().iter().cloned());
        let mut columns = vec![Arc::new(Date32Array::from(vec![day; batch.num_rows()])) as _];
        columns.extend(batch.columns().iter().cloned());
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| Error::internal("building population_history", e))
    };
    let rows = nights.iter().map(|(day, batch)| dated(*day, batch)).collect::<Result<Vec<_>>>()?;
    let Some(schema) = rows.first().map(RecordBatch::schema) else {
        return Err(Error::internal("building population_history", "no nights"));
    };
    arrow_select::concat::concat_batches(&schema, &rows).map_err(|e| Error::internal("building population_history", e))
}

/// A brand's row of one night's brand_audience, as brand_history keeps it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BrandHistoryRow {
    pub day: i32,
    pub night: BrandNight,
    pub followers_engaged_share: Option<f64>,
    pub engagement_in: u64,
}

/// brand_history: rows sorted by account_id, then date.
pub fn brand_history(id_type: IdType, rows: &[BrandHistoryRow]) -> Result<RecordBatch> {
    let r = || rows.iter();
    TableBuilder::default()
        .column("date", Arc::new(Date32Array::from_iter_values(r().map(|x| x.day))), false)
        .ids("account_id", id_type, &r().map(|x| x.night.key).collect::<Vec<_>>())
        .counts("followers", r().map(|x| x.night.followers))
        .ratios("follow_back_rate", r().map(|x| x.night.follow_back_rate))
        .ratios("followers_engaged_share", r().map(|x| x.followers_engaged_share))
        .counts("engagement_in", r().map(|x| x.engagement_in))
        .build(BRAND_HISTORY)
}

/// brand_growth, sorted by account_id.
pub fn brand_growth(id_type: IdType, rows: &[GrowthRow]) -> Result<RecordBatch> {
    let r = || rows.iter();
    TableBuilder::default()
        .ids("account_id", id_type, &r().map(|x| x.key).collect::<Vec<_>>())
        .counts("nights", r().map(|x| u64::from(x.nights)))
        .counts("followers_first", r().map(|x| x.followers_first))
        .counts("followers_last", r().map(|x| x.followers_last))
        .ratios("growth", r().map(|x| x.growth))
        .ratios("mean_follow_back_rate", r().map(|x| x.mean_follow_back_rate))
        .build(BRAND_GROWTH)
}

/// tie_survival: one row per tie kind seen in some night's tie_decay, with the nights it
/// was seen in and its counts summed over them; sorted by tie_kind.
pub fn tie_survival(kinds: &[(String, u64, BinCounts)]) -> Result<RecordBatch> {
    let k = || kinds.iter();
    let hazards: Vec<[Option<f64>; 5]> = k().map(|(_, _, c)| c.hazards()).collect();
    let survivals: Vec<[Option<f64>; 5]> = hazards.iter().map(|h| survival(*h)).collect();
    let mut table = TableBuilder::default()
        .strings("tie_kind", k().map(|(kind, _, _)| Some(kind.as_str())), false)
        .counts("nights", k().map(|(_, nights, _)| *nights));
    for b in 0..5 {
        table = table.ratios(&format!("hazard_{b}"), hazards.iter().map(|h| h[b]));
    }
    for (b, days) in [1, 7, 30, 90, 365].into_iter().enumerate() {
        table = table.ratios(&format!("survival_{days}d"), survivals.iter().map(|s| s[b]));
    }
    table.build(TIE_SURVIVAL)
}
