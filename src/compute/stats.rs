//! The contract's two summary statistics: the median and the Gini coefficient.
//!
//! Both are computed from exact integer sums where the inputs are integers, so that two
//! independent implementations agree to the last few ulps.

/// The middle value, or the mean of the two middle values for an even count; `None` if empty.
/// Reorders `values`.
pub fn median_i64(values: &mut [i64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (_, &mut upper, _) = values.select_nth_unstable(n / 2);
    if n % 2 == 1 {
        return Some(upper as f64);
    }
    let lower = *values[..n / 2].iter().max().expect("n is even and positive");
    Some((i128::from(lower) + i128::from(upper)) as f64 / 2.0)
}

/// Median of floats (no NaNs); `None` if empty. Reorders `values`.
pub fn median_f64(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (_, &mut upper, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return Some(upper);
    }
    let lower = values[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((lower + upper) / 2.0)
}

/// Mean of floats; `None` if empty.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Gini of non-negative counts, zeros included: with x ascending and i = 1..n,
/// G = 2·Σ i·x_i / (n·Σx) − (n+1)/n (R `ineq` / KONECT). `None` if n < 2 or Σx = 0.
/// Reorders `values`.
pub fn gini(values: &mut [u64]) -> Option<f64> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    values.sort_unstable();
    gini_sorted(values)
}

/// [`gini`] of `zeros` zeros and the counts in `nonzero`: the zeros come first in ascending
/// order, so only the non-zero counts need sorting (an account's sends to its followees are
/// mostly zeros). The same integer sums as [`gini`], so the same value to the bit.
/// Reorders `nonzero`.
pub fn gini_with_zeros(zeros: usize, nonzero: &mut [u64]) -> Option<f64> {
    let n = (zeros + nonzero.len()) as i128;
    if n < 2 {
        return None;
    }
    nonzero.sort_unstable();
    let total: i128 = nonzero.iter().map(|&x| i128::from(x)).sum();
    if total == 0 {
        return None;
    }
    let weighted: i128 = nonzero.iter().zip(zeros as i128 + 1..).map(|(&x, i)| i * i128::from(x)).sum();
    Some((2 * weighted - (n + 1) * total) as f64 / (n * total) as f64)
}

/// [`gini`] of values already sorted ascending.
pub fn gini_sorted(sorted: &[u64]) -> Option<f64> {
    let n = sorted.len() as i128;
    if n < 2 {
        return None;
    }
    let total: i128 = sorted.iter().map(|&x| i128::from(x)).sum();
    if total == 0 {
        return None;
    }
    let weighted: i128 = sorted.iter().zip(1i128..).map(|(&x, i)| i * i128::from(x)).sum();
    // (2·Σ i·x_i − (n+1)·Σx) / (n·Σx): one rounding, in the final division.
    Some((2 * weighted - (n + 1) * total) as f64 / (n * total) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median_i64(&mut []), None);
        assert_eq!(median_i64(&mut [5]), Some(5.0));
        assert_eq!(median_i64(&mut [9, 1, 5]), Some(5.0));
        assert_eq!(median_i64(&mut [9, 1, 4, 6]), Some(5.0));
        assert_eq!(median_i64(&mut [1, 2]), Some(1.5));
        assert_eq!(median_i64(&mut [i64::MAX, i64::MAX]), Some(i64::MAX as f64));
        assert_eq!(median_f64(&mut [0.5, 0.1, 0.2, 1.0]), Some(0.35));
    }

    #[test]
    fn gini_matches_hand_computed_values() {
        // x = [0, 0, 0, 4]: 2·(4·4)/(4·4) − 5/4 = 0.75
        assert_eq!(gini(&mut [4, 0, 0, 0]), Some(0.75));
        // equal values: 0
        assert_eq!(gini(&mut [3, 3, 3]), Some(0.0));
        // x = [1, 2]: 2·(1 + 4)/(2·3) − 3/2 = 1/6
        assert!((gini(&mut [2, 1]).unwrap() - 1.0 / 6.0).abs() < 1e-15);
        assert_eq!(gini(&mut [0, 0]), None);
        assert_eq!(gini(&mut [7]), None);
    }

    proptest::proptest! {
        #[test]
        fn zeros_apart_give_the_same_gini(values in proptest::collection::vec(0u64..5, 0..40)) {
            let mut nonzero: Vec<u64> = values.iter().copied().filter(|&v| v > 0).collect();
            let zeros = values.len() - nonzero.len();
            let want = gini(&mut values.clone());
            let got = gini_with_zeros(zeros, &mut nonzero);
            proptest::prop_assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits));
        }
    }
}
