//! `MaybeF64`: an optional float in 8 bytes, for the per-account rows held by the million.
//!
//! `Option<f64>` takes 16 bytes. An account row holds ten of them, and a run holds a row per
//! account: 80 bytes an account for the tag bytes alone, and fresh memory is what this
//! job's runs spend most on (docs/benchmarks.md). No metric of the contract is ever NaN, so NaN can stand for "none".

use std::fmt;

/// An `Option<f64>` stored as one `f64`, NaN meaning none.
#[derive(Clone, Copy, serde::Serialize, serde::Deserialize)]
#[serde(from = "Option<f64>", into = "Option<f64>")]
pub struct MaybeF64(f64);

impl MaybeF64 {
    pub const NONE: MaybeF64 = MaybeF64(f64::NAN);

    #[inline]
    pub fn get(self) -> Option<f64> {
        (!self.0.is_nan()).then_some(self.0)
    }
}

impl Default for MaybeF64 {
    fn default() -> Self {
        MaybeF64::NONE
    }
}

impl From<Option<f64>> for MaybeF64 {
    #[inline]
    fn from(value: Option<f64>) -> Self {
        debug_assert!(value.is_none_or(|v| !v.is_nan()), "a metric is never NaN");
        MaybeF64(value.unwrap_or(f64::NAN))
    }
}

impl From<MaybeF64> for Option<f64> {
    fn from(value: MaybeF64) -> Self {
        value.get()
    }
}

/// Equal as the options they stand for (so none equals none, unlike NaN).
impl PartialEq for MaybeF64 {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl fmt::Debug for MaybeF64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stands_for_the_option_it_was_made_from() {
        for value in [None, Some(0.0), Some(-0.0), Some(1.5), Some(f64::INFINITY), Some(f64::MIN_POSITIVE)] {
            let compact = MaybeF64::from(value);
            assert_eq!(compact.get(), value);
            assert_eq!(compact, MaybeF64::from(value));
            assert_eq!(format!("{compact:?}"), format!("{value:?}"));
        }
        assert_eq!(MaybeF64::default(), MaybeF64::NONE);
        assert_ne!(MaybeF64::from(Some(1.0)), MaybeF64::NONE);
        assert_eq!(std::mem::size_of::<MaybeF64>(), 8);
    }

    #[test]
    fn serializes_as_an_option() {
        let json = serde_json::to_string(&[MaybeF64::from(Some(0.25)), MaybeF64::NONE]).unwrap();
        assert_eq!(json, "[0.25,null]");
        let back: Vec<MaybeF64> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, vec![MaybeF64::from(Some(0.25)), MaybeF64::NONE]);
    }
}
