//! Night-to-night changes: hand-computed before/after pairs for every column, a property
//! test against a naive set-difference implementation, and runs without a previous night.

use std::collections::BTreeSet;

use crate::common::{follows_batch, read_table, write_batch, Cell, Fixture, FollowRow, Row};
use proptest::prelude::*;

fn run_with_previous(current: &[FollowRow], previous: &[FollowRow]) -> (Fixture, std::path::PathBuf) {
    run_in_buckets(current, previous, None)
}

fn run_in_buckets(
    current: &[FollowRow],
    previous: &[FollowRow],
    buckets: Option<usize>,
) -> (Fixture, std::path::PathBuf) {
    let fixture = Fixture::new(current, None, None);
    write_batch(&fixture.path("previous/follows/part-0.parquet"), &follows_batch(previous));
    let mut args = fixture.args();
    args.previous_follows = Some(fixture.path("previous/follows").display().to_string());
    args.buckets = buckets;
    let out = fixture.run(args);
    (fixture, out)
}

fn e(a: i64, b: i64) -> FollowRow {
    (Some(a), Some(b), Some(1_000_000))
}

fn row(rows: &[Row], id: i64) -> Option<&Row> {
    rows.iter().find(|r| r["account_id"].int() == Some(id))
}

fn counts(r: &Row) -> [i64; 8] {
    [
        "follows_added",
        "follows_removed",
        "followers_gained",
        "followers_lost",
        "mutuals_gained",
        "mutuals_lost",
        "dropped_after_followback",
        "following_prev",
    ]
    .map(|c| r[c].int().unwrap())
}

#[test]
fn hand_computed_before_and_after() {
    // P: 1↔2, 1↔3, 4→1, 7→1 (7 exists only in P)
    // C: 1↔2 again but 2's follow is a re-follow with a later time (still mutual: no change),
    //    1→3 only (3 unfollowed 1), 4↔1 (1 followed back), 8→4 (8 exists only in C)
    let previous = [e(1, 2), e(2, 1), e(1, 3), e(3, 1), e(4, 1), e(7, 1)];
    let current = [e(1, 2), (Some(2), Some(1), Some(9_000_000)), e(1, 3), e(4, 1), e(1, 4), e(8, 4)];
    let (_f, out) = run_with_previous(&current, &previous);
    let rows = read_table(&out, "follow_changes");
    let ids: Vec<i64> = rows.iter().map(|r| r["account_id"].int().unwrap()).collect();
    assert_eq!(ids, vec![1, 3, 4, 7, 8], "2 changed nothing; sorted by account_id");
    //                                         added removed gained lost m+ m- dropped prev
    assert_eq!(counts(row(&rows, 1).unwrap()), [1, 0, 0, 2, 1, 1, 1, 2]);
    assert_eq!(counts(row(&rows, 3).unwrap()), [0, 1, 0, 0, 0, 1, 0, 1]);
    assert_eq!(counts(row(&rows, 4).unwrap()), [0, 0, 2, 0, 1, 0, 0, 1]);
    assert_eq!(counts(row(&rows, 7).unwrap()), [0, 1, 0, 0, 0, 0, 0, 1], "an account only in P");
    assert_eq!(counts(row(&rows, 8).unwrap()), [1, 0, 0, 0, 0, 0, 0, 0], "an account only in C");

    let accounts: Vec<i64> =
        read_table(&out, "account_metrics").iter().map(|r| r["account_id"].int().unwrap()).collect();
    assert!(!accounts.contains(&7), "an account only in the previous night is not in account_metrics");

    let p = &read_table(&out, "population_summary")[0];
    assert_eq!((p["edges_added"].int(), p["edges_removed"].int()), (Some(2), Some(2)));
    assert_eq!((p["mutual_dyads_gained"].int(), p["mutual_dyads_lost"].int()), (Some(1), Some(1)));
    assert_eq!(p["mutual_tie_break_rate"].float(), Some(0.5), "1 of P's 2 mutual dyads broke");
    assert_eq!(p["one_way_tie_break_rate"].float(), Some(0.5), "7→1 broke, 4→1 did not");
    assert_eq!(p["mass_unfollowers"].int(), Some(0));
}

#[test]
fn mass_unfollow_starts_at_exactly_ninety_percent() {
    // 1 follows 50 accounts and drops 45 (90%); 2 follows 50 and drops 44 (88%).
    let mut previous = Vec::new();
    let mut current = Vec::new();
    for t in 100..150 {
        previous.push(e(1, t));
        previous.push(e(2, t));
        if t >= 145 {
            current.push(e(1, t));
        }
        if t >= 144 {
            current.push(e(2, t));
        }
    }
    let (_f, out) = run_with_previous(&current, &previous);
    let rows = read_table(&out, "follow_changes");
    assert_eq!(row(&rows, 1).unwrap()["mass_unfollow"], Cell::Bool(Some(true)), "45 of 50 is exactly 90%");
    assert_eq!(row(&rows, 2).unwrap()["mass_unfollow"], Cell::Bool(Some(false)), "44 of 50 is 88%");
    assert_eq!(read_table(&out, "population_summary")[0]["mass_unfollowers"].int(), Some(1));
}

#[test]
fn without_a_previous_night_there_is_no_diff() {
    let fixture = Fixture::new(&[e(1, 2), e(2, 1)], None, None);
    let out = fixture.run(fixture.args());
    assert!(!out.join("follow_changes").exists());
    let p = &read_table(&out, "population_summary")[0];
    for c in ["edges_added", "edges_removed", "mutual_dyads_gained", "mutual_dyads_lost", "mass_unfollowers"] {
        assert_eq!(p[c], Cell::Int(None), "{c}");
    }
    for c in ["mutual_tie_break_rate", "one_way_tie_break_rate"] {
        assert_eq!(p[c], Cell::Float(None), "{c}");
    }
}

#[test]
fn a_rerun_without_previous_removes_the_stale_changes_table() {
    let (fixture, out) = run_with_previous(&[e(1, 2)], &[e(2, 1)]);
    assert!(out.join("follow_changes").exists());
    let mut args = fixture.args();
    args.overwrite = true;
    fixture.run(args);
    let stale = std::fs::read_dir(out.join("follow_changes")).map_or(0, |d| d.count());
    assert_eq!(stale, 0, "no stale table objects from the earlier run");
}

// ---- naive set-difference oracle ----

fn edge_set(rows: &[FollowRow]) -> BTreeSet<(i64, i64)> {
    rows.iter().filter_map(|&(a, b, _)| Some((a?, b?))).filter(|(a, b)| a != b).collect()
}

/// Rows (8 counts each), their ids, the 5 population counts and the 2 tie-break rates.
type NaiveChanges = (Vec<[i64; 8]>, Vec<i64>, [i64; 5], [Option<f64>; 2]);

fn naive(previous: &[FollowRow], current: &[FollowRow]) -> NaiveChanges {
    let (p, c) = (edge_set(previous), edge_set(current));
    let ids: BTreeSet<i64> = p.iter().chain(&c).flat_map(|&(a, b)| [a, b]).collect();
    let mutual = |s: &BTreeSet<(i64, i64)>, a, b| s.contains(&(a, b)) && s.contains(&(b, a));
    let mut rows = Vec::new();
    let mut row_ids = Vec::new();
    let mut mass = 0;
    for &a in &ids {
        let cnt = |f: &dyn Fn(i64) -> bool| ids.iter().filter(|&&b| b != a && f(b)).count() as i64;
        let r = [
            cnt(&|b| c.contains(&(a, b)) && !p.contains(&(a, b))),
            cnt(&|b| p.contains(&(a, b)) && !c.contains(&(a, b))),
            cnt(&|b| c.contains(&(b, a)) && !p.contains(&(b, a))),
            cnt(&|b| p.contains(&(b, a)) && !c.contains(&(b, a))),
            cnt(&|b| mutual(&c, a, b) && !mutual(&p, a, b)),
            cnt(&|b| mutual(&p, a, b) && !mutual(&c, a, b)),
            cnt(&|b| mutual(&p, a, b) && !c.contains(&(b, a))),
            cnt(&|b| p.contains(&(a, b))),
        ];
        if r[7] >= 50 && 10 * r[1] >= 9 * r[7] {
            mass += 1;
        }
        if r[..7].iter().any(|&x| x > 0) {
            rows.push(r);
            row_ids.push(a);
        }
    }
    let pm = p.iter().filter(|&&(a, b)| a < b && p.contains(&(b, a))).count() as i64;
    let pa = p.len() as i64 - 2 * pm;
    let lost = p.iter().filter(|&&(a, b)| a < b && mutual(&p, a, b) && !mutual(&c, a, b)).count() as i64;
    let gained = c.iter().filter(|&&(a, b)| a < b && mutual(&c, a, b) && !mutual(&p, a, b)).count() as i64;
    let one_way_broken = p.iter().filter(|&&(a, b)| !p.contains(&(b, a)) && !c.contains(&(a, b))).count() as i64;
    let rate = |x: i64, y: i64| (y > 0).then(|| x as f64 / y as f64);
    (
        rows,
        row_ids,
        [c.difference(&p).count() as i64, p.difference(&c).count() as i64, gained, lost, mass],
        [rate(lost, pm), rate(one_way_broken, pa)],
    )
}

fn id() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![1 => Just(None), 19 => (0i64..8).prop_map(Some)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn changes_agree_with_naive_set_differences(
        previous in prop::collection::vec((id(), id(), Just(None)), 0..40),
        current in prop::collection::vec((id(), id(), Just(None)), 1..40),
        buckets in prop::option::of(1usize..5),
    ) {
        // In buckets, accounts seen only the night before get the last ranges.
        let (_f, out) = run_in_buckets(&current, &previous, buckets);
        let (want_rows, want_ids, want_counts, want_rates) = naive(&previous, &current);
        let rows = read_table(&out, "follow_changes");
        let ids: Vec<i64> = rows.iter().map(|r| r["account_id"].int().unwrap()).collect();
        prop_assert_eq!(ids, want_ids);
        let got: Vec<[i64; 8]> = rows.iter().map(counts).collect();
        prop_assert_eq!(got, want_rows);
        let p = &read_table(&out, "population_summary")[0];
        let got_counts = ["edges_added", "edges_removed", "mutual_dyads_gained", "mutual_dyads_lost", "mass_unfollowers"]
            .map(|c| p[c].int().unwrap());
        prop_assert_eq!(got_counts, want_counts);
        prop_assert_eq!([p["mutual_tie_break_rate"].float(), p["one_way_tie_break_rate"].float()], want_rates);
    }
}
