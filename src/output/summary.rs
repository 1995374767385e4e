//! The short human summary a run ends with: a pure rendering of its results.

use std::fmt::Write;

use crate::compute::account_metrics::Camp;
use crate::compute::brands::BrandRow;
use crate::compute::follow_changes::PopulationChanges;
use crate::compute::population::Population;
use crate::id_type::IdType;
use crate::output::manifest::{ExecutionEntry, Rejected};
use crate::output::progress::StageTime;

/// One brand's line in the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct BrandLine {
    pub id: String,
    pub followers: u64,
    pub follow_back_rate: Option<f64>,
    pub followers_engaged_share: Option<f64>,
    pub reach_2hop: u64,
}

/// Everything the summary shows.
#[derive(Debug, Clone)]
pub struct SummaryInput<'a> {
    pub out: &'a str,
    pub population: &'a Population,
    pub changes: Option<&'a PopulationChanges>,
    pub brands: usize,
    pub top_brands: Vec<BrandLine>,
    pub rejected: &'a Rejected,
    pub timings: &'a [StageTime],
    pub execution: &'a ExecutionEntry,
}

/// The `k` brands with most followers (ties by id), for the summary.
pub fn top_brands(brands: &[BrandRow], id_type: IdType, keys: &[u64], k: usize) -> Vec<BrandLine> {
    let mut top: Vec<&BrandRow> = brands.iter().collect();
    top.sort_by(|a, b| b.followers.cmp(&a.followers).then(a.account.cmp(&b.account)));
    top.iter()
        .take(k)
        .map(|b| BrandLine {
            id: id_type.id_of(keys[b.account as usize]).to_string(),
            followers: b.followers,
            follow_back_rate: b.follow_back_rate,
            followers_engaged_share: b.followers_engaged_share,
            reach_2hop: b.reach_2hop,
        })
        .collect()
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn fixed(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.digits$}"))
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "n/a".into();
    }
    format!("{:.1}%", 100.0 * part as f64 / whole as f64)
}

/// Seconds as the largest sensible unit: "42 s", "3.2 h", "5.1 d".
pub fn duration(seconds: Option<f64>) -> String {
    match seconds {
        None => "n/a".into(),
        Some(s) if s < 120.0 => format!("{s:.0} s"),
        Some(s) if s < 7200.0 => format!("{:.1} min", s / 60.0),
        Some(s) if s < 172_800.0 => format!("{:.1} h", s / 3600.0),
        Some(s) => format!("{:.1} d", s / 86_400.0),
    }
}

pub fn render(s: &SummaryInput) -> String {
    let mut out = String::new();
    population_lines(&mut out, s);
    if let Some(c) = s.changes {
        change_line(&mut out, c);
    }
    if s.brands > 0 {
        brand_lines(&mut out, s);
    }
    run_lines(&mut out, s);
    out
}

/// The population's figures: accounts, follow-back, mutuals, camps, interactions.
fn population_lines(out: &mut String, s: &SummaryInput) {
    let p = s.population;
    let _ = writeln!(
        *out,
        "reciprocity: {} accounts, {} follows, {} interaction events -> {}",
        thousands(p.accounts),
        thousands(p.follow_edges),
        thousands(p.interaction_events),
        s.out
    );
    let _ = writeln!(
        *out,
        "  follow-back   r = {} (arc), dyad {}, rho = {}; latency median {}",
        fixed(p.edge_reciprocity, 4),
        fixed(p.dyad_reciprocity, 4),
        fixed(p.rho, 4),
        duration(p.followback_latency_median_s)
    );
    let _ = writeln!(
        *out,
        "  mutuals       {} dyads: {} engaged both ways, {} hollow (not one interaction)",
        thousands(p.mutual_dyads),
        percent(p.mutual_dyads_engaged, p.mutual_dyads),
        percent(p.mutual_dyads_hollow, p.mutual_dyads)
    );
    let camps: Vec<String> =
        Camp::ALL.iter().zip(p.camps).map(|(c, n)| format!("{} {}", c.as_str(), percent(n, p.accounts))).collect();
    let _ = writeln!(*out, "  camps         {}", camps.join(" · "));
    let _ = writeln!(
        *out,
        "  interactions  pair reciprocity {}, weighted {}; Gini of followers {}",
        fixed(p.interaction_pair_reciprocity, 4),
        fixed(p.interaction_reciprocity, 4),
        fixed(p.gini_followers, 3)
    );
}

/// "since before": the night-to-night changes.
fn change_line(out: &mut String, c: &PopulationChanges) {
    let _ = writeln!(
        *out,
        "  since before  follows +{} / -{}; mutual ties +{} / -{}; ties broken: mutual {}, one-way {}; mass unfollowers {}",
        thousands(c.edges_added),
        thousands(c.edges_removed),
        thousands(c.mutual_dyads_gained),
        thousands(c.mutual_dyads_lost),
        c.mutual_tie_break_rate.map_or("n/a".into(), |r| format!("{:.1}%", 100.0 * r)),
        c.one_way_tie_break_rate.map_or("n/a".into(), |r| format!("{:.1}%", 100.0 * r)),
        thousands(c.mass_unfollowers)
    );
}

/// The brands and the top few by followers.
fn brand_lines(out: &mut String, s: &SummaryInput) {
    let _ = writeln!(*out, "  brands        {} (top by followers below)", thousands(s.brands as u64));
    for b in &s.top_brands {
        let _ = writeln!(
            *out,
            "    {:>20}  {} followers, follow-back {}, engaged followers {}, 2-hop reach {}",
            b.id,
            thousands(b.followers),
            fixed(b.follow_back_rate, 3),
            fixed(b.followers_engaged_share, 3),
            thousands(b.reach_2hop)
        );
    }
}

/// What cleaning dropped, the stages' times, and how the run computed.
fn run_lines(out: &mut String, s: &SummaryInput) {
    let r = s.rejected;
    let _ = writeln!(
        *out,
        "  cleaning      dropped {} null ids, {} self-loops, {} duplicate follows, {} outside the window",
        thousands(r.null_id),
        thousands(r.self_loop),
        thousands(r.duplicate_follow),
        thousands(r.outside_window)
    );
    let total: f64 = s.timings.iter().map(|t| t.seconds).sum();
    let stages: Vec<String> = s.timings.iter().map(|t| format!("{} {:.2}s", t.stage, t.seconds)).collect();
    let _ = writeln!(*out, "  time          {} = {:.2}s", stages.join(" · "), total);
    match (s.execution.buckets, s.execution.spill_bytes) {
        (Some(k), Some(bytes)) => {
            let _ = writeln!(*out, "  out of core   {k} buckets, {} spilled", crate::config::size::human(bytes));
        }
        (Some(k), None) if s.execution.mode == "buckets_rescan" => {
            let _ = writeln!(*out, "  out of core   {k} buckets, the inputs read again for each (nothing spilled)");
        }
        (Some(k), None) => {
            let _ = writeln!(*out, "  computed by   {} in {k} buckets", s.execution.mode);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_formatted_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(duration(Some(30.0)), "30 s");
        assert_eq!(duration(Some(3.0 * 3600.0)), "3.0 h");
        assert_eq!(duration(Some(3.0 * 86400.0)), "3.0 d");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(1, 0), "n/a");
    }
}
