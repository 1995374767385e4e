//! The run lock: `OUT/_LOCK`, a lease its holder renews, so that two runs never write the same
//! OUT at once and a dead holder never blocks the next run for long.
//!
//! The lock object names its holder (run id and [`ProcessId`]) and its lease. It is created
//! with a conditional put (`If-None-Match: *`) and renewed every `renew_every` with a
//! conditional update on the version last written (`If-Match`). Another run takes it over,
//! with a warning naming the dead run, when
//! - its holder ran on this machine (same host name and boot id) and that process is gone:
//!   at once, so a retry after `kill -9` needs no waiting; or
//! - its lease lapsed: it was last renewed more than the holder's `lease_s` ago (by the
//!   store's clock against ours); a lock written without a lease after `stale_without_lease`.
//!
//! A takeover is itself a conditional update, so of two runs only one wins. A holder whose
//! renewal finds another run's lock (or that could not renew within its lease) has lost it:
//! [`Lease::check`] then fails, and every write through [`crate::io::leased_store`] with it.
//! Stores without conditional update (a local file system) renew by reading the lock and
//! rewriting it if it is still ours, a check-then-put that narrows the race but cannot close it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload, PutResult, UpdateVersion};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::io::process::ProcessId;
use crate::io::store::Location;

pub const LOCK: &str = "_LOCK";

/// How long a lock lives unrenewed, and how often its holder renews it.
#[derive(Debug, Clone, Copy)]
pub struct LockTerms {
    pub lease: Duration,
    pub renew_every: Duration,
    /// When a lock that carries no lease (an older version's) counts as abandoned.
    pub stale_without_lease: Duration,
}

impl Default for LockTerms {
    /// A 2-minute lease renewed every 30 s; a lock without a lease is stale after 6 hours.
    fn default() -> Self {
        LockTerms {
            lease: Duration::from_secs(120),
            renew_every: Duration::from_secs(30),
            stale_without_lease: Duration::from_secs(6 * 3600),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Holder {
    run_id: String,
    #[serde(flatten)]
    process: ProcessId,
    acquired_at: String,
    #[serde(default)]
    lease_s: Option<f64>,
}

impl Holder {
    fn me(run_id: &str, lease: Duration) -> Holder {
        Holder {
            run_id: run_id.to_string(),
            process: ProcessId::me(),
            acquired_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            lease_s: Some(lease.as_secs_f64()),
        }
    }

    fn describe(&self) -> String {
        format!("run {} (host {}, pid {}) since {}", self.run_id, self.process.host, self.process.pid, self.acquired_at)
    }
}

/// What a holder of the lock shares with its renewer: whether the lease still holds.
#[derive(Debug, Clone)]
pub struct Lease {
    out: String,
    lease: Duration,
    state: Arc<Mutex<LeaseState>>,
}

#[derive(Debug)]
struct LeaseState {
    renewed: Instant,
    lost: Option<String>,
}

impl Lease {
    fn new(out: String, lease: Duration) -> Lease {
        Lease { out, lease, state: Arc::new(Mutex::new(LeaseState { renewed: Instant::now(), lost: None })) }
    }

    /// Ok while this run still holds OUT; the error once it has lost the lock (another run
    /// took it over, or it could not be renewed within the lease).
    pub fn check(&self) -> Result<()> {
        let state = self.state.lock().expect("lease state");
        let reason = match &state.lost {
            Some(reason) => reason.clone(),
            None if state.renewed.elapsed() > self.lease => {
                format!("the lease was not renewed for {}s", state.renewed.elapsed().as_secs())
            }
            None => return Ok(()),
        };
        Err(Error::LockLost { out: self.out.clone(), reason })
    }

    fn renewed(&self) {
        self.state.lock().expect("lease state").renewed = Instant::now();
    }

    fn lose(&self, reason: String) {
        self.state.lock().expect("lease state").lost.get_or_insert(reason);
    }
}

/// A held lock; release it when the run ends, whatever the outcome.
#[derive(Debug)]
pub struct RunLock {
    out: Location,
    path: Path,
    run_id: String,
    lease: Lease,
    stop: watch::Sender<bool>,
    renewer: tokio::task::JoinHandle<()>,
}

/// Takes the lock on OUT, or says who holds it. `on_takeover` hears of an abandoned lock
/// taken over. Must run inside a multi-threaded tokio runtime: the renewal is a task on it.
pub async fn acquire(out: &Location, run_id: &str, terms: LockTerms, on_takeover: impl Fn(String)) -> Result<RunLock> {
    let path = out.child(LOCK);
    let me = Holder::me(run_id, terms.lease);
    let body = serde_json::to_vec(&me).map_err(|e| Error::internal("writing the lock", e))?;
    let shown = out.display(&path);
    let storage = |operation: &'static str| {
        let shown = shown.clone();
        move |e| Error::storage(shown, operation, e)
    };
    for _ in 0..3 {
        match create(out, &path, &body).await {
            Ok(written) => return Ok(RunLock::start(out, path, run_id, terms, body, written)),
            Err(object_store::Error::AlreadyExists { .. }) | Err(object_store::Error::Precondition { .. }) => {}
            Err(e) => return Err(storage("lock")(e)),
        }
        let existing = match out.store.get(&path).await {
            Ok(found) => found,
            // Released between our put and our get: try again.
            Err(object_store::Error::NotFound { .. }) => continue,
            Err(e) => return Err(storage("read lock")(e)),
        };
        let meta = existing.meta.clone();
        let bytes = existing.bytes().await.map_err(storage("read lock"))?;
        let found = serde_json::from_slice::<Holder>(&bytes).ok();
        // A retried create whose first attempt did land finds our own lock.
        if found.as_ref().is_some_and(|h| h.run_id == run_id && h.process == me.process) {
            let written = PutResult { e_tag: meta.e_tag, version: meta.version, extensions: Default::default() };
            return Ok(RunLock::start(out, path, run_id, terms, body, written));
        }
        let age = (chrono::Utc::now() - meta.last_modified).to_std().unwrap_or_default();
        let who = found
            .as_ref()
            .map(Holder::describe)
            .unwrap_or_else(|| format!("an unknown run since {}", meta.last_modified));
        let Some(why) = abandoned(found.as_ref(), age, terms) else {
            let lease = found.and_then(|h| h.lease_s).map_or(terms.stale_without_lease.as_secs_f64(), |l| l);
            let holder =
                format!("{who}, last renewed {}s ago (taken over once {lease:.0}s pass unrenewed)", age.as_secs());
            return Err(Error::Locked { out: out.url(), holder });
        };
        let version = UpdateVersion { e_tag: meta.e_tag, version: meta.version };
        let update = PutOptions { mode: PutMode::Update(version), ..Default::default() };
        match out.store.put_opts(&path, PutPayload::from(body.clone()), update).await {
            Ok(written) => {
                on_takeover(format!("took over the lock on {} held by {who}: {why}", out.url()));
                return Ok(RunLock::start(out, path, run_id, terms, body, written));
            }
            // Another run renewed or took it first: look again.
            Err(object_store::Error::Precondition { .. }) | Err(object_store::Error::NotFound { .. }) => {}
            // No conditional update here: remove it and race for the create.
            Err(object_store::Error::NotImplemented { .. }) => {
                on_takeover(format!("removing the lock on {} held by {who}: {why}", out.url()));
                crate::io::store::delete_object(out.store.as_ref(), &path).await.map_err(storage("remove lock"))?;
            }
            Err(e) => return Err(storage("take over lock")(e)),
        }
    }
    Err(Error::Locked { out: out.url(), holder: "another run that took over the same lock".into() })
}

/// Why a lock `age` past its last write is abandoned, or None while its holder may be alive.
fn abandoned(holder: Option<&Holder>, age: Duration, terms: LockTerms) -> Option<String> {
    if let Some(h) = holder.filter(|h| h.process.is_gone()) {
        return Some(format!("its process {} on this host is gone", h.process.pid));
    }
    let lease = holder.and_then(|h| h.lease_s).map_or(terms.stale_without_lease, Duration::from_secs_f64);
    (age > lease).then(|| format!("not renewed for {}s (lease {}s)", age.as_secs(), lease.as_secs()))
}

/// Creates the lock if there is none; stores without conditional put check, then put.
async fn create(out: &Location, path: &Path, body: &[u8]) -> object_store::Result<PutResult> {
    let create = PutOptions { mode: PutMode::Create, ..Default::default() };
    match out.store.put_opts(path, PutPayload::from(body.to_vec()), create).await {
        Err(object_store::Error::NotImplemented { .. }) => match out.store.head(path).await {
            Ok(_) => Err(object_store::Error::AlreadyExists { path: path.to_string(), source: "exists".into() }),
            Err(_) => out.store.put(path, PutPayload::from(body.to_vec())).await,
        },
        other => other,
    }
}

impl RunLock {
    fn start(out: &Location, path: Path, run_id: &str, terms: LockTerms, body: Vec<u8>, written: PutResult) -> RunLock {
        let lease = Lease::new(out.url(), terms.lease);
        let (stop, stopped) = watch::channel(false);
        let renewal =
            Renewal { out: out.clone(), path: path.clone(), run_id: run_id.to_string(), body, lease: lease.clone() };
        let renewer = tokio::spawn(renewal.run(written, terms, stopped));
        RunLock { out: out.clone(), path, run_id: run_id.to_string(), lease, stop, renewer }
    }

    /// The lease, for checks before writes.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// Stops renewing and removes the lock object, unless another run has taken it over.
    pub async fn release(self) -> Result<()> {
        let _ = self.stop.send(true);
        let _ = self.renewer.await;
        crate::fault::point("before_release");
        if self.lease.check().is_err() {
            return Ok(());
        }
        let display = self.out.display(&self.path);
        let still_ours = match self.out.store.get(&self.path).await {
            Ok(found) => {
                let bytes = found.bytes().await.map_err(|e| Error::storage(&display, "read lock", e))?;
                serde_json::from_slice::<Holder>(&bytes).is_ok_and(|h| h.run_id == self.run_id)
            }
            Err(object_store::Error::NotFound { .. }) => false,
            Err(e) => return Err(Error::storage(display, "read lock", e)),
        };
        if !still_ours {
            return Ok(());
        }
        crate::io::store::delete_object(self.out.store.as_ref(), &self.path)
            .await
            .map_err(|e| Error::storage(display, "release lock", e))
    }
}

/// The task that keeps a held lock's lease alive.
struct Renewal {
    out: Location,
    path: Path,
    run_id: String,
    body: Vec<u8>,
    lease: Lease,
}

impl Renewal {
    async fn run(self, mut written: PutResult, terms: LockTerms, mut stopped: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = stopped.changed() => return,
                _ = tokio::time::sleep(terms.renew_every) => {}
            }
            crate::fault::point("lock_renewal");
            match self.renew(&written).await {
                Ok(Some(now)) => {
                    written = now;
                    self.lease.renewed();
                }
                Ok(None) => {
                    self.lease.lose("another run took the lock over".into());
                    return;
                }
                // A failed renewal is tried again; Lease::check notices a lapse meanwhile.
                Err(_) => {}
            }
        }
    }

    /// Rewrites the lock if it is still ours: Some(new version), or None if it is not.
    async fn renew(&self, written: &PutResult) -> object_store::Result<Option<PutResult>> {
        let version = UpdateVersion { e_tag: written.e_tag.clone(), version: written.version.clone() };
        let update = PutOptions { mode: PutMode::Update(version), ..Default::default() };
        match self.out.store.put_opts(&self.path, PutPayload::from(self.body.clone()), update).await {
            Ok(now) => Ok(Some(now)),
            Err(object_store::Error::Precondition { .. }) | Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(object_store::Error::NotImplemented { .. }) => self.check_then_put().await,
            Err(e) => Err(e),
        }
    }

    async fn check_then_put(&self) -> object_store::Result<Option<PutResult>> {
        let found = match self.out.store.get(&self.path).await {
            Ok(found) => found.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        if !serde_json::from_slice::<Holder>(&found).is_ok_and(|h| h.run_id == self.run_id) {
            return Ok(None);
        }
        self.out.store.put(&self.path, PutPayload::from(self.body.clone())).await.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(lease_ms: u64, renew_ms: u64) -> LockTerms {
        LockTerms {
            lease: Duration::from_millis(lease_ms),
            renew_every: Duration::from_millis(renew_ms),
            stale_without_lease: Duration::from_secs(3600),
        }
    }

    fn holder(run_id: &str, host: &str, lease_s: f64) -> Vec<u8> {
        let process = ProcessId { host: host.into(), boot_id: None, pid: 1, pid_start: None };
        let h = Holder { run_id: run_id.into(), process, acquired_at: "then".into(), lease_s: Some(lease_s) };
        serde_json::to_vec(&h).unwrap()
    }

    #[test]
    fn a_renewed_lease_holds_and_a_taken_one_is_lost() {
        let runtime = crate::io::runtime(2).unwrap();
        let out = crate::io::store::open("memory://lease-lost/", &Default::default()).unwrap();
        runtime.block_on(async {
            let lock = acquire(&out, "a", terms(400, 20), |_| {}).await.unwrap();
            tokio::time::sleep(Duration::from_millis(600)).await;
            lock.lease().check().expect("renewed past its lease");
            let refused = acquire(&out, "b", terms(400, 20), |_| {}).await.unwrap_err();
            assert!(matches!(refused, Error::Locked { .. }), "{refused}");

            // Another run takes it over (as after a stall): the holder learns it at its next renewal.
            out.store.put(&out.child(LOCK), PutPayload::from(holder("b", "elsewhere", 0.4))).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            let lost = lock.lease().check().unwrap_err();
            assert!(lost.to_string().contains("another run took the lock over"), "{lost}");
            lock.release().await.unwrap();
            let left = out.store.get(&out.child(LOCK)).await.unwrap().bytes().await.unwrap();
            assert_eq!(left.as_ref(), holder("b", "elsewhere", 0.4).as_slice(), "the new holder's lock is left alone");
        });
    }

    #[test]
    fn a_lapsed_lease_is_taken_over_by_a_conditional_update_and_released_at_the_end() {
        let runtime = crate::io::runtime(2).unwrap();
        let out = crate::io::store::open("memory://lease-lapsed/", &Default::default()).unwrap();
        runtime.block_on(async {
            out.store.put(&out.child(LOCK), PutPayload::from(holder("gone", "elsewhere", 0.05))).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            let heard = Mutex::new(Vec::new());
            let lock = acquire(&out, "next", terms(1000, 100), |m| heard.lock().unwrap().push(m)).await.unwrap();
            let heard = heard.into_inner().unwrap();
            assert!(heard[0].starts_with("took over the lock") && heard[0].contains("run gone"), "{heard:?}");
            lock.lease().check().unwrap();
            lock.release().await.unwrap();
            assert!(matches!(out.store.head(&out.child(LOCK)).await, Err(object_store::Error::NotFound { .. })));
        });
    }
}
