//! Tie survival over many nights (`tie_survival`): the share of ties still standing after
//! 1, 7, 30, 90 and 365 days, from the nights' `tie_decay` counts.
//!
//! For age bins b = 0…4 the hazard is Σ broken_b / Σ ties_b over the nights (a one-night
//! break rate, as nights are a day apart); survival multiplies one minus the hazard over the
//! days each bin spans: 1 day of bin 0, 6 of bin 1, 23 of bin 2, 60 of bin 3, 275 of bin 4.

/// Days of each age bin 0…4 that the survival product crosses.
const DAYS_IN_BIN: [i32; 5] = [1, 6, 23, 60, 275];

/// Ties and breaks of one tie kind in age bins 0…4, summed over nights.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BinCounts {
    pub ties: [u64; 5],
    pub broken: [u64; 5],
}

impl BinCounts {
    /// Adds one night's row of `tie_decay` (bins −1 and 5 do not enter the product).
    pub fn add(&mut self, age_bin: i32, ties: u64, broken: u64) {
        if let Ok(b @ 0..=4) = usize::try_from(age_bin) {
            self.ties[b] += ties;
            self.broken[b] += broken;
        }
    }

    /// hazard_b = Σ broken_b / Σ ties_b, None where there were no ties.
    pub fn hazards(&self) -> [Option<f64>; 5] {
        std::array::from_fn(|b| (self.ties[b] > 0).then(|| self.broken[b] as f64 / self.ties[b] as f64))
    }
}

/// survival_1d, _7d, _30d, _90d, _365d from the hazards; None from the first None hazard on.
pub fn survival(hazards: [Option<f64>; 5]) -> [Option<f64>; 5] {
    let mut standing = Some(1.0);
    std::array::from_fn(|b| {
        standing = standing.zip(hazards[b]).map(|(s, h)| s * (1.0 - h).powi(DAYS_IN_BIN[b]));
        standing
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survival_multiplies_each_bins_daily_hazard_over_its_days() {
        let mut counts = BinCounts::default();
        counts.add(0, 10, 1);
        counts.add(0, 10, 1); // a second night
        counts.add(1, 100, 2);
        counts.add(2, 50, 0);
        counts.add(3, 40, 1);
        counts.add(4, 400, 1);
        counts.add(-1, 7, 7); // null ages are left out
        counts.add(5, 9, 9); // older than a year: beyond the product
        let h = counts.hazards();
        assert_eq!(h, [Some(0.1), Some(0.02), Some(0.0), Some(0.025), Some(0.0025)]);
        let s = survival(h);
        let want_7d = 0.9 * 0.98f64.powi(6);
        assert!((s[0].unwrap() - 0.9).abs() < 1e-15);
        assert!((s[1].unwrap() - want_7d).abs() < 1e-15);
        assert_eq!(s[2], s[1], "no breaks between 7 and 30 days");
        let want_365 = want_7d * 0.975f64.powi(60) * 0.9975f64.powi(275);
        assert!((s[4].unwrap() - want_365).abs() < 1e-12);
    }

    #[test]
    fn a_bin_without_ties_ends_the_product() {
        let mut counts = BinCounts::default();
        counts.add(0, 4, 1);
        counts.add(2, 4, 1);
        assert_eq!(survival(counts.hazards()), [Some(0.75), None, None, None, None]);
        assert_eq!(survival(BinCounts::default().hazards()), [None; 5]);
    }
}
