//! Account ids of any integer type, carried as order-preserving `u64` keys.
//!
//! Inputs may use any signed or unsigned integer type for ids (64-bit ids are normal, and
//! unsigned ids above `i64::MAX` occur). Internally every id becomes a `u64` key whose
//! unsigned order equals the id's numeric order, so sorting keys sorts accounts by id; on
//! output the key is turned back into the input's own type.

use std::fmt;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, Int16Array, Int32Array, Int64Array, Int8Array, UInt16Array, UInt32Array, UInt64Array, UInt8Array,
};
use arrow_schema::DataType;

const SIGN_FLIP: u64 = 1 << 63;

/// The integer type that every id column of a run shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdType {
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
}

impl IdType {
    /// The id type of an Arrow column, looking through dictionary encoding; `None` if the
    /// column is not integer-typed.
    pub fn of(data_type: &DataType) -> Option<IdType> {
        Some(match data_type {
            DataType::Int8 => IdType::Int8,
            DataType::Int16 => IdType::Int16,
            DataType::Int32 => IdType::Int32,
            DataType::Int64 => IdType::Int64,
            DataType::UInt8 => IdType::UInt8,
            DataType::UInt16 => IdType::UInt16,
            DataType::UInt32 => IdType::UInt32,
            DataType::UInt64 => IdType::UInt64,
            DataType::Dictionary(_, values) => return IdType::of(values),
            _ => return None,
        })
    }

    pub fn data_type(self) -> DataType {
        match self {
            IdType::Int8 => DataType::Int8,
            IdType::Int16 => DataType::Int16,
            IdType::Int32 => DataType::Int32,
            IdType::Int64 => DataType::Int64,
            IdType::UInt8 => DataType::UInt8,
            IdType::UInt16 => DataType::UInt16,
            IdType::UInt32 => DataType::UInt32,
            IdType::UInt64 => DataType::UInt64,
        }
    }

    pub fn is_signed(self) -> bool {
        matches!(self, IdType::Int8 | IdType::Int16 | IdType::Int32 | IdType::Int64)
    }

    /// Key of a signed id (any signed width widens to i64 first).
    #[inline]
    pub fn key_of_signed(v: i64) -> u64 {
        (v as u64) ^ SIGN_FLIP
    }

    /// Key of an unsigned id.
    #[inline]
    pub fn key_of_unsigned(v: u64) -> u64 {
        v
    }

    /// The key of an id given as a wide integer (job files, `--brands`), if it fits the type.
    pub fn key_of(self, id: i128) -> Option<u64> {
        let (lo, hi): (i128, i128) = match self {
            IdType::Int8 => (i8::MIN.into(), i8::MAX.into()),
            IdType::Int16 => (i16::MIN.into(), i16::MAX.into()),
            IdType::Int32 => (i32::MIN.into(), i32::MAX.into()),
            IdType::Int64 => (i64::MIN.into(), i64::MAX.into()),
            IdType::UInt8 => (0, u8::MAX.into()),
            IdType::UInt16 => (0, u16::MAX.into()),
            IdType::UInt32 => (0, u32::MAX.into()),
            IdType::UInt64 => (0, u64::MAX.into()),
        };
        if id < lo || id > hi {
            return None;
        }
        Some(if self.is_signed() { Self::key_of_signed(id as i64) } else { Self::key_of_unsigned(id as u64) })
    }

    /// The id a key stands for, as a wide integer (for messages and summaries).
    pub fn id_of(self, key: u64) -> i128 {
        if self.is_signed() {
            ((key ^ SIGN_FLIP) as i64).into()
        } else {
            key.into()
        }
    }

    /// An Arrow column of this type holding the ids of `keys`.
    pub fn array_of(self, keys: &[u64]) -> ArrayRef {
        fn signed(k: u64) -> i64 {
            (k ^ SIGN_FLIP) as i64
        }
        // The keys came from ids of this very type, so the narrowing casts are exact.
        match self {
            IdType::Int8 => Arc::new(Int8Array::from_iter_values(keys.iter().map(|&k| signed(k) as i8))),
            IdType::Int16 => Arc::new(Int16Array::from_iter_values(keys.iter().map(|&k| signed(k) as i16))),
            IdType::Int32 => Arc::new(Int32Array::from_iter_values(keys.iter().map(|&k| signed(k) as i32))),
            IdType::Int64 => Arc::new(Int64Array::from_iter_values(keys.iter().map(|&k| signed(k)))),
            IdType::UInt8 => Arc::new(UInt8Array::from_iter_values(keys.iter().map(|&k| k as u8))),
            IdType::UInt16 => Arc::new(UInt16Array::from_iter_values(keys.iter().map(|&k| k as u16))),
            IdType::UInt32 => Arc::new(UInt32Array::from_iter_values(keys.iter().map(|&k| k as u32))),
            IdType::UInt64 => Arc::new(UInt64Array::from_iter_values(keys.iter().copied())),
        }
    }
}

impl fmt::Display for IdType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.data_type())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_keys_sort_like_ids() {
        let ids = [i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        let keys: Vec<u64> = ids.iter().map(|&v| IdType::key_of_signed(v)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        for (&id, &k) in ids.iter().zip(&keys) {
            assert_eq!(IdType::Int64.id_of(k), id as i128);
        }
    }

    #[test]
    fn key_of_rejects_ids_outside_the_type() {
        assert_eq!(IdType::UInt8.key_of(256), None);
        assert_eq!(IdType::UInt64.key_of(-1), None);
        assert_eq!(IdType::Int32.key_of(1 << 40), None);
        assert_eq!(IdType::UInt64.key_of(u64::MAX as i128), Some(u64::MAX));
    }

    #[test]
    fn arrays_round_trip_the_input_type() {
        let keys = [IdType::key_of_signed(-3), IdType::key_of_signed(9)];
        let arr = IdType::Int16.array_of(&keys);
        let arr = arr.as_any().downcast_ref::<Int16Array>().unwrap();
        assert_eq!(arr.values().as_ref(), &[-3i16, 9]);
    }
}
