//! Brands over many nights: `brand_growth`, and "does following back pay?" — growth by
//! quartile of follow-back rate, and their Spearman correlation (docs/metrics.md).

use serde::Serialize;

use crate::compute::stats::{mean, median_f64};

/// One brand on one night (a row of that night's `brand_audience`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BrandNight {
    /// The brand's id key (order-preserving, as everywhere).
    pub key: u64,
    /// The night's index among the nights read, 0 = the first.
    pub night: u32,
    pub followers: u64,
    pub follow_back_rate: Option<f64>,
}

/// One row of `brand_growth`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrowthRow {
    pub key: u64,
    pub nights: u32,
    pub followers_first: u64,
    pub followers_last: u64,
    pub growth: Option<f64>,
    pub mean_follow_back_rate: Option<f64>,
}

/// Rows for the brands present on the first night (0) and on `last`, sorted by key. `rows`
/// must be sorted by key, then night.
pub fn brand_growth(rows: &[BrandNight], last: u32) -> Vec<GrowthRow> {
    rows.chunk_by(|a, b| a.key == b.key)
        .filter_map(|brand| {
            let (first, final_night) = (brand.first()?, brand.last()?);
            if first.night != 0 || final_night.night != last {
                return None;
            }
            let rates: Vec<f64> = brand.iter().filter_map(|r| r.follow_back_rate).collect();
            Some(GrowthRow {
                key: first.key,
                nights: brand.len() as u32,
                followers_first: first.followers,
                followers_last: final_night.followers,
                growth: (first.followers > 0)
                    .then(|| (final_night.followers as f64 - first.followers as f64) / first.followers as f64),
                mean_follow_back_rate: mean(&rates),
            })
        })
        .collect()
}

/// "Does following back pay?", as the manifest's `findings` says it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Findings {
    /// Brands with both a growth and a mean follow-back rate.
    pub brands: usize,
    /// Median growth of each quartile of mean follow-back rate, lowest rate first.
    pub median_growth_by_follow_back_quartile: [Option<f64>; 4],
    /// The highest mean follow-back rate in each quartile (where each quartile ends).
    pub follow_back_rate_quartile_upper: [Option<f64>; 4],
    /// Spearman's rank correlation of mean follow-back rate and growth; None below 3 brands.
    pub spearman_follow_back_vs_growth: Option<f64>,
}

/// The findings over `rows` (brand_growth).
pub fn findings(rows: &[GrowthRow]) -> Findings {
    let mut pairs: Vec<(f64, u64, f64)> =
        rows.iter().filter_map(|r| Some((r.mean_follow_back_rate?, r.key, r.growth?))).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let n = pairs.len();
    let quartile = |q: usize| &pairs[(q * n) / 4..((q + 1) * n) / 4];
    Findings {
        brands: n,
        median_growth_by_follow_back_quartile: std::array::from_fn(|q| {
            median_f64(&mut quartile(q).iter().map(|p| p.2).collect::<Vec<_>>())
        }),
        follow_back_rate_quartile_upper: std::array::from_fn(|q| quartile(q).last().map(|p| p.0)),
        spearman_follow_back_vs_growth: spearman(
            &pairs.iter().map(|p| p.0).collect::<Vec<_>>(),
            &pairs.iter().map(|p| p.2).collect::<Vec<_>>(),
        ),
    }
}

/// Ranks 1..n, ties given their average rank.
fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let end = start + order[start..].iter().take_while(|&&i| values[i] == values[order[start]]).count();
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Pearson's correlation of the average ranks; None below 3 values or with a constant side.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() < 3 || x.len() != y.len() {
        return None;
    }
    let (rx, ry) = (average_ranks(x), average_ranks(y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn night(key: u64, night: u32, followers: u64, rate: Option<f64>) -> BrandNight {
        BrandNight { key, night, followers, follow_back_rate: rate }
    }

    #[test]
    fn growth_needs_the_first_and_the_last_night_and_a_follower_to_start_from() {
        let rows = [
            night(1, 0, 100, Some(0.5)),
            night(1, 1, 105, None),
            night(1, 2, 110, Some(0.7)),
            night(2, 1, 10, Some(0.1)), // absent on the first night
            night(2, 2, 12, Some(0.1)),
            night(3, 0, 0, None),
            night(3, 2, 4, None),
        ];
        let got = brand_growth(&rows, 2);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            GrowthRow {
                key: 1,
                nights: 3,
                followers_first: 100,
                followers_last: 110,
                growth: Some(0.1),
                mean_follow_back_rate: Some(0.6)
            }
        );
        assert_eq!((got[1].nights, got[1].growth, got[1].mean_follow_back_rate), (2, None, None));
    }

    fn growth(key: u64, rate: f64, growth: f64) -> GrowthRow {
        GrowthRow {
            key,
            nights: 2,
            followers_first: 1,
            followers_last: 1,
            growth: Some(growth),
            mean_follow_back_rate: Some(rate),
        }
    }

    #[test]
    fn quartiles_split_by_rank_with_ties_broken_by_id_and_spearman_uses_average_ranks() {
        // n = 6: quartiles hold ranks 1, 2-3, 4, 5-6 (floor(q*n/4) bounds: 0,1,3,4,6).
        let rows = [
            growth(6, 0.9, 0.30),
            growth(1, 0.1, 0.01),
            growth(2, 0.5, 0.02),
            growth(3, 0.5, 0.04),
            growth(4, 0.7, 0.10),
            growth(5, 0.8, 0.20),
        ];
        let f = findings(&rows);
        assert_eq!(f.brands, 6);
        assert_eq!(f.median_growth_by_follow_back_quartile, [Some(0.01), Some(0.03), Some(0.10), Some(0.25)]);
        assert_eq!(f.follow_back_rate_quartile_upper, [Some(0.1), Some(0.5), Some(0.7), Some(0.9)]);
        // Rates rank 1, 2.5, 2.5, 4, 5, 6 against growths 1..6: Pearson of those ranks.
        let want = {
            let rx = [1.0, 2.5, 2.5, 4.0, 5.0, 6.0];
            let ry = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
            let (mx, my) = (3.5, 3.5);
            let sxy: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
            let sxx: f64 = rx.iter().map(|a| (a - mx) * (a - mx)).sum();
            let syy: f64 = ry.iter().map(|b| (b - my) * (b - my)).sum();
            sxy / (sxx * syy).sqrt()
        };
        assert!((f.spearman_follow_back_vs_growth.unwrap() - want).abs() < 1e-15);
    }

    #[test]
    fn few_brands_give_empty_quartiles_and_no_correlation() {
        let f = findings(&[growth(1, 0.2, 0.1), growth(2, 0.4, 0.3)]);
        assert_eq!(f.median_growth_by_follow_back_quartile, [None, Some(0.1), None, Some(0.3)]);
        assert_eq!(f.spearman_follow_back_vs_growth, None);
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None, "a constant side has no rank order");
    }
}
