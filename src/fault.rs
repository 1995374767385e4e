//! Fault points: named places where a test makes the run crash, fail a write or pause.
//!
//! `RECIPROCITY_FAULT=<point>[#<n>][:<action>]` acts at the n-th time (default: the first)
//! the run reaches `<point>`:
//!
//! - `abort` (default): the process dies on the spot, as under `kill -9`: no destructor runs,
//!   no lock is released, no spill folder is removed;
//! - `enospc`: the write at that point fails with "No space left on device";
//! - `pause=<ms>`: the run prints `fault point <point>: pausing` on stderr and sleeps, so a
//!   test can change the world (rewrite an input, take the lock) at a known moment.
//!
//! The points, in the order a run meets them: `after_scan`, `mid_spill` (each spill flush),
//! `spill_write` (where `enospc` applies), `mid_bucket` (after each bucket's kernels),
//! `after_part` (after each table part is uploaded), `after_manifest`, `before_success`,
//! `lock_renewal` (each renewal of the lock's lease), `before_release`. Unset, a point costs
//! one relaxed load. The variable is for tests; docs/architecture.md lists it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

pub const VARIABLE: &str = "RECIPROCITY_FAULT";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Abort,
    NoSpace,
    Pause(Duration),
}

#[derive(Debug)]
struct Fault {
    point: String,
    nth: usize,
    action: Action,
    reached: AtomicUsize,
}

fn parse(spec: &str) -> Option<Fault> {
    let (target, action) = spec.split_once(':').unwrap_or((spec, "abort"));
    let (point, nth) = match target.split_once('#') {
        Some((point, n)) => (point, n.parse().ok()?),
        None => (target, 1),
    };
    let action = match action {
        "abort" => Action::Abort,
        "enospc" => Action::NoSpace,
        pause => Action::Pause(Duration::from_millis(pause.strip_prefix("pause=")?.parse().ok()?)),
    };
    Some(Fault { point: point.to_string(), nth, action, reached: AtomicUsize::new(0) })
}

fn configured() -> Option<&'static Fault> {
    static FAULT: OnceLock<Option<Fault>> = OnceLock::new();
    FAULT
        .get_or_init(|| {
            let spec = std::env::var(VARIABLE).ok()?;
            let fault = parse(&spec);
            if fault.is_none() {
                eprintln!("warning: ignoring {VARIABLE}={spec:?} (expected <point>[#<n>][:abort|enospc|pause=<ms>])");
            }
            fault
        })
        .as_ref()
}

/// The action due at this arrival at `point`, if any.
fn due(point: &str) -> Option<Action> {
    let fault = configured().filter(|f| f.point == point)?;
    let arrival = fault.reached.fetch_add(1, Ordering::Relaxed) + 1;
    (arrival == fault.nth).then_some(fault.action)
}

/// A point where the run may crash or pause.
pub fn point(point: &str) {
    act(point);
}

/// A point where a write may fail as on a full disk (or crash or pause, as at [`point`]).
pub fn write(point: &str) -> std::io::Result<()> {
    match act(point) {
        true => Err(std::io::Error::from_raw_os_error(28)), // ENOSPC
        false => Ok(()),
    }
}

/// Carries out the action due at `point`; true if it is to fail a write.
fn act(point: &str) -> bool {
    match due(point) {
        Some(Action::Abort) => {
            eprintln!("fault point {point}: aborting");
            std::process::abort();
        }
        Some(Action::Pause(pause)) => {
            eprintln!("fault point {point}: pausing");
            std::thread::sleep(pause);
            false
        }
        Some(Action::NoSpace) => true,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_name_a_point_an_arrival_and_an_action() {
        let f = parse("after_part#3:pause=250").unwrap();
        assert_eq!((f.point.as_str(), f.nth, f.action), ("after_part", 3, Action::Pause(Duration::from_millis(250))));
        let f = parse("mid_spill").unwrap();
        assert_eq!((f.nth, f.action), (1, Action::Abort));
        assert_eq!(parse("spill_write:enospc").unwrap().action, Action::NoSpace);
        assert!(parse("x#y").is_none() && parse("x:explode").is_none());
    }
}
