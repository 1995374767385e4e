//! What the report shows, extracted from the result tables (Arrow record batches).
//!
//! The report is rendered from the tables only, so that it works on any finished OUT; this
//! file turns the tables' columns into the few numbers and distributions the pages draw.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

use crate::error::{Error, Result};

/// The tables of one finished run, as read back.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    pub account_metrics: Vec<RecordBatch>,
    pub population_summary: Vec<RecordBatch>,
    pub reciprocity_by_followers: Vec<RecordBatch>,
    pub brand_audience: Vec<RecordBatch>,
    pub follow_changes: Vec<RecordBatch>,
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a dyn Array> {
    batch
        .column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| Error::Input { object: "result tables".into(), problem: format!("no column '{name}'") })
}

/// A numeric column of every batch, as optional floats.
pub fn floats(batches: &[RecordBatch], name: &str) -> Result<Vec<Option<f64>>> {
    let mut out = Vec::new();
    for batch in batches {
        let c = column(batch, name)?;
        match c.data_type() {
            DataType::Float64 => out.extend(c.as_primitive::<Float64Type>().iter()),
            DataType::Int64 => out.extend(c.as_primitive::<Int64Type>().iter().map(|v| v.map(|v| v as f64))),
            other => {
                return Err(Error::Input { object: "result tables".into(), problem: format!("{name} is {other}") });
            }
        }
    }
    Ok(out)
}

/// Ids of an id column of any integer type, as text (for labels and lookups).
pub fn ids(batches: &[RecordBatch], name: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for batch in batches {
        let c = column(batch, name)?;
        for i in 0..c.len() {
            out.push(id_text(c, i));
        }
    }
    Ok(out)
}

fn id_text(c: &dyn Array, i: usize) -> String {
    use arrow_array::types::*;
    macro_rules! text {
        ($t:ty) => {
            c.as_primitive::<$t>().value(i).to_string()
        };
    }
    match c.data_type() {
        DataType::Int8 => text!(Int8Type),
        DataType::Int16 => text!(Int16Type),
        DataType::Int32 => text!(Int32Type),
        DataType::Int64 => text!(Int64Type),
        DataType::UInt8 => text!(UInt8Type),
        DataType::UInt16 => text!(UInt16Type),
        DataType::UInt32 => text!(UInt32Type),
        _ => text!(UInt64Type),
    }
}

/// A value of the one-row population table (None if absent or null).
pub fn population_value(tables: &Tables, name: &str) -> Option<f64> {
    floats(&tables.population_summary, name).ok()?.first().copied().flatten()
}

/// Counts of values falling in each bin `[edges[i], edges[i+1])`; the last bin is open-ended.
pub fn histogram(values: impl Iterator<Item = f64>, edges: &[f64]) -> Vec<u64> {
    let mut counts = vec![0u64; edges.len()];
    for v in values {
        let bin = edges.partition_point(|&e| e <= v).saturating_sub(1);
        counts[bin] += 1;
    }
    counts
}

/// Points of the Lorenz curve of non-negative values (share of accounts, share of the total),
/// at most `points` + 1 of them.
pub fn lorenz(mut values: Vec<f64>, points: usize) -> Vec<(f64, f64)> {
    values.sort_by(f64::total_cmp);
    let total: f64 = values.iter().sum();
    let n = values.len();
    let mut curve = vec![(0.0, 0.0)];
    if n == 0 || total == 0.0 {
        curve.push((1.0, 1.0));
        return curve;
    }
    let mut cumulative = 0.0;
    let step = n.div_ceil(points.max(1));
    for (i, v) in values.iter().enumerate() {
        cumulative += v;
        if (i + 1) % step == 0 || i + 1 == n {
            curve.push(((i + 1) as f64 / n as f64, cumulative / total));
        }
    }
    curve
}

/// Rank (1 = highest) and percentile (share of values at or below) of `value` among `all`.
pub fn standing(value: f64, all: &[f64]) -> (usize, f64) {
    let above = all.iter().filter(|&&v| v > value).count();
    let at_or_below = all.len() - above;
    (above + 1, 100.0 * at_or_below as f64 / all.len().max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_lorenz_and_standing() {
        assert_eq!(histogram([0.5, 1.0, 2.5, 99.0].into_iter(), &[0.0, 1.0, 2.0]), vec![1, 1, 2]);
        let curve = lorenz(vec![0.0, 0.0, 0.0, 4.0], 4);
        assert_eq!(curve, vec![(0.0, 0.0), (0.25, 0.0), (0.5, 0.0), (0.75, 0.0), (1.0, 1.0)]);
        assert_eq!(standing(5.0, &[1.0, 5.0, 9.0, 3.0]), (2, 75.0));
    }
}
