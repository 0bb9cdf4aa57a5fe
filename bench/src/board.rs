//! What every end of one account reports, kept current from WatchRouterInterfaces, so that callers wait for
//! a status without polling the service (polling from 32 callers would load the machine the services share).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use shared::api::v1::{self as pb, router_interface_service_client::RouterInterfaceServiceClient};
use shared::auth::Signed;
use tokio::sync::Notify;
use tonic::transport::Channel;

#[derive(Debug, Default)]
struct Shared {
    statuses: Mutex<HashMap<String, pb::Status>>,
    changed: Notify,
}

#[derive(Debug, Clone)]
pub struct Board(Arc<Shared>);

impl Board {
    /// Watches every end of the account `client` signs for, for as long as the process runs.
    pub async fn watch(client: RouterInterfaceServiceClient<Signed<Channel>>) -> Self {
        let board = Self(Arc::default());
        let opened = Arc::new(Notify::new());
        tokio::spawn(board.clone().follow(client, opened.clone()));
        opened.notified().await;
        board
    }

    /// Feeds the board; reopens the watch (with the current state) if the service ends it, e.g. because
    /// this side fell behind or the service restarted.
    async fn follow(self, mut client: RouterInterfaceServiceClient<Signed<Channel>>, opened: Arc<Notify>) {
        let mut include_current = false;
        loop {
            let request = pb::WatchRouterInterfacesRequest { router_interface_ids: Vec::new(), include_current };
            let mut stream = match client.watch_router_interfaces(request).await {
                Ok(answer) => answer.into_inner(),
                // The service stopped (the benchmark ends, or restarts it): try again; a waiter that
                // waits too long says so.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            opened.notify_one();
            while let Ok(Some(event)) = stream.message().await {
                let Some(ri) = event.router_interface else { continue };
                let mut statuses = self.0.statuses.lock().unwrap_or_else(PoisonError::into_inner);
                if event.deleted {
                    statuses.remove(&ri.router_interface_id);
                } else {
                    statuses.insert(ri.router_interface_id.clone(), ri.status());
                }
                drop(statuses);
                self.0.changed.notify_waiters();
            }
            include_current = true;
        }
    }

    fn status(&self, id: &str) -> Option<pb::Status> {
        self.0.statuses.lock().unwrap_or_else(PoisonError::into_inner).get(id).copied()
    }

    /// Waits until the end `id` reports `status`.
    pub async fn until(&self, id: &str, status: pb::Status) {
        let wait = async {
            loop {
                let changed = self.0.changed.notified();
                tokio::pin!(changed);
                // Registered before looking, so a change between the look and the wait is not missed.
                changed.as_mut().enable();
                if self.status(id) == Some(status) {
                    return;
                }
                changed.await;
            }
        };
        if tokio::time::timeout(Duration::from_secs(60), wait).await.is_err() {
            panic!("{id} did not report {status:?} within 60 s (it reports {:?})", self.status(id));
        }
    }
}
