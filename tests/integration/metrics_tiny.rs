//! Hand-computed tiny graphs: every column of every table, including the null cases, ties,
//! even-count medians and equal timestamps on both sides of a mutual pair.

use crate::common::{read_table, Fixture, Row};

const S: i64 = 1_000_000; // one second in µs

fn by_id(rows: &[Row], id: i64) -> &Row {
    rows.iter().find(|r| r["account_id"].int() == Some(id)).unwrap_or_else(|| panic!("no row for {id}"))
}

fn close(got: Option<f64>, want: f64) -> bool {
    got.is_some_and(|g| (g - want).abs() <= 1e-12 * want.abs().max(1.0))
}

macro_rules! assert_close {
    ($got:expr, $want:expr) => {
        assert!(close($got, $want), "{} = {:?}, want {}", stringify!($got), $got, $want)
    };
    ($got:expr, $want:expr, $why:literal) => {
        assert!(close($got, $want), "{} = {:?}, want {} ({})", stringify!($got), $got, $want, $why)
    };
}

/// The worked example: five people, one brand (9), the rules of cleaning exercised once each.
fn worked_example() -> Fixture {
    let follows = [
        (Some(1), Some(2), Some(100 * S)),
        (Some(2), Some(1), Some(50 * S)),
        (Some(1), Some(3), Some(10 * S)),
        (Some(3), Some(1), Some(30 * S)),
        (Some(1), Some(4), None),
        (Some(4), Some(1), Some(5 * S)),
        (Some(2), Some(3), Some(7 * S)), // equal times both ways: nobody followed back
        (Some(3), Some(2), Some(7 * S)),
        (Some(5), Some(1), Some(S)),
        (Some(1), Some(2), Some(80 * S)), // duplicate: earliest time (80 s) wins
        (Some(3), Some(3), Some(S)),      // self-follow: dropped
        (None, Some(2), Some(S)),         // null id: dropped
    ];
    let events = [
        (Some(1), Some(2), None),
        (Some(1), Some(2), None),
        (Some(1), Some(2), None),
        (Some(1), Some(3), None),
        (Some(1), Some(5), None),
        (Some(2), Some(1), None),
        (Some(2), Some(1), None),
        (Some(3), Some(3), None), // self-interaction: dropped
        (Some(4), Some(9), None),
        (Some(4), Some(9), None),
        (Some(5), Some(9), None),
        (None, Some(1), None), // null id: dropped
    ];
    let accounts = [(Some(9), Some("brand")), (Some(1), Some("person")), (Some(2), None), (Some(1), Some("brand"))];
    Fixture::new(&follows, Some(&events), Some(&accounts))
}

fn run_worked_example() -> (Fixture, std::path::PathBuf) {
    let fixture = worked_example();
    let mut args = fixture.args();
    args.min_followers = Some(2);
    args.brands = vec!["2".into(), "777".into()];
    let out = fixture.run(args);
    (fixture, out)
}

#[test]
fn account_metrics_of_the_worked_example() {
    let (_f, out) = run_worked_example();
    let rows = read_table(&out, "account_metrics");
    let ids: Vec<_> = rows.iter().map(|r| r["account_id"].int().unwrap()).collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5, 9], "one row per account, sorted; 3's self-follow adds nobody");

    let a1 = by_id(&rows, 1);
    assert_eq!(a1["account_type"].str(), Some("person"), "first non-null type wins");
    assert_eq!((a1["followers"].int(), a1["following"].int(), a1["mutuals"].int()), (Some(4), Some(3), Some(3)));
    assert_close!(a1["follow_back_rate"].float(), 0.75);
    assert_close!(a1["reciprocated_rate"].float(), 1.0);
    assert_close!(a1["reciprocity"].float(), 6.0 / 7.0);
    // 1 followed 2 back (80 s after 2's follow at 50 s); 1→3 came before 3→1; 1→4 has no time.
    assert_eq!(a1["followbacks_given"].int(), Some(1));
    assert_close!(a1["followback_latency_median_s"].float(), 30.0);
    assert_eq!(a1["camp"].str(), Some("selective"));
    assert_eq!((a1["interactions_out"].int(), a1["interactions_in"].int()), (Some(5), Some(2)));
    assert_eq!((a1["partners_out"].int(), a1["engaged_following"].int()), (Some(3), Some(2)));
    assert_close!(a1["engaged_following_share"].float(), 2.0 / 3.0);
    assert_eq!((a1["mutuals_engaged"].int(), a1["mutuals_hollow"].int()), (Some(1), Some(1)));
    assert_close!(a1["top1_share"].float(), 0.6);
    assert_close!(a1["top5_share"].float(), 1.0);
    assert_close!(a1["hhi_out"].float(), 11.0 / 25.0);
    assert_close!(a1["effective_partners"].float(), 25.0 / 11.0);
    assert_eq!(a1["handful_80"].int(), Some(2), "3 of 5 is 60%, 4 of 5 is exactly 80%");
    assert_close!(a1["gini_following"].float(), 0.5); // [0, 1, 3]

    let a2 = by_id(&rows, 2);
    assert_eq!(a2["account_type"].str(), None);
    assert_eq!(a2["followbacks_given"].int(), Some(0), "equal times on both sides: no follow-back");
    assert_eq!(a2["followback_latency_median_s"].float(), None);
    assert_eq!(a2["camp"].str(), Some("follows_back_all"));
    assert_eq!((a2["mutuals_engaged"].int(), a2["mutuals_hollow"].int()), (Some(1), Some(1)));
    assert_close!(a2["gini_following"].float(), 0.5); // [0, 2]
    assert_eq!(a2["handful_80"].int(), Some(1));

    let a3 = by_id(&rows, 3);
    assert_eq!(a3["followbacks_given"].int(), Some(1));
    assert_close!(a3["followback_latency_median_s"].float(), 20.0);
    assert_eq!(a3["interactions_out"].int(), Some(0), "its self-interaction was dropped");
    for column in ["top1_share", "top5_share", "hhi_out", "effective_partners", "gini_following"] {
        assert_eq!(a3[column].float(), None, "{column} is null without events");
    }
    assert_eq!(a3["handful_80"].int(), None);
    assert_close!(a3["engaged_following_share"].float(), 0.0);
    assert_eq!((a3["mutuals_engaged"].int(), a3["mutuals_hollow"].int()), (Some(0), Some(1)));

    let a4 = by_id(&rows, 4);
    assert_eq!(a4["camp"].str(), Some("insufficient"), "1 follower < min_followers 2");
    assert_eq!(a4["gini_following"].float(), None, "following < 2");
    assert_eq!(a4["followbacks_given"].int(), Some(0), "1→4 has no created_at");

    let a5 = by_id(&rows, 5);
    assert_eq!(a5["follow_back_rate"].float(), None, "no followers");
    assert_close!(a5["reciprocated_rate"].float(), 0.0);
    assert_close!(a5["reciprocity"].float(), 0.0);
    assert_eq!(a5["camp"].str(), Some("insufficient"));

    let a9 = by_id(&rows, 9);
    assert_eq!(a9["account_type"].str(), Some("brand"));
    assert_eq!(a9["reciprocity"].float(), None, "no followers and no followees");
    assert_eq!(a9["reciprocated_rate"].float(), None);
    assert_eq!(a9["engaged_following_share"].float(), None);
    assert_eq!(a9["interactions_in"].int(), Some(3));
}

#[test]
fn population_summary_of_the_worked_example() {
    let (_f, out) = run_worked_example();
    let rows = read_table(&out, "population_summary");
    assert_eq!(rows.len(), 1);
    let p = &rows[0];
    let ints = |c: &str| p[c].int().unwrap();
    assert_eq!(
        (ints("accounts"), ints("follow_edges"), ints("mutual_dyads"), ints("asymmetric_dyads"), ints("null_dyads")),
        (6, 9, 4, 1, 10)
    );
    assert_close!(p["edge_reciprocity"].float(), 8.0 / 9.0);
    assert_close!(p["dyad_reciprocity"].float(), 0.8);
    assert_close!(p["density"].float(), 0.3);
    assert_close!(p["rho"].float(), 53.0 / 63.0);
    assert_eq!(ints("interaction_events"), 10);
    assert_close!(p["interaction_pair_reciprocity"].float(), 1.0 / 3.0);
    assert_close!(p["interaction_reciprocity"].float(), 0.4);
    assert_close!(p["followback_latency_median_s"].float(), 25.0, "even count: mean of 20 and 30");
    assert_eq!((ints("mutual_dyads_engaged"), ints("mutual_dyads_hollow")), (1, 2));
    assert_close!(p["gini_followers"].float(), 0.5);
    assert_close!(p["gini_degree"].float(), 23.0 / 54.0);
    assert_eq!(
        (
            ints("camp_follows_back_all"),
            ints("camp_selective"),
            ints("camp_rarely_follows_back"),
            ints("camp_insufficient")
        ),
        (2, 1, 0, 3)
    );
}

#[test]
fn reciprocity_by_followers_of_the_worked_example() {
    let (_f, out) = run_worked_example();
    let rows = read_table(&out, "reciprocity_by_followers");
    assert_eq!(rows.len(), 2);
    let b0 = &rows[0];
    assert_eq!((b0["bucket"].int(), b0["followers_min"].int(), b0["followers_max"].int()), (Some(0), Some(0), Some(0)));
    assert_eq!(b0["accounts"].int(), Some(2));
    assert_eq!(b0["mean_follow_back_rate"].float(), None, "no non-null values");
    assert_eq!(b0["median_follow_back_rate"].float(), None);
    assert_close!(b0["mean_reciprocated_rate"].float(), 0.0);
    assert_close!(b0["median_effective_partners"].float(), 1.0);
    assert_eq!(b0["mean_gini_following"].float(), None);

    let b1 = &rows[1];
    assert_eq!((b1["bucket"].int(), b1["followers_min"].int(), b1["followers_max"].int()), (Some(1), Some(1), Some(4)));
    assert_eq!(b1["accounts"].int(), Some(4));
    assert_close!(b1["mean_follow_back_rate"].float(), 0.9375);
    assert_close!(b1["median_follow_back_rate"].float(), 1.0);
    assert_close!(b1["mean_reciprocated_rate"].float(), 1.0);
    assert_close!(b1["mean_engaged_following_share"].float(), 7.0 / 24.0);
    assert_close!(b1["median_effective_partners"].float(), 1.0);
    assert_close!(b1["mean_gini_following"].float(), 0.5);
}

#[test]
fn brand_audience_of_the_worked_example() {
    let (_f, out) = run_worked_example();
    let rows = read_table(&out, "brand_audience");
    let ids: Vec<_> = rows.iter().map(|r| r["account_id"].int().unwrap()).collect();
    assert_eq!(ids, vec![2, 9], "typed brand 9 plus listed 2; listed 777 is not an account");

    let b2 = by_id(&rows, 2);
    assert_eq!((b2["followers"].int(), b2["following"].int(), b2["mutuals"].int()), (Some(2), Some(2), Some(2)));
    assert_close!(b2["follow_back_rate"].float(), 1.0);
    assert_eq!(b2["followback_latency_median_s"].float(), None);
    assert_eq!((b2["engagers"].int(), b2["followers_engaged"].int()), (Some(1), Some(1)));
    assert_close!(b2["followers_engaged_share"].float(), 0.5);
    assert_eq!(b2["engagement_in"].int(), Some(3));
    assert_close!(b2["engagement_from_followers_share"].float(), 1.0);
    assert_close!(b2["top1pct_engager_share"].float(), 1.0);
    assert_eq!(b2["reach_2hop"].int(), Some(2), "4 and 5 follow its follower 1");

    let b9 = by_id(&rows, 9);
    assert_eq!(b9["followers"].int(), Some(0));
    assert_eq!(b9["follow_back_rate"].float(), None);
    assert_eq!((b9["engagers"].int(), b9["followers_engaged"].int()), (Some(2), Some(0)));
    assert_eq!(b9["followers_engaged_share"].float(), None, "no followers");
    assert_close!(b9["engagement_from_followers_share"].float(), 0.0);
    assert_close!(b9["top1pct_engager_share"].float(), 2.0 / 3.0, "⌈0.01·2⌉ = 1 engager");
    assert_eq!(b9["reach_2hop"].int(), Some(0));
}

#[test]
fn manifest_counts_every_cleaning_rule() {
    let (_f, out) = run_worked_example();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("_manifest.json")).unwrap()).unwrap();
    let r = &manifest["rejected"];
    assert_eq!(r["null_id"], 2);
    assert_eq!(r["self_loop"], 2);
    assert_eq!(r["duplicate_follow"], 1);
    assert_eq!(r["outside_window"], 0);
    assert_eq!(r["duplicate_account"], 1);
    assert_eq!(r["by_dataset"]["follows"]["self_loop"], 1);
    assert_eq!(r["by_dataset"]["interactions"]["null_id"], 1);
    assert_eq!(manifest["tables"]["account_metrics"]["rows"], 6);
    assert_eq!(manifest["inputs"]["follows"]["rows"], 12);
    assert_eq!(manifest["warnings"][0], "listed brands that are not accounts: 777");
    assert!(out.join("_SUCCESS").exists());
}

#[test]
fn without_interactions_engagement_is_zero_or_null() {
    let follows = [(Some(1), Some(2), Some(S)), (Some(2), Some(1), Some(2 * S)), (Some(3), Some(1), None)];
    let fixture = Fixture::new(&follows, None, None);
    let out = fixture.run(fixture.args());
    let p = &read_table(&out, "population_summary")[0];
    assert_eq!(p["interaction_events"].int(), Some(0));
    assert_eq!(p["interaction_pair_reciprocity"].float(), None);
    assert_eq!(p["interaction_reciprocity"].float(), None);
    assert_eq!(p["mutual_dyads_hollow"].int(), Some(1), "a mutual with no events is hollow");
    assert_close!(p["followback_latency_median_s"].float(), 1.0, "odd count of one");
    let a1 = by_id(&read_table(&out, "account_metrics"), 1).clone();
    assert_eq!(a1["interactions_out"].int(), Some(0));
    assert_eq!(a1["top1_share"].float(), None);
    assert_eq!(a1["camp"].str(), Some("insufficient"), "2 followers < default min_followers 10");
    assert!(read_table(&out, "brand_audience").is_empty(), "no brands: an empty table, still written");
}

#[test]
fn window_keeps_events_in_start_inclusive_end_exclusive() {
    let follows = [(Some(1), Some(2), None)];
    let t0 = 1_767_225_600 * S; // 2026-01-01T00:00:00Z
    let events = [
        (Some(1), Some(2), Some(t0 - 1)),              // before: out
        (Some(1), Some(2), Some(t0)),                  // at start: in
        (Some(1), Some(3), Some(t0 + 86_400 * S - 1)), // last µs: in
        (Some(1), Some(2), Some(t0 + 86_400 * S)),     // at end: out
        (Some(1), Some(2), None),                      // no time: out
        (Some(4), Some(5), Some(t0 - S)),              // out, and 4 and 5 are then not accounts
    ];
    let fixture = Fixture::new(&follows, Some(&events), None);
    let mut args = fixture.args();
    args.window_start = Some("2026-01-01T00:00:00Z".into());
    args.window_end = Some("2026-01-02T00:00:00Z".into());
    let out = fixture.run(args);
    let p = &read_table(&out, "population_summary")[0];
    assert_eq!(p["interaction_events"].int(), Some(2));
    assert_eq!(p["accounts"].int(), Some(3), "ids seen only in dropped rows are not accounts");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("_manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["rejected"]["outside_window"], 4);
}

#[test]
fn ties_in_top_partners_and_even_medians() {
    // 1 sends 2 events to each of 6 partners (all followed): ties everywhere.
    let mut follows = Vec::new();
    let mut events = Vec::new();
    for p in 2..8 {
        follows.push((Some(1), Some(p), Some(100 * S)));
        follows.push((Some(p), Some(1), Some((100 - p) * S))); // 1 followed back each: latency p s
        events.push((Some(1), Some(p), None));
        events.push((Some(1), Some(p), None));
    }
    let fixture = Fixture::new(&follows, Some(&events), None);
    let out = fixture.run(fixture.args());
    let a1 = by_id(&read_table(&out, "account_metrics"), 1).clone();
    assert_close!(a1["top1_share"].float(), 1.0 / 6.0);
    assert_close!(a1["top5_share"].float(), 5.0 / 6.0);
    assert_eq!(a1["handful_80"].int(), Some(5), "4 of 6 is 66.7%, 5 of 6 is 83.3%");
    assert_close!(a1["effective_partners"].float(), 6.0);
    assert_close!(a1["gini_following"].float(), 0.0);
    assert_eq!(a1["followbacks_given"].int(), Some(6));
    assert_close!(a1["followback_latency_median_s"].float(), 4.5, "latencies 2..7 s: (4 + 5) / 2");
}

/// Row groups are decoded straight into place, 64Ki rows a batch; a null id in a later batch
/// of a group, after a batch with none, must still drop its own row and no other.
#[test]
fn regression_null_ids_in_a_later_batch_drop_their_own_rows() {
    let rows = 150_000;
    let nulls = [10, 145_000];
    let follows: Vec<crate::common::FollowRow> = (0..rows)
        .map(|i| {
            let followee = if nulls.contains(&i) { 5 } else { 1_000_000 + i };
            let follower = (!nulls.contains(&i)).then_some(1 + i % 1000);
            (follower, Some(followee), Some(S + i))
        })
        .collect();
    let fixture = Fixture::new(&follows, None, None);
    let out = fixture.run(fixture.args());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("_manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["rejected"]["null_id"], 2);
    let accounts = read_table(&out, "account_metrics");
    assert_eq!(accounts.len(), 1000 + rows as usize - 2, "every other row's followee is an account");
    assert!(accounts.iter().all(|a| a["account_id"].int() != Some(0)), "a null follower never becomes an account");
}
