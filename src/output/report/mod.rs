//! `reciprocity report`: one self-contained HTML page (inline SVG and CSS, no JavaScript,
//! no network) rendered from a finished run's tables.
//!
//! Rendering is a pure function from tables to HTML ([`render`]); reading the tables and
//! writing the file happen at the I/O edge (`io/report.rs`). The population page shows the
//! headline numbers, follow-back by audience size, camps, how few partners people really talk
//! to, the Lorenz curve of followers and, when present, the night-to-night changes; brand
//! pages show each brand's figures against the distribution over all brands.

pub mod charts;
pub mod data;
pub mod format;
pub mod page;

use std::fmt::Write;

use data::{floats, histogram, ids, lorenz, population_value, standing, Tables};
use format::{compact, or_dash, percent, ratio};

use crate::error::Result;

/// Which brands get a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrandSelection {
    /// The n brands with most followers.
    Top(usize),
    /// These ids (as written in the table).
    Ids(Vec<String>),
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1000px;margin:2em auto;\
padding:0 1em;color:#222}h1{margin-bottom:0}h2{border-bottom:2px solid #0072b2;padding-bottom:.2em;margin-top:2em}\
.sub{color:#666;margin-top:.2em}.cards{display:flex;flex-wrap:wrap;gap:.8em}.card{border:1px solid #ddd;\
border-radius:6px;padding:.6em .9em;min-width:9em}.card b{display:block;font-size:1.5em}.card span{color:#555;\
font-size:.85em}table{border-collapse:collapse;margin:.5em 0}td,th{padding:.25em .7em;border-bottom:1px solid #eee;\
text-align:right}th:first-child,td:first-child{text-align:left}.note{color:#666;font-size:.9em}\
.brand{border:1px solid #ddd;border-radius:6px;padding:.5em 1em;margin:1em 0}figure{margin:.5em 0}";

fn card(out: &mut String, value: String, label: &str) {
    let _ = write!(out, "<div class=\"card\"><b>{value}</b><span>{label}</span></div>");
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn hours(seconds: f64) -> String {
    if seconds < 7200.0 {
        format!("{:.0} min", seconds / 60.0)
    } else if seconds < 172_800.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else {
        format!("{:.1} d", seconds / 86_400.0)
    }
}

/// The whole report page.
pub fn render(title: &str, tables: &Tables, brands: &BrandSelection) -> Result<String> {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{CSS}</style>\
         </head><body><h1>Who follows back, and who talks to whom</h1><p class=\"sub\">{t}</p>",
        t = escape(title)
    );
    population(&mut out, tables)?;
    changes(&mut out, tables);
    brand_pages(&mut out, tables, brands)?;
    out.push_str("<p class=\"note\">Definitions of every number: docs/metrics.md. Rendered by reciprocity from the result tables.</p></body></html>\n");
    Ok(out)
}

fn population(out: &mut String, t: &Tables) -> Result<()> {
    let p = |name: &str| population_value(t, name);
    out.push_str("<section id=\"population\"><h2>Population</h2><div class=\"cards\">");
    card(out, or_dash(p("accounts"), compact), "accounts");
    card(out, or_dash(p("follow_edges"), compact), "follows");
    card(out, or_dash(p("edge_reciprocity"), ratio), "reciprocity r (share of follows returned)");
    card(out, or_dash(p("dyad_reciprocity"), ratio), "dyad reciprocity (mutual pairs / connected pairs)");
    card(out, or_dash(p("rho"), ratio), "ρ (reciprocity beyond chance)");
    card(out, or_dash(p("interaction_reciprocity"), ratio), "interaction reciprocity (weighted)");
    let hollow = match (p("mutual_dyads_hollow"), p("mutual_dyads")) {
        (Some(h), Some(m)) if m > 0.0 => Some(h / m),
        _ => None,
    };
    card(out, or_dash(hollow, percent), "of mutual pairs never interact (hollow)");
    card(out, or_dash(p("followback_latency_median_s"), hours), "median time to follow back");
    out.push_str("</div>");

    // Follow-back by audience size.
    let buckets = floats(&t.reciprocity_by_followers, "bucket")?;
    let labels: Vec<String> = buckets
        .iter()
        .map(|b| match b.unwrap_or(0.0) as u32 {
            0 => "0".to_string(),
            k => format!("{}–{}", compact(10f64.powi(k as i32 - 1)), compact(10f64.powi(k as i32) - 1.0)),
        })
        .collect();
    let series = [
        ("mean follow-back rate", floats(&t.reciprocity_by_followers, "mean_follow_back_rate")?),
        ("median follow-back rate", floats(&t.reciprocity_by_followers, "median_follow_back_rate")?),
        ("mean reciprocated rate", floats(&t.reciprocity_by_followers, "mean_reciprocated_rate")?),
    ];
    let _ = write!(
        out,
        "<h3>Follow-back by audience size</h3><p class=\"note\">Of those who follow an account, how many it follows back \
         (follow-back rate), and of those it follows, how many follow it back (reciprocated rate).</p><figure>{}</figure>",
        charts::lines(&labels, &series, "rate")
    );

    // Camps.
    let camps = ["follows_back_all", "selective", "rarely_follows_back", "insufficient"];
    let counts: Vec<u64> = camps.iter().map(|c| p(&format!("camp_{c}")).unwrap_or(0.0) as u64).collect();
    let total: u64 = counts.iter().sum::<u64>().max(1);
    let camp_labels: Vec<String> = camps
        .iter()
        .zip(&counts)
        .map(|(c, &n)| format!("{} ({})", c.replace('_', " "), percent(n as f64 / total as f64)))
        .collect();
    let _ = write!(
        out,
        "<h3>Follow-back camps</h3><figure>{}</figure>",
        charts::bars(&camp_labels, &counts, "camp", "accounts", true)
    );

    // A handful of partners.
    let handful: Vec<f64> = floats(&t.account_metrics, "handful_80")?.into_iter().flatten().collect();
    let edges: Vec<f64> = (1..=10).map(f64::from).collect();
    let handful_counts = histogram(handful.iter().copied(), &edges);
    let handful_labels: Vec<String> =
        (1..=10).map(|k| if k == 10 { "10+".to_string() } else { k.to_string() }).collect();
    let effective: Vec<f64> = floats(&t.account_metrics, "effective_partners")?.into_iter().flatten().collect();
    let effective_edges = [1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0];
    let effective_counts = histogram(effective.iter().copied(), &effective_edges);
    let effective_labels: Vec<String> =
        ["1–2", "2–3", "3–5", "5–10", "10–20", "20–50", "50–100", "100+"].iter().map(|s| s.to_string()).collect();
    let within_five = handful.iter().filter(|&&k| k <= 5.0).count() as f64 / handful.len().max(1) as f64;
    let _ = write!(
        out,
        "<h3>People talk to a handful</h3><p class=\"note\">{} of accounts that send any interaction reach 80% of it with \
         5 partners or fewer.</p><figure>{}</figure><figure>{}</figure>",
        percent(within_five),
        charts::bars(&handful_labels, &handful_counts, "fewest partners covering 80% of an account's interactions (handful_80)", "accounts", false),
        charts::bars(&effective_labels, &effective_counts, "effective partners (1 / HHI of interactions)", "accounts", false)
    );

    // Attention inequality.
    let followers: Vec<f64> = floats(&t.account_metrics, "followers")?.into_iter().flatten().collect();
    let _ = write!(
        out,
        "<h3>Attention inequality</h3><p class=\"note\">Lorenz curve of followers; Gini {}.</p><figure>{}</figure></section>",
        or_dash(p("gini_followers"), ratio),
        charts::lorenz(&lorenz(followers, 200), "followers")
    );
    Ok(())
}

fn changes(out: &mut String, t: &Tables) {
    let p = |name: &str| population_value(t, name);
    let Some(added) = p("edges_added") else { return };
    out.push_str("<section id=\"changes\"><h2>Since the night before</h2><div class=\"cards\">");
    card(out, compact(added), "follows made");
    card(out, or_dash(p("edges_removed"), compact), "follows withdrawn");
    card(out, or_dash(p("mutual_dyads_gained"), compact), "mutual ties made");
    card(out, or_dash(p("mutual_dyads_lost"), compact), "mutual ties broken");
    card(out, or_dash(p("mutual_tie_break_rate"), percent), "of mutual ties broke");
    card(out, or_dash(p("one_way_tie_break_rate"), percent), "of one-way ties broke");
    card(out, or_dash(p("mass_unfollowers"), compact), "mass unfollowers (≥ 90% of 50+ follows)");
    out.push_str("</div></section>");
}

/// One brand metric: its label, its column, and how to show a value.
type BrandMetric = (&'static str, &'static str, fn(f64) -> String);

const BRAND_METRICS: [BrandMetric; 6] = [
    ("followers", "followers", compact),
    ("follow-back rate", "follow_back_rate", percent),
    ("followers who engage", "followers_engaged_share", percent),
    ("engagement from followers", "engagement_from_followers_share", percent),
    ("share from its top 1% engagers", "top1pct_engager_share", percent),
    ("2-hop reach", "reach_2hop", compact),
];

fn brand_pages(out: &mut String, t: &Tables, selection: &BrandSelection) -> Result<()> {
    out.push_str("<section id=\"brands\"><h2>Brands</h2>");
    let brand_ids = ids(&t.brand_audience, "account_id")?;
    if brand_ids.is_empty() {
        out.push_str("<p class=\"note\">No brands in this run.</p></section>");
        return Ok(());
    }
    let has_exact = t.brand_audience.first().is_some_and(|b| b.column_by_name("reach_2hop").is_some());
    let mut columns = Vec::new();
    for (_, column, _) in BRAND_METRICS {
        let column = if column == "reach_2hop" && !has_exact { "reach_2hop_est" } else { column };
        columns.push(floats(&t.brand_audience, column)?);
    }
    let chosen: Vec<usize> = match selection {
        BrandSelection::Ids(wanted) => wanted.iter().filter_map(|w| brand_ids.iter().position(|id| id == w)).collect(),
        BrandSelection::Top(n) => {
            let mut order: Vec<usize> = (0..brand_ids.len()).collect();
            order.sort_by(|&a, &b| {
                columns[0][b].unwrap_or(0.0).total_cmp(&columns[0][a].unwrap_or(0.0)).then(a.cmp(&b))
            });
            order.truncate(*n);
            order
        }
    };
    let _ = write!(
        out,
        "<p class=\"note\">{} brands in this run; {} shown. Each figure is placed among all brands (rank, percentile, \
         and the distribution with this brand marked).</p>",
        compact(brand_ids.len() as f64),
        chosen.len()
    );
    for &i in &chosen {
        let _ = write!(out, "<div class=\"brand\" id=\"brand-{id}\"><h3>Brand {id}</h3><table><tr><th>figure</th><th>value</th><th>rank</th><th>percentile</th><th>among all brands</th></tr>", id = escape(&brand_ids[i]));
        for ((label, _, show), values) in BRAND_METRICS.iter().zip(&columns) {
            let all: Vec<f64> = values.iter().flatten().copied().collect();
            let cells = match values[i] {
                Some(v) => {
                    let (rank, pct) = standing(v, &all);
                    format!(
                        "<td>{}</td><td>#{} of {}</td><td>{:.0}</td><td>{}</td>",
                        show(v),
                        rank,
                        all.len(),
                        pct,
                        charts::standing(&all, v, *show)
                    )
                }
                None => "<td>–</td><td></td><td></td><td></td>".to_string(),
            };
            let _ = write!(out, "<tr><td>{label}</td>{cells}</tr>");
        }
        out.push_str("</table></div>");
    }
    out.push_str("</section>");
    Ok(())
}
