//! Numbers for people: 1.2M, 37.7%, 4.5 h.

/// 1234 → "1.2K", 1234567 → "1.2M"; small numbers as they are.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}B", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}K", v / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}K", v / 1e3)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// 0.377 → "37.7%".
pub fn percent(v: f64) -> String {
    format!("{:.1}%", 100.0 * v)
}

/// A ratio with three decimals.
pub fn ratio(v: f64) -> String {
    format!("{v:.3}")
}

/// An optional value, or an en dash.
pub fn or_dash(v: Option<f64>, f: fn(f64) -> String) -> String {
    v.map_or_else(|| "–".to_string(), f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(compact(1_234_567.0), "1.2M");
        assert_eq!(compact(37_700.0), "38K");
        assert_eq!(compact(1_234.0), "1.2K");
        assert_eq!(compact(12.0), "12");
        assert_eq!(percent(0.377), "37.7%");
        assert_eq!(or_dash(None, percent), "–");
    }
}
