//! How concentrated one account's outgoing events are over its partners.
//!
//! "People with many follows interact with a small handful of them": top-k shares, the
//! Herfindahl–Hirschman index, effective partners and the 80% handful, all from the
//! per-partner event counts of one account.

use super::maybe_f64::MaybeF64;

/// Concentration of one account's events; every field is none when it sent no events. The
/// floats are [`MaybeF64`]s: this is part of every account's row.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Concentration {
    pub top1_share: MaybeF64,
    pub top5_share: MaybeF64,
    pub hhi_out: MaybeF64,
    pub effective_partners: MaybeF64,
    pub handful_80: Option<u64>,
}

/// Measures of per-partner event counts (any order; `scratch` is reused working space).
pub fn concentration(counts: &[u64], scratch: &mut Vec<u64>) -> Concentration {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return Concentration::default();
    }
    scratch.clear();
    scratch.extend_from_slice(counts);
    scratch.sort_unstable_by(|a, b| b.cmp(a));
    let top = |k: usize| scratch.iter().take(k).sum::<u64>() as f64 / total as f64;
    let squares: u128 = scratch.iter().map(|&c| u128::from(c) * u128::from(c)).sum();
    let total_sq = u128::from(total) * u128::from(total);
    // Smallest k with 5·(events to the top k) ≥ 4·total: integer arithmetic, no rounding.
    let mut covered: u128 = 0;
    let mut handful = 0u64;
    for &c in scratch.iter() {
        covered += u128::from(c);
        handful += 1;
        if 5 * covered >= 4 * u128::from(total) {
            break;
        }
    }
    Concentration {
        top1_share: Some(top(1)).into(),
        top5_share: Some(top(5)).into(),
        hhi_out: Some(squares as f64 / total_sq as f64).into(),
        effective_partners: Some(total_sq as f64 / squares as f64).into(),
        handful_80: Some(handful),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_events_means_no_measures() {
        assert_eq!(concentration(&[], &mut Vec::new()), Concentration::default());
    }

    #[test]
    fn hand_computed_partner_counts() {
        // counts 6, 2, 1, 1: total 10
        let c = concentration(&[1, 6, 1, 2], &mut Vec::new());
        assert_eq!(c.top1_share.get(), Some(0.6));
        assert_eq!(c.top5_share.get(), Some(1.0));
        assert_eq!(c.hhi_out.get(), Some(42.0 / 100.0));
        assert_eq!(c.effective_partners.get(), Some(100.0 / 42.0));
        // top 1 covers 60%, top 2 covers 80%: exactly 80% counts
        assert_eq!(c.handful_80, Some(2));
    }

    #[test]
    fn ties_do_not_change_top_k_or_handful() {
        // five partners with 1 event each: top1 = 0.2, handful = 4 (80% exactly)
        let c = concentration(&[1, 1, 1, 1, 1], &mut Vec::new());
        assert_eq!(c.top1_share.get(), Some(0.2));
        assert_eq!(c.handful_80, Some(4));
        assert_eq!(c.effective_partners.get(), Some(5.0));
        // seven equal partners: top5 = 5/7, handful = ceil(0.8·7) = 6
        let c = concentration(&[3; 7], &mut Vec::new());
        assert_eq!(c.top5_share.get(), Some(15.0 / 21.0));
        assert_eq!(c.handful_80, Some(6));
    }
}
