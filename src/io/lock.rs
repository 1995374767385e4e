//! The run lock: `OUT/_LOCK`, created with a conditional put so that two runs never write
//! the same OUT at once.
//!
//! The lock object names its holder (run id, host, pid, time). A second run finds it and
//! refuses; a lock older than the job's `stale_lock_after_s` (its holder presumably died) is
//! taken over, and the takeover is logged. Stores without conditional put fall back to a
//! check-then-put, which narrows the race but cannot close it; the README says so.

use std::time::Duration;

use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::io::store::Location;

pub const LOCK: &str = "_LOCK";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Holder {
    run_id: String,
    host: String,
    pid: u32,
    acquired_at: String,
}

/// A held lock; release it when the run ends, whatever the outcome.
#[derive(Debug)]
pub struct RunLock {
    out: Location,
    path: Path,
}

fn holder(run_id: &str) -> Holder {
    Holder {
        run_id: run_id.to_string(),
        host: std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default(),
        pid: std::process::id(),
        acquired_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    }
}

/// Takes the lock on OUT, or says who holds it. `on_takeover` hears of a stale lock taken over.
pub async fn acquire(
    out: &Location,
    run_id: &str,
    stale_after: Duration,
    on_takeover: impl Fn(String),
) -> Result<RunLock> {
    let path = out.child(LOCK);
    let body = serde_json::to_vec(&holder(run_id)).map_err(|e| Error::internal("writing the lock", e))?;
    for attempt in 0..2 {
        let create = PutOptions { mode: PutMode::Create, ..Default::default() };
        let result = match out.store.put_opts(&path, PutPayload::from(body.clone()), create).await {
            Err(object_store::Error::NotImplemented { .. }) => match out.store.head(&path).await {
                Ok(_) => Err(object_store::Error::AlreadyExists { path: path.to_string(), source: "exists".into() }),
                Err(_) => out.store.put(&path, PutPayload::from(body.clone())).await,
            },
            other => other,
        };
        match result {
            Ok(_) => return Ok(RunLock { out: out.clone(), path }),
            Err(object_store::Error::AlreadyExists { .. }) | Err(object_store::Error::Precondition { .. }) => {}
            Err(e) => return Err(Error::storage(out.display(&path), "lock", e)),
        }
        let existing = match out.store.get(&path).await {
            Ok(found) => found,
            // Released between our put and our get: try again.
            Err(object_store::Error::NotFound { .. }) => continue,
            Err(e) => return Err(Error::storage(out.display(&path), "read lock", e)),
        };
        let modified = existing.meta.last_modified;
        let bytes = existing.bytes().await.map_err(|e| Error::storage(out.display(&path), "read lock", e))?;
        let found = serde_json::from_slice::<Holder>(&bytes).ok();
        // A retried create whose first attempt did land finds our own lock.
        if found.as_ref().is_some_and(|h| h.run_id == run_id && h.pid == std::process::id()) {
            return Ok(RunLock { out: out.clone(), path });
        }
        let who = found
            .map(|h| format!("run {} (host {}, pid {}) since {}", h.run_id, h.host, h.pid, h.acquired_at))
            .unwrap_or_else(|| format!("an unknown run since {modified}"));
        let age = (chrono::Utc::now() - modified).to_std().unwrap_or_default();
        if age < stale_after || attempt > 0 {
            return Err(Error::Locked { out: out.url(), holder: who });
        }
        on_takeover(format!(
            "taking over a stale lock on {} held by {who} ({}s old, stale after {}s)",
            out.url(),
            age.as_secs(),
            stale_after.as_secs()
        ));
        if let Err(e) = crate::io::store::delete_object(out.store.as_ref(), &path).await {
            return Err(Error::storage(out.display(&path), "remove stale lock", e));
        }
    }
    Err(Error::Locked { out: out.url(), holder: "another run that took over the same stale lock".into() })
}

impl RunLock {
    /// Removes the lock object.
    pub async fn release(self) -> Result<()> {
        crate::io::store::delete_object(self.out.store.as_ref(), &self.path)
            .await
            .map_err(|e| Error::storage(self.out.display(&self.path), "release lock", e))
    }
}
