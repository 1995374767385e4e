//! Which process on which machine: what a lock or a spill folder records of its owner, so
//! that a later run can tell an owner that is gone (and its leftovers safe to take over or
//! remove) from one that is merely slow.
//!
//! "This machine" is the same host name and boot id (`/proc/sys/kernel/random/boot_id`);
//! "gone" is no process with that pid, or one started at another time (a reused pid). Where
//! /proc does not exist, nothing is ever judged gone.

use serde::{Deserialize, Serialize};

/// A process, as its leftovers record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessId {
    pub host: String,
    #[serde(default)]
    pub boot_id: Option<String>,
    pub pid: u32,
    /// The process's start time in clock ticks since boot.
    #[serde(default)]
    pub pid_start: Option<u64>,
}

impl ProcessId {
    /// This process.
    pub fn me() -> ProcessId {
        let pid = std::process::id();
        ProcessId { host: host_name(), boot_id: boot_id(), pid, pid_start: process_start(pid) }
    }

    /// True if the process ran on this machine and is gone.
    pub fn is_gone(&self) -> bool {
        let same_machine = self.boot_id.is_some() && self.boot_id == boot_id() && self.host == host_name();
        same_machine && process_start(self.pid).is_none_or(|start| self.pid_start.is_some_and(|s| s != start))
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default()
}

fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok().map(|b| b.trim().to_string())
}

/// The start time of process `pid` (field 22 of /proc/PID/stat), None if there is no such process.
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    stat[stat.rfind(')')? + 1..].split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_an_exited_child_or_a_reused_pid_is_gone() {
        let me = ProcessId::me();
        assert!(!me.is_gone());
        if me.boot_id.is_none() {
            return; // no /proc: nothing is judged gone
        }
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(ProcessId { pid, pid_start: None, ..me.clone() }.is_gone());
        assert!(ProcessId { pid_start: me.pid_start.map(|s| s + 1), ..me.clone() }.is_gone(), "same pid, other start");
        assert!(
            !ProcessId { host: "elsewhere".into(), pid, ..me }.is_gone(),
            "another machine's process is not ours to judge"
        );
    }
}
