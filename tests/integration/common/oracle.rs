//! A naive, independent implementation of the metric contract, written from METRICS.md
//! with sets and maps and no cleverness, to check the real kernels against.

use std::collections::{BTreeMap, BTreeSet};

use super::{AccountRow, Cell, EventRow, FollowRow, Row};

pub struct Params {
    pub min_followers: u64,
    pub window: Option<(i64, i64)>,
    pub brands: Vec<i64>,
}

impl Default for Params {
    fn default() -> Self {
        Params { min_followers: 10, window: None, brands: vec![] }
    }
}

/// What the by-followers table needs of one account.
#[derive(Clone)]
struct Vals {
    followers: u64,
    following: u64,
    fbr: Option<f64>,
    rr: Option<f64>,
    efs: Option<f64>,
    eff: Option<f64>,
    gini: Option<f64>,
}

pub struct Expected {
    pub account_metrics: Vec<Row>,
    pub population_summary: Vec<Row>,
    pub reciprocity_by_followers: Vec<Row>,
    pub brand_audience: Vec<Row>,
}

fn int(v: u64) -> Cell {
    Cell::Int(Some(v as i64))
}
fn float(v: Option<f64>) -> Cell {
    Cell::Float(v)
}
fn div(a: f64, b: f64) -> Option<f64> {
    if b == 0.0 {
        None
    } else {
        Some(a / b)
    }
}
fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}
fn mean(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        None
    } else {
        Some(v.iter().sum::<f64>() / v.len() as f64)
    }
}
fn gini(mut x: Vec<f64>) -> Option<f64> {
    let n = x.len() as f64;
    let total: f64 = x.iter().sum();
    if x.len() < 2 || total == 0.0 {
        return None;
    }
    x.sort_by(f64::total_cmp);
    let weighted: f64 = x.iter().enumerate().map(|(i, v)| (i as f64 + 1.0) * v).sum();
    Some(2.0 * weighted / (n * total) - (n + 1.0) / n)
}

pub fn expected(follows: &[FollowRow], events: &[EventRow], accounts: &[AccountRow], p: &Params) -> Expected {
    // Cleaning.
    let mut edges: BTreeMap<(i64, i64), Option<i64>> = BTreeMap::new();
    for &(a, b, t) in follows {
        let (Some(a), Some(b)) = (a, b) else { continue };
        if a == b {
            continue;
        }
        let entry = edges.entry((a, b)).or_insert(t);
        *entry = match (*entry, t) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
    }
    let mut w: BTreeMap<(i64, i64), u64> = BTreeMap::new();
    for &(a, b, t) in events {
        let (Some(a), Some(b)) = (a, b) else { continue };
        if a == b {
            continue;
        }
        if let Some((s, e)) = p.window {
            match t {
                Some(t) if t >= s && t < e => {}
                _ => continue,
            }
        }
        *w.entry((a, b)).or_default() += 1;
    }
    let mut types: BTreeMap<i64, Option<String>> = BTreeMap::new();
    for &(id, t) in accounts {
        let Some(id) = id else { continue };
        let entry = types.entry(id).or_insert(None);
        if entry.is_none() {
            *entry = t.map(str::to_string);
        }
    }
    let mut universe: BTreeSet<i64> = types.keys().copied().collect();
    for &(a, b) in edges.keys().chain(w.keys()) {
        universe.insert(a);
        universe.insert(b);
    }

    let follows_edge = |a: i64, b: i64| edges.contains_key(&(a, b));
    let weight = |a: i64, b: i64| w.get(&(a, b)).copied().unwrap_or(0);
    let followers_of = |a: i64| -> BTreeSet<i64> { edges.keys().filter(|e| e.1 == a).map(|e| e.0).collect() };
    let following_of = |a: i64| -> BTreeSet<i64> { edges.keys().filter(|e| e.0 == a).map(|e| e.1).collect() };

    let mut rows = Vec::new();
    let mut all_latencies = Vec::new();
    let mut per_account: BTreeMap<i64, Vals> = BTreeMap::new();
    let mut camps = [0u64; 4];
    for &a in &universe {
        let followers = followers_of(a);
        let following = following_of(a);
        let mutuals: Vec<i64> = following.iter().copied().filter(|&m| follows_edge(m, a)).collect();
        let (nf, ng, nm) = (followers.len() as u64, following.len() as u64, mutuals.len() as u64);
        let mut latencies = Vec::new();
        for &m in &mutuals {
            if let (Some(t_am), Some(t_ma)) = (edges[&(a, m)], edges[&(m, a)]) {
                if t_ma < t_am {
                    latencies.push((t_am - t_ma) as f64 / 1e6);
                }
            }
        }
        all_latencies.extend(latencies.iter().copied());
        let fbr = div(nm as f64, nf as f64);
        let camp = match fbr {
            _ if nf < p.min_followers => 3,
            None => 3,
            Some(r) if r >= 0.9 => 0,
            Some(r) if r >= 0.1 => 1,
            Some(_) => 2,
        };
        camps[camp] += 1;
        let camp_name = ["follows_back_all", "selective", "rarely_follows_back", "insufficient"][camp];
        let partners: Vec<(i64, u64)> = w.iter().filter(|(k, _)| k.0 == a).map(|(k, &c)| (k.1, c)).collect();
        let out: u64 = partners.iter().map(|p| p.1).sum();
        let inn: u64 = w.iter().filter(|(k, _)| k.1 == a).map(|(_, &c)| c).sum();
        let engaged = following.iter().filter(|&&m| weight(a, m) > 0).count() as u64;
        let m_engaged = mutuals.iter().filter(|&&m| weight(a, m) > 0 && weight(m, a) > 0).count() as u64;
        let m_hollow = mutuals.iter().filter(|&&m| weight(a, m) == 0 && weight(m, a) == 0).count() as u64;
        let mut counts: Vec<u64> = partners.iter().map(|p| p.1).collect();
        counts.sort_by(|x, y| y.cmp(x));
        let top = |k: usize| div(counts.iter().take(k).sum::<u64>() as f64, out as f64);
        let hhi = (out > 0).then(|| counts.iter().map(|&c| (c as f64 / out as f64).powi(2)).sum::<f64>());
        let handful = (out > 0)
            .then(|| (1..=counts.len()).find(|&k| 5 * counts[..k].iter().sum::<u64>() >= 4 * out).unwrap() as i64);
        let gini_following = gini(following.iter().map(|&m| weight(a, m) as f64).collect());
        let efs = div(engaged as f64, ng as f64);
        let eff = hhi.map(|h| 1.0 / h);
        let vals = Vals { followers: nf, following: ng, fbr, rr: div(nm as f64, ng as f64), efs, eff, gini: None };
        per_account.insert(a, vals);
        let mut row = Row::new();
        row.insert("account_id".into(), Cell::Int(Some(a)));
        row.insert("account_type".into(), Cell::Str(types.get(&a).cloned().flatten()));
        row.insert("followers".into(), int(nf));
        row.insert("following".into(), int(ng));
        row.insert("mutuals".into(), int(nm));
        row.insert("follow_back_rate".into(), float(fbr));
        row.insert("reciprocated_rate".into(), float(div(nm as f64, ng as f64)));
        row.insert("reciprocity".into(), float(div(2.0 * nm as f64, (nf + ng) as f64)));
        row.insert("followbacks_given".into(), int(latencies.len() as u64));
        row.insert("followback_latency_median_s".into(), float(median(latencies)));
        row.insert("camp".into(), Cell::Str(Some(camp_name.into())));
        row.insert("interactions_out".into(), int(out));
        row.insert("interactions_in".into(), int(inn));
        row.insert("partners_out".into(), int(partners.len() as u64));
        row.insert("engaged_following".into(), int(engaged));
        row.insert("engaged_following_share".into(), float(efs));
        row.insert("mutuals_engaged".into(), int(m_engaged));
        row.insert("mutuals_hollow".into(), int(m_hollow));
        row.insert("top1_share".into(), float(top(1)));
        row.insert("top5_share".into(), float(top(5)));
        row.insert("hhi_out".into(), float(hhi));
        row.insert("effective_partners".into(), float(eff));
        row.insert("handful_80".into(), Cell::Int(handful));
        row.insert("gini_following".into(), float(gini_following));
        rows.push((row, gini_following));
    }

    // Population.
    let n = universe.len() as u64;
    let e = edges.len() as u64;
    let m = edges.keys().filter(|&&(a, b)| a < b && follows_edge(b, a)).count() as u64;
    let asym = e - 2 * m;
    let pairs = w.len() as f64;
    let recip_pairs = w.keys().filter(|&&(a, b)| weight(b, a) > 0).count() as f64;
    let events_total: u64 = w.values().sum();
    let min_sum: u64 = w.iter().map(|(&(a, b), &c)| c.min(weight(b, a))).sum();
    let mutual_pairs: Vec<(i64, i64)> = edges.keys().filter(|&&(a, b)| a < b && follows_edge(b, a)).copied().collect();
    let r = div(2.0 * m as f64, e as f64);
    let density = if n >= 2 { div(e as f64, (n * (n - 1)) as f64) } else { None };
    let rho = match (r, density) {
        (Some(r), Some(d)) => div(r - d, 1.0 - d),
        _ => None,
    };
    let mut pop = Row::new();
    pop.insert("accounts".into(), int(n));
    pop.insert("follow_edges".into(), int(e));
    pop.insert("mutual_dyads".into(), int(m));
    pop.insert("asymmetric_dyads".into(), int(asym));
    pop.insert("null_dyads".into(), Cell::Int(Some((n * n.saturating_sub(1) / 2 - m - asym) as i64)));
    pop.insert("edge_reciprocity".into(), float(r));
    pop.insert("dyad_reciprocity".into(), float(div(m as f64, (m + asym) as f64)));
    pop.insert("density".into(), float(density));
    pop.insert("rho".into(), float(rho));
    pop.insert("interaction_events".into(), int(events_total));
    pop.insert("interaction_pair_reciprocity".into(), float(div(recip_pairs, pairs)));
    pop.insert("interaction_reciprocity".into(), float(div(min_sum as f64, events_total as f64)));
    pop.insert("followback_latency_median_s".into(), float(median(all_latencies)));
    pop.insert(
        "mutual_dyads_engaged".into(),
        int(mutual_pairs.iter().filter(|&&(a, b)| weight(a, b) > 0 && weight(b, a) > 0).count() as u64),
    );
    pop.insert(
        "mutual_dyads_hollow".into(),
        int(mutual_pairs.iter().filter(|&&(a, b)| weight(a, b) == 0 && weight(b, a) == 0).count() as u64),
    );
    pop.insert("gini_followers".into(), float(gini(per_account.values().map(|v| v.followers as f64).collect())));
    pop.insert(
        "gini_degree".into(),
        float(gini(per_account.values().map(|v| (v.followers + v.following) as f64).collect())),
    );
    for (name, count) in ["follows_back_all", "selective", "rarely_follows_back", "insufficient"].iter().zip(camps) {
        pop.insert(format!("camp_{name}"), int(count));
    }
    // Without a previous snapshot the diff columns are present and null.
    for c in ["edges_added", "edges_removed", "mutual_dyads_gained", "mutual_dyads_lost", "mass_unfollowers"] {
        pop.insert(c.into(), Cell::Int(None));
    }
    for c in ["mutual_tie_break_rate", "one_way_tie_break_rate"] {
        pop.insert(c.into(), Cell::Float(None));
    }

    // By followers.
    let mut buckets: BTreeMap<u32, Vec<Vals>> = BTreeMap::new();
    for ((_, g), v) in rows.iter().zip(per_account.values()) {
        let b = if v.followers == 0 { 0 } else { (v.followers as f64).log10().floor() as u32 + 1 };
        buckets.entry(b).or_default().push(Vals { gini: *g, ..v.clone() });
    }
    let by_followers = buckets
        .iter()
        .map(|(&b, members)| {
            let vals = |f: fn(&Vals) -> Option<f64>| members.iter().filter_map(f).collect::<Vec<f64>>();
            let mut row = Row::new();
            row.insert("bucket".into(), int(b as u64));
            row.insert("followers_min".into(), int(members.iter().map(|m| m.followers).min().unwrap()));
            row.insert("followers_max".into(), int(members.iter().map(|m| m.followers).max().unwrap()));
            row.insert("accounts".into(), int(members.len() as u64));
            row.insert("mean_follow_back_rate".into(), float(mean(&vals(|m| m.fbr))));
            row.insert("median_follow_back_rate".into(), float(median(vals(|m| m.fbr))));
            row.insert("mean_reciprocated_rate".into(), float(mean(&vals(|m| m.rr))));
            row.insert("mean_engaged_following_share".into(), float(mean(&vals(|m| m.efs))));
            row.insert("median_effective_partners".into(), float(median(vals(|m| m.eff))));
            row.insert("mean_gini_following".into(), float(mean(&vals(|m| m.gini))));
            row
        })
        .collect();

    // Brands.
    let mut brands: BTreeSet<i64> =
        types.iter().filter(|(_, t)| t.as_deref() == Some("brand")).map(|(&id, _)| id).collect();
    brands.extend(p.brands.iter().filter(|b| universe.contains(b)));
    let account_rows: BTreeMap<i64, &Row> = rows.iter().map(|(r, _)| (r["account_id"].int().unwrap(), r)).collect();
    let brand_rows = brands
        .iter()
        .map(|&b| {
            let base = account_rows[&b];
            let followers = followers_of(b);
            let engagers: Vec<(i64, u64)> = w.iter().filter(|(k, _)| k.1 == b).map(|(k, &c)| (k.0, c)).collect();
            let engagement_in: u64 = engagers.iter().map(|e| e.1).sum();
            let followers_engaged = engagers.iter().filter(|e| followers.contains(&e.0)).count() as u64;
            let from_followers: u64 = engagers.iter().filter(|e| followers.contains(&e.0)).map(|e| e.1).sum();
            let mut counts: Vec<u64> = engagers.iter().map(|e| e.1).collect();
            counts.sort_by(|x, y| y.cmp(x));
            let k = (0.01 * engagers.len() as f64).ceil() as usize;
            let mut reach: BTreeSet<i64> = BTreeSet::new();
            for &f in &followers {
                for x in followers_of(f) {
                    if x != b && !followers.contains(&x) {
                        reach.insert(x);
                    }
                }
            }
            let mut row = Row::new();
            row.insert("account_id".into(), Cell::Int(Some(b)));
            for c in ["followers", "following", "mutuals", "follow_back_rate", "followback_latency_median_s"] {
                row.insert(c.into(), base[c].clone());
            }
            row.insert("engagers".into(), int(engagers.len() as u64));
            row.insert("followers_engaged".into(), int(followers_engaged));
            row.insert("followers_engaged_share".into(), float(div(followers_engaged as f64, followers.len() as f64)));
            row.insert("engagement_in".into(), int(engagement_in));
            row.insert(
                "engagement_from_followers_share".into(),
                float(div(from_followers as f64, engagement_in as f64)),
            );
            row.insert(
                "top1pct_engager_share".into(),
                float(div(counts.iter().take(k).sum::<u64>() as f64, engagement_in as f64)),
            );
            row.insert("reach_2hop".into(), int(reach.len() as u64));
            row
        })
        .collect();

    Expected {
        account_metrics: rows.into_iter().map(|(r, _)| r).collect(),
        population_summary: vec![pop],
        reciprocity_by_followers: by_followers,
        brand_audience: brand_rows,
    }
}
