//! The report: a pure rendering of the tables, snapshot-tested on a tiny fixed population,
//! written by `run --report` and by `reciprocity report`.

use std::path::Path;

use crate::common::Fixture;
use reciprocity::output::report::{render, BrandSelection};

const S: i64 = 1_000_000;

fn tiny() -> Fixture {
    let follows = [
        (Some(1), Some(2), Some(100 * S)),
        (Some(2), Some(1), Some(50 * S)),
        (Some(1), Some(3), Some(10 * S)),
        (Some(3), Some(1), Some(30 * S)),
        (Some(4), Some(1), Some(5 * S)),
        (Some(5), Some(1), Some(S)),
        (Some(5), Some(9), Some(S)),
        (Some(2), Some(9), Some(S)),
    ];
    let events =
        [(Some(1), Some(2), None), (Some(2), Some(1), None), (Some(4), Some(9), None), (Some(5), Some(9), None)];
    let accounts = [(Some(9), Some("brand")), (Some(1), Some("person"))];
    Fixture::new(&follows, Some(&events), Some(&accounts))
}

fn tables(out: &Path) -> reciprocity::output::report::data::Tables {
    let location = reciprocity::io::store::open(out.to_str().unwrap(), &Default::default()).unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(reciprocity::output::report::page::read_tables(&location)).unwrap()
}

#[test]
fn the_page_matches_its_snapshot() {
    let fixture = tiny();
    let mut args = fixture.args();
    args.min_followers = Some(1);
    let out = fixture.run(args);
    let html = render("tiny population", &tables(&out), &BrandSelection::Top(20)).unwrap();
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/report_tiny.html");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot, &html).unwrap();
    }
    let want = std::fs::read_to_string(&snapshot).expect("snapshot exists (UPDATE_SNAPSHOTS=1 writes it)");
    assert!(html == want, "report differs from {}; rerun with UPDATE_SNAPSHOTS=1 if intended", snapshot.display());
}

#[test]
fn the_page_has_every_section_and_no_external_resources() {
    let fixture = tiny();
    let mut args = fixture.args();
    args.report = true;
    let out = fixture.run(args);
    let html = std::fs::read_to_string(out.join("report.html")).expect("run --report writes OUT/report.html");
    let manifest = std::fs::read_to_string(out.join("_manifest.json")).unwrap();
    assert!(manifest.contains("\"report\": \"report.html\""), "the manifest lists the page");
    for section in [
        "id=\"population\"",
        "Follow-back by audience size",
        "Follow-back camps",
        "talk to a handful",
        "Lorenz curve",
        "id=\"brands\"",
        "id=\"brand-9\"",
        "<svg",
    ] {
        assert!(html.contains(section), "{section} missing");
    }
    // (SVG's xmlns URI is a name, not something fetched.)
    for external in ["<script", "<link", "src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(external), "self-contained: found {external}");
    }
    assert!(!html.contains("chart unavailable"), "every chart rendered");
}

#[test]
fn the_report_command_renders_chosen_brands_from_a_finished_out() {
    let fixture = tiny();
    let out = fixture.run(fixture.args());
    let page = fixture.path("page.html");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_reciprocity"))
        .args(["report", out.to_str().unwrap(), "--brand", "9", "--html", page.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("id=\"brand-9\""));

    std::fs::remove_file(out.join("_SUCCESS")).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_reciprocity"))
        .args(["report", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "an unfinished OUT is refused");
}
