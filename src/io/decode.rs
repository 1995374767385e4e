//! The columns the job reads and their conversion from Arrow; opening one row group of a
//! dataset with only the wanted columns (`landing.rs` decodes them into place, `stream.rs`
//! streams a dataset through them).
//!
//! Ids become order-preserving `u64` keys ([`IdType`]), timestamps become nanoseconds since
//! the Unix epoch (UTC) with [`NULL_TS`] for null, strings stay strings. Only the wanted
//! columns are fetched and decoded. Rows keep dataset order (objects by path, row groups in
//! file order), so anything that depends on order is deterministic.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::Array;
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::async_reader::ParquetRecordBatchStream;
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};

use crate::compute::NULL_TS;
use crate::error::Result;
use crate::id_type::IdType;
use crate::io::dataset::{ColumnKind, ScannedDataset};
use crate::io::object_reader::{read_error, ObjectReader};

/// One decoded column of a whole dataset.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// Id keys; `valid` is present only if some id is null (its key is then 0).
    Ids {
        keys: Vec<u64>,
        valid: Option<Vec<bool>>,
    },
    /// Ids looked up as they landed (`landing::read_dense_columns`).
    Dense(DenseColumn),
    /// Nanoseconds since the epoch, [`NULL_TS`] where null or where the column is absent.
    Timestamps(Vec<i64>),
    Text(Vec<Option<String>>),
}

impl ColumnData {
    pub(crate) fn with_capacity(kind: ColumnKind, rows: usize) -> Self {
        match kind {
            ColumnKind::Id => ColumnData::Ids { keys: Vec::with_capacity(rows), valid: None },
            ColumnKind::Timestamp => ColumnData::Timestamps(Vec::with_capacity(rows)),
            ColumnKind::Text => ColumnData::Text(Vec::with_capacity(rows)),
        }
    }

    pub(crate) fn append(&mut self, other: ColumnData) {
        match (self, other) {
            (ColumnData::Ids { keys, valid }, ColumnData::Ids { keys: k2, valid: v2 }) => {
                if valid.is_some() || v2.is_some() {
                    let mine = valid.get_or_insert_with(|| vec![true; keys.len()]);
                    match v2 {
                        Some(v2) => mine.extend(v2),
                        None => mine.extend(std::iter::repeat_n(true, k2.len())),
                    }
                }
                keys.extend_from_slice(&k2);
            }
            (ColumnData::Timestamps(a), ColumnData::Timestamps(b)) => a.extend_from_slice(&b),
            (ColumnData::Text(a), ColumnData::Text(b)) => a.extend(b),
            _ => unreachable!("columns of one dataset keep their kind"),
        }
    }
}

/// An id column looked up as it landed: numbers, or `landing::MISSING` at the rows listed
/// in `misses` with their keys (ascending by row).
#[derive(Debug, Clone, PartialEq)]
pub struct DenseColumn {
    pub ids: Vec<u32>,
    /// Present only if some id is null.
    pub valid: Option<Vec<bool>>,
    pub misses: Vec<(usize, u64)>,
}

/// The decoded batches of one row group, wanted columns only.
pub(crate) async fn open_row_group(
    scan: &ScannedDataset,
    object_index: usize,
    row_group: usize,
) -> Result<ParquetRecordBatchStream<ObjectReader>> {
    let object = &scan.objects[object_index];
    let present: Vec<usize> = object.fields.iter().flatten().copied().collect();
    let mask = ProjectionMask::roots(object.metadata.parquet_schema(), present);
    let reader = ObjectReader::new(Arc::clone(&scan.location.store), object.path.clone(), object.size)
        .expecting(object.version.clone())
        .with_local_file(scan.location.local_file(&object.path));
    ParquetRecordBatchStreamBuilder::new_with_metadata(reader, object.metadata.clone())
        .with_projection(mask)
        .with_row_groups(vec![row_group])
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|source| read_error(&object.name, "read", source))
}

fn id_keys(array: &dyn Array) -> Result<(Vec<u64>, Option<Vec<bool>>), String> {
    let mut keys = vec![0u64; array.len()];
    let valid = id_keys_into(array, &mut keys)?;
    Ok((keys, valid))
}

/// Writes the keys of `array` into `out` (of the same length); returns the validity if some
/// id is null (its key is then 0 or whatever the values buffer held).
pub(crate) fn id_keys_into(array: &dyn Array, out: &mut [u64]) -> Result<Option<Vec<bool>>, String> {
    debug_assert_eq!(array.len(), out.len());
    // Keys straight from the values buffer (null slots hold some value; the validity says
    // which): one pass, no per-row Option.
    macro_rules! keys {
        ($t:ty, $key:expr) => {
            for (o, &v) in out.iter_mut().zip(array.as_primitive::<$t>().values().iter()) {
                *o = $key(v);
            }
        };
    }
    match array.data_type() {
        DataType::Int8 => keys!(Int8Type, |v: i8| IdType::key_of_signed(v.into())),
        DataType::Int16 => keys!(Int16Type, |v: i16| IdType::key_of_signed(v.into())),
        DataType::Int32 => keys!(Int32Type, |v: i32| IdType::key_of_signed(v.into())),
        DataType::Int64 => keys!(Int64Type, IdType::key_of_signed),
        DataType::UInt8 => keys!(UInt8Type, |v: u8| IdType::key_of_unsigned(v.into())),
        DataType::UInt16 => keys!(UInt16Type, |v: u16| IdType::key_of_unsigned(v.into())),
        DataType::UInt32 => keys!(UInt32Type, |v: u32| IdType::key_of_unsigned(v.into())),
        DataType::UInt64 => keys!(UInt64Type, IdType::key_of_unsigned),
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            let (values, values_valid) = id_keys(dict.values().as_ref())?;
            let mut valid = Vec::with_capacity(array.len());
            for ((i, &k), o) in dict.normalized_keys().iter().enumerate().zip(out.iter_mut()) {
                let ok = dict.keys().is_valid(i) && values_valid.as_ref().is_none_or(|v| v[k]);
                valid.push(ok);
                *o = if ok { values[k] } else { 0 };
            }
            let any_null = valid.iter().any(|v| !v);
            return Ok(any_null.then_some(valid));
        }
        other => return Err(format!("expected an integer id, found {other}")),
    };
    Ok(array.logical_nulls().filter(|n| n.null_count() > 0).map(|n| n.iter().collect()))
}

/// Writes the timestamps of `array` into `out` (of the same length) as nanoseconds.
pub(crate) fn timestamps_ns_into(array: &dyn Array, out: &mut [i64]) -> Result<(), String> {
    debug_assert_eq!(array.len(), out.len());
    let (values, factor): (&[i64], i64) = match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            (array.as_primitive::<TimestampSecondType>().values(), 1_000_000_000)
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            (array.as_primitive::<TimestampMillisecondType>().values(), 1_000_000)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            (array.as_primitive::<TimestampMicrosecondType>().values(), 1_000)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => (array.as_primitive::<TimestampNanosecondType>().values(), 1),
        DataType::Null => {
            out.fill(NULL_TS);
            return Ok(());
        }
        other => return Err(format!("expected a timestamp, found {other}")),
    };
    let nulls = array.logical_nulls().filter(|n| n.null_count() > 0);
    for (i, (o, &v)) in out.iter_mut().zip(values).enumerate() {
        *o = if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
            NULL_TS
        } else {
            v.checked_mul(factor)
                .filter(|&ns| ns != NULL_TS)
                .ok_or_else(|| format!("timestamp {v} is outside the range representable in nanoseconds (1677-2262)"))?
        };
    }
    Ok(())
}

pub(crate) fn texts(array: &dyn Array) -> Result<Vec<Option<String>>, String> {
    Ok(match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().map(|v| v.map(str::to_string)).collect(),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().map(|v| v.map(str::to_string)).collect(),
        DataType::Utf8View => array.as_string_view().iter().map(|v| v.map(str::to_string)).collect(),
        DataType::Null => vec![None; array.len()],
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            let values = texts(dict.values().as_ref())?;
            dict.normalized_keys()
                .iter()
                .enumerate()
                .map(|(i, &k)| if dict.keys().is_valid(i) { values[k].clone() } else { None })
                .collect()
        }
        other => return Err(format!("expected a string, found {other}")),
    })
}
