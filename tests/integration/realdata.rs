//! Real public networks (../shared/realdata, see its README) reproduce their published
//! statistics under the contract's self-loop rule (loops dropped, as SuiteSparse does).
//!
//! The datasets live beside the project in CI, not in a user's clone: without them each test
//! says so and skips.

use std::path::{Path, PathBuf};

use crate::common::read_table;
use reciprocity::config::cli::{LogFormat, RunArgs};
use reciprocity::config::job::Job;
use reciprocity::output::progress::Reporter;

fn realdata(dataset: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata").join(dataset);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipped: {} is not here (it is beside the project in CI only)", path.display());
        None
    }
}

fn run(mut args: RunArgs, out: &Path) -> serde_json::Value {
    args.out = Some(out.display().to_string());
    args.date = Some("2026-11-28".into());
    let job = Job::from_args(&args).unwrap();
    reciprocity::run(&job, &Reporter::new(LogFormat::Json, "test".into())).unwrap();
    serde_json::from_slice(&std::fs::read(out.join("_manifest.json")).unwrap()).unwrap()
}

fn follows_only(dir: &Path) -> RunArgs {
    RunArgs { follows: Some(dir.join("follows").display().to_string()), ..Default::default() }
}

fn assert_near(got: Option<f64>, published: f64, digits: i32) {
    let tolerance = 0.5 * 10f64.powi(-digits);
    let got = got.expect("a value");
    assert!((got - published).abs() <= tolerance, "got {got}, published {published} (±{tolerance})");
}

#[test]
fn wiki_vote_matches_snap() {
    let Some(dir) = realdata("wiki-vote") else { return };
    let out = tempfile::tempdir().unwrap();
    run(follows_only(&dir), out.path());
    let p = &read_table(out.path(), "population_summary")[0];
    assert_eq!(p["accounts"].int(), Some(7115));
    assert_eq!(p["follow_edges"].int(), Some(103_689));
    assert_near(p["edge_reciprocity"].float(), 0.056457, 6);
    assert_near(p["gini_degree"].float(), 0.752000, 6);
    assert_eq!(p["followback_latency_median_s"].float(), None, "no timestamps");
}

#[test]
fn bitcoin_otc_matches_snap_and_suitesparse() {
    let Some(dir) = realdata("bitcoin-otc") else { return };
    let out = tempfile::tempdir().unwrap();
    run(follows_only(&dir), out.path());
    let p = &read_table(out.path(), "population_summary")[0];
    assert_eq!(p["accounts"].int(), Some(5881));
    assert_eq!(p["follow_edges"].int(), Some(35_592));
    assert_near(p["edge_reciprocity"].float(), 0.792313, 6);
    assert_near(p["gini_degree"].float(), 0.715474, 6);
    assert!(p["followback_latency_median_s"].float().is_some(), "ms timestamps give latencies");
}

#[test]
fn slashdot_drops_its_self_loops() {
    let Some(dir) = realdata("slashdot0902") else { return };
    let out = tempfile::tempdir().unwrap();
    let manifest = run(follows_only(&dir), out.path());
    assert_eq!(manifest["rejected"]["self_loop"], 78_303);
    assert_eq!(manifest["inputs"]["follows"]["rows"], 948_464);
    let p = &read_table(out.path(), "population_summary")[0];
    assert_eq!(p["follow_edges"].int(), Some(870_161));
    assert_near(p["edge_reciprocity"].float(), 0.841065, 6);
}

#[test]
fn digg_replies_as_interactions_match_konect_counts() {
    let Some(dir) = realdata("digg-reply") else { return };
    let out = tempfile::tempdir().unwrap();
    let events = dir.join("interactions").display().to_string();
    // The reply graph serves as its own follow graph, mapped by column names.
    let args = RunArgs {
        follows: Some(events.clone()),
        interactions: Some(events),
        set: vec!["columns.follows.follower_id=actor_id".into(), "columns.follows.followee_id=target_id".into()],
        ..Default::default()
    };
    let manifest = run(args, out.path());
    assert_eq!(manifest["rejected"]["by_dataset"]["interactions"]["self_loop"], 1_424);
    assert_eq!(manifest["rejected"]["by_dataset"]["follows"]["self_loop"], 1_424);
    let p = &read_table(out.path(), "population_summary")[0];
    assert_eq!(p["interaction_events"].int(), Some(87_627 - 1_424));
    // 86,404 unique pairs less 1,157 unique loop pairs
    assert_eq!(p["follow_edges"].int(), Some(85_247));
    assert_near(p["interaction_pair_reciprocity"].float(), 0.002158, 6);
    assert_near(p["edge_reciprocity"].float(), 0.002158, 6);
}
