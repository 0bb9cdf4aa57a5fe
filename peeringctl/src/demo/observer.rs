//! Both ends of a connection as their owners' services report them (WatchRouterInterfaces): a line as
//! soon as either end's status changes (printed by a task of its own, so the lines interleave in time
//! with what the demo does), and a wait for the statuses a step leads to.

use std::time::Duration;

use shared::api::v1 as pb;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::client::{Failure, Ris};
use crate::output::{self, say};

/// What is known of the watched ends.
#[derive(Debug, Clone, Default)]
struct Seen {
    /// Each end's latest status; None until its service sent it.
    statuses: Vec<Option<pb::Status>>,
    /// The last line printed.
    line: String,
    /// Why a watch ended, if one did.
    failed: Option<tonic::Status>,
}

impl Seen {
    fn all(&self) -> Option<Vec<pb::Status>> {
        self.statuses.iter().copied().collect()
    }
}

pub struct Observer {
    seen: watch::Receiver<Seen>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Observer {
    fn drop(&mut self) {
        // Ending the tasks drops their streams, which closes them on the services.
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

type Update = (usize, Result<pb::RouterInterfaceEvent, tonic::Status>);

impl Observer {
    /// Starts watching each `(label, client, id)` and prints their statuses now (waiting up to `timeout`
    /// for them), then every change as it is reported.
    pub async fn watch(ends: Vec<(String, Ris, String)>, timeout: Duration) -> Result<Self, Failure> {
        let (send, updates) = mpsc::channel(64);
        let mut tasks = Vec::new();
        let mut names = Vec::new();
        for (i, (label, mut ris, id)) in ends.into_iter().enumerate() {
            let request =
                pb::WatchRouterInterfacesRequest { router_interface_ids: vec![id.clone()], include_current: true };
            let stream = ris.watch_router_interfaces(request).await?.into_inner();
            tasks.push(tokio::spawn(forward(i, stream, send.clone())));
            names.push(format!("{label} {id}"));
        }
        let (publish, seen) = watch::channel(Seen { statuses: vec![None; names.len()], ..Seen::default() });
        tasks.push(tokio::spawn(print(names, updates, publish)));
        let mut observer = Self { seen, tasks };
        observer.until("the current statuses", timeout, |_| true).await?;
        Ok(observer)
    }

    /// Waits until the statuses satisfy `done` (at once if they already do); fails, saying `what` was
    /// expected and what was seen last, after `timeout`.
    pub async fn until(
        &mut self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&[pb::Status]) -> bool,
    ) -> Result<(), Failure> {
        let reached = |seen: &Seen| seen.failed.is_some() || seen.all().is_some_and(|all| done(&all));
        // Some(whether the printer still runs), or None on timeout.
        let waited = tokio::time::timeout(timeout, self.seen.wait_for(reached)).await.ok().map(|r| r.is_ok());
        let seen = self.seen.borrow().clone();
        match (waited, seen.failed) {
            (_, Some(status)) => Err(status.into()),
            (Some(true), None) => Ok(()),
            (Some(false), None) => Err(Failure::Other("the watches stopped".to_owned())),
            (None, None) => {
                Err(Failure::Other(format!("expected {what} within {timeout:?}; last seen:\n{}", seen.line)))
            }
        }
    }

    /// Waits until every end shows `status`.
    pub async fn until_all(&mut self, status: pb::Status, timeout: Duration) -> Result<(), Failure> {
        let what = format!("every end {}", output::label(status));
        self.until(&what, timeout, |statuses| statuses.iter().all(|s| *s == status)).await
    }
}

/// Passes one end's events on, and the error that ends its watch.
async fn forward(i: usize, mut stream: tonic::Streaming<pb::RouterInterfaceEvent>, send: mpsc::Sender<Update>) {
    loop {
        let update = match stream.message().await {
            Ok(Some(event)) => Ok(event),
            Ok(None) => Err(tonic::Status::unavailable("the service ended the watch")),
            Err(status) => Err(status),
        };
        let last = update.is_err();
        if send.send((i, update)).await.is_err() || last {
            return;
        }
    }
}

/// Keeps the ends' statuses, prints a line when one changes (once every end has been seen), and publishes
/// what it knows.
async fn print(names: Vec<String>, mut updates: mpsc::Receiver<Update>, publish: watch::Sender<Seen>) {
    let mut seen = publish.borrow().clone();
    while let Some((i, update)) = updates.recv().await {
        match update {
            Err(status) => seen.failed = Some(status),
            Ok(event) => {
                let Some(ri) = event.router_interface else { continue };
                let status = if event.deleted { pb::Status::Deleted } else { ri.status() };
                let Some(slot) = seen.statuses.get_mut(i) else { continue };
                if *slot == Some(status) {
                    continue;
                }
                *slot = Some(status);
                if let Some(all) = seen.all() {
                    let ends: Vec<String> =
                        names.iter().zip(all).map(|(name, s)| format!("{name} {:<10}", output::label(s))).collect();
                    seen.line = format!("  {}", ends.join("   ").trim_end());
                    say!("{}", seen.line);
                }
            }
        }
        if publish.send(seen.clone()).is_err() {
            return;
        }
    }
}
