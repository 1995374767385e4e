//! Property test: on random small populations with duplicates, self-loops, null ids, null and
//! equal timestamps, the job's tables equal a naive implementation of the contract — run in
//! memory or in a random number of buckets (out of core).

use crate::common::oracle::{expected, Params};
use crate::common::{assert_rows_match, read_table, AccountRow, EventRow, Fixture, FollowRow};
use proptest::prelude::*;

const S: i64 = 1_000_000;

fn id() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![1 => Just(None), 19 => (0i64..9).prop_map(Some)]
}

fn time() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![1 => Just(None), 5 => (0i64..6).prop_map(|t| Some(t * S))]
}

fn follow() -> impl Strategy<Value = FollowRow> {
    (id(), id(), time())
}

fn account() -> impl Strategy<Value = AccountRow> {
    (id(), prop_oneof![Just(None), Just(Some("brand")), Just(Some("person"))])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn job_agrees_with_the_naive_contract(
        follows in prop::collection::vec(follow(), 1..50),
        events in prop::collection::vec((id(), id(), time()), 0..60),
        accounts in prop::collection::vec(account(), 0..6),
        min_followers in 0u64..4,
        brands in prop::collection::vec(0i64..11, 0..3),
        window in prop::option::of((0i64..3, 3i64..6)),
        buckets in prop::option::of(1usize..6),
    ) {
        let events: Vec<EventRow> = events;
        let fixture = Fixture::new(&follows, Some(&events), Some(&accounts));
        let mut args = fixture.args();
        args.min_followers = Some(min_followers);
        args.brands = brands.iter().map(|b| b.to_string()).collect();
        args.buckets = buckets;
        let rfc = |s: i64| chrono::DateTime::from_timestamp(s, 0).unwrap().to_rfc3339();
        if let Some((start, end)) = window {
            args.window_start = Some(rfc(start));
            args.window_end = Some(rfc(end));
        }
        let out = fixture.run(args);
        let params = Params { min_followers, window: window.map(|(s, e)| (s * S, e * S)), brands };
        let want = expected(&follows, &events, &accounts, &params);
        assert_rows_match("account_metrics", &read_table(&out, "account_metrics"), &want.account_metrics);
        assert_rows_match("population_summary", &read_table(&out, "population_summary"), &want.population_summary);
        assert_rows_match(
            "reciprocity_by_followers",
            &read_table(&out, "reciprocity_by_followers"),
            &want.reciprocity_by_followers,
        );
        assert_rows_match("brand_audience", &read_table(&out, "brand_audience"), &want.brand_audience);
    }
}
