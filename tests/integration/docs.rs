//! What the docs promise, run as written: the README's sample command and its summary, and
//! `generate --evolve-from`, the bundled sample's second night.

use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reciprocity"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// The summary lines the README shows after "The first prints a summary like:".
fn readme_summary() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let after = readme.split("The first prints a summary like:").nth(1).expect("the README shows the summary");
    let block = after.split("```").nth(1).expect("in a code block");
    block.lines().skip(1).take_while(|l| l.trim() != "...").map(str::to_string).collect()
}

/// `-> out/sample/dt=2026-11-28` and `-> /abs/out/sample/dt=<today>` say the same.
fn without_out_folder(line: &str) -> String {
    match line.split_once(" -> ") {
        Some((head, _)) => head.to_string(),
        None => line.to_string(),
    }
}

#[test]
fn the_readme_sample_command_prints_the_readme_s_summary() {
    // `cargo run --release -- run --job jobs/sample.toml`, as the README says.
    let done = bin().args(["run", "--job", "jobs/sample.toml"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "{stderr}");
    let want = readme_summary();
    assert!(want.len() >= 5, "the README shows the summary's first lines: {want:?}");
    assert!(want[0].contains("-> out/sample/dt="), "{}", want[0]);
    let got: Vec<&str> = stderr.lines().collect();
    let start = got.iter().position(|l| l.starts_with("reciprocity: ")).expect("a summary");
    for (i, line) in want.iter().enumerate() {
        assert_eq!(without_out_folder(got[start + i]), without_out_folder(line), "summary line {i}");
    }
    assert!(got[start].contains("out/sample/dt="), "{}", got[start]);
}

#[test]
fn generate_evolve_from_writes_a_next_night_that_a_run_compares_with() {
    let dir = tempfile::tempdir().unwrap();
    let night1 = dir.path().join("night1");
    let generated = bin()
        .args(["generate", "--out", night1.to_str().unwrap(), "--accounts", "400", "--seed", "3"])
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let evolve = |out: &Path| {
        let done = bin()
            .args(["generate", "--out", out.to_str().unwrap(), "--evolve-from", night1.to_str().unwrap()])
            .args(["--seed", "5"])
            .output()
            .unwrap();
        assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    };
    let (night2, again) = (dir.path().join("night2"), dir.path().join("again"));
    evolve(&night2);
    evolve(&again);
    let bytes = |root: &Path| {
        let mut files: Vec<_> = walk(root)
            .into_iter()
            .map(|p| (p.strip_prefix(root).unwrap().to_owned(), std::fs::read(&p).unwrap()))
            .collect();
        files.sort();
        files
    };
    assert_eq!(bytes(&night2), bytes(&again), "the next night is deterministic for a seed");
    assert!(night2.join("follows").is_dir());

    // Tonight is night 2, compared with night 1: follows were added and removed.
    let out = dir.path().join("out");
    let follows = |n: &Path| n.join("follows").to_str().unwrap().to_string();
    let done = bin()
        .args(["run", "--follows", &follows(&night2), "--previous-follows", &follows(&night1)])
        .args(["--out", out.to_str().unwrap(), "--log-format", "json"])
        .output()
        .unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let summary = crate::common::read_table(&out, "population_summary");
    let count = |column: &str| match &summary[0][column] {
        crate::common::Cell::Int(Some(n)) => *n,
        other => panic!("{column}: {other:?}"),
    };
    assert!(count("edges_added") > 0 && count("edges_removed") > 0, "{:?}", summary[0]);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}
