//! What the peer link asks of an account: admit a connection from another account, apply the other
//! account's reports, give up a connect, and list what the other account must hear on a resync.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

use super::router_interfaces::check_only_connection;
use super::state::counterpart;
use super::{Account, DomainResult, Event};
use crate::domain::DomainError;
use crate::domain::lifecycle::{self, Applied, ConnectRequest};
use crate::domain::model::{EndReport, RouterInterface, Status};
use crate::store::Change;

/// A batch of reports from the other account's ends.
#[derive(Debug, Clone, Default)]
pub struct PeerReports {
    pub reports: Vec<EndReport>,
    /// The reports and `present` are every end of the other account that names this account: a local end
    /// linked to an end missing from them learns that end was deleted.
    pub full: bool,
    /// With `full`: the other account's ends that name this account besides those reported.
    pub present: Vec<String>,
}

/// What the other account must hear back after its reports were applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PeerAnswer {
    /// Reported ends connected to an end that no local end is connected to: that end is gone.
    pub unmatched: Vec<String>,
    /// Local ends that a reported end believes connected to it, but are not: the other account must hear
    /// their state again (as it is when sent: they may move on meanwhile).
    pub resend: Vec<String>,
}

/// Whether `ri` is (or is becoming) connected to an end of `account`: what that account's side of a peer
/// link must hear about.
pub fn concerns(ri: &RouterInterface, account: &str) -> bool {
    ri.link.as_ref().map_or(&ri.opposite.owner_id, |l| &l.opposite.owner_id) == account
}

/// The report of a linked end's opposite as deleted, newer than anything heard of it: the peer says that
/// end is gone.
fn gone(opposite: &EndReport) -> EndReport {
    EndReport { deleted: true, version: opposite.version.saturating_add(1), ..opposite.clone() }
}

pub fn is_transitional(status: Status) -> bool {
    matches!(status, Status::Connecting | Status::Accepting | Status::Suspending | Status::Activating)
}

impl Account {
    /// Acceptor side: admits the connection `request` from `from_account`, if every precondition holds
    /// here. Admitting the same initiator end again answers as the first time.
    pub fn admit_remote(&self, from_account: &str, request: &ConnectRequest) -> DomainResult<EndReport> {
        if request.initiator.owner_id != from_account {
            return Err(DomainError::precondition(
                "Forbbiden.InvaildOwner",
                format!("account {from_account} cannot connect an end of account {}", request.initiator.owner_id),
            ));
        }
        self.execute("PeerConnect", "", &(), |state, ctx| {
            if request.names.owner_id != ctx.account_id {
                return Err(DomainError::precondition(
                    "IncorrectOppositeInterfaceInfo",
                    format!(
                        "the initiator names account {} as the opposite owner, but this is account {}",
                        request.names.owner_id, ctx.account_id
                    ),
                ));
            }
            let mut acceptor = state.router_interface("opposite_interface_id", &request.names.interface_id)?.clone();
            if acceptor.link.as_ref().is_some_and(|l| l.opposite.interface_id == request.initiator.interface_id) {
                return Ok((Vec::new(), acceptor.report()));
            }
            check_only_connection(state, &acceptor, &request.initiator.router_id)?;
            lifecycle::admit(&mut acceptor, request, ctx.now)?;
            let report = acceptor.report();
            Ok((vec![Change::PutRouterInterface(Arc::new(acceptor))], report))
        })
    }

    /// Applies reports from `from_account`'s ends to the local ends connected (or connecting) to them.
    pub fn apply_peer_reports(&self, from_account: &str, batch: &PeerReports) -> DomainResult<PeerAnswer> {
        self.execute("PeerReports", "", &(), |state, ctx| {
            let by_id: HashMap<&str, &EndReport> = batch
                .reports
                .iter()
                .filter(|r| r.owner_id == from_account)
                .map(|r| (r.interface_id.as_str(), r))
                .collect();
            let present: HashSet<&str> = batch.present.iter().map(String::as_str).collect();
            let mut changes = Vec::new();
            let mut answer = PeerAnswer::default();
            let mut linked = HashSet::new();
            // A full batch speaks for every end of the peer, so every local end towards it is concerned;
            // otherwise only the ends that pair with a reported end (no scan: a batch is small, the
            // account may hold 100,000 ends). Either way each once, in the order of ids.
            let full = batch.full.then(|| state.router_interfaces_towards(from_account));
            let pairing = (!batch.full).then(|| state.router_interfaces_pairing_with(by_id.keys().copied()));
            for ri in full.into_iter().flatten().chain(pairing.into_iter().flatten()) {
                let Some((owner, interface)) = counterpart(ri) else { continue };
                if owner != from_account {
                    continue;
                }
                if ri.link.is_some() {
                    linked.insert(interface);
                }
                if let Some(report) = by_id.get(interface) {
                    // The other end still thinks it is connected to this one, which is not (any more):
                    // it must hear this end's state again to let go.
                    if report.partner_interface_id == ri.router_interface_id
                        && ri.link.is_none()
                        && !ri.awaits_admission()
                    {
                        answer.resend.push(ri.router_interface_id.clone());
                    }
                }
                // Only an end that a report may change is copied: a full batch mostly repeats what is known.
                let report = match (by_id.get(interface), &ri.link) {
                    (Some(report), _) if lifecycle::changes_nothing(ri, report) => continue,
                    (Some(report), _) => Cow::Borrowed(*report),
                    (None, Some(link)) if batch.full && !present.contains(interface) => {
                        Cow::Owned(gone(&link.opposite))
                    }
                    (None, _) => continue,
                };
                let mut ri = ri.clone();
                if lifecycle::apply_report(&mut ri, &report, ctx.now) != Applied::Ignored {
                    changes.push(Change::PutRouterInterface(Arc::new(ri)));
                }
            }
            // Only a link counts: an Idle end that merely names a reported end is no partner of it. A reported
            // end connected to no end has nothing to learn (a resync reports many such).
            answer.unmatched = by_id
                .iter()
                .filter(|(id, report)| report.is_connected() && !linked.contains(**id))
                .map(|(id, _)| (*id).to_owned())
                .collect();
            Ok((changes, answer))
        })
    }

    /// The other account says it has no end connected to these local ends any more: their partners were
    /// deleted while the link was down. Ids are never reused, so this cannot be a partner yet to come.
    pub fn partners_gone(&self, from_account: &str, local_ids: &[String]) -> DomainResult<()> {
        self.execute("PeerPartnersGone", "", &(), |state, ctx| {
            let mut changes = Vec::new();
            for id in local_ids {
                let Ok(ri) = state.router_interface("router_interface_id", id) else { continue };
                let Some(link) = ri.link.as_ref().filter(|l| l.opposite.owner_id == from_account) else { continue };
                let gone = gone(&link.opposite);
                let mut ri = ri.clone();
                if lifecycle::apply_report(&mut ri, &gone, ctx.now) != Applied::Ignored {
                    changes.push(Change::PutRouterInterface(Arc::new(ri)));
                }
            }
            Ok((changes, ()))
        })
    }

    /// Gives up a connect that was refused or timed out: the end returns to Idle with `last_error`.
    pub fn fail_connect(&self, id: &str, why: &DomainError) -> DomainResult<()> {
        self.execute("FailConnect", "", &(), |state, _| {
            let mut ri = state.router_interface("router_interface_id", id)?.clone();
            if !ri.awaits_admission() {
                return Ok((Vec::new(), ()));
            }
            lifecycle::fail_connect(&mut ri, why);
            Ok((vec![Change::PutRouterInterface(Arc::new(ri))], ()))
        })
    }

    /// Every local end that names `peer_account` as its opposite owner, as that account must hear it.
    pub fn reports_for(&self, peer_account: &str) -> Vec<EndReport> {
        self.read(|state, _| {
            state
                .router_interfaces_towards(peer_account)
                .filter(|ri| counterpart(ri).is_some_and(|(owner, _)| owner == peer_account))
                .map(RouterInterface::report)
                .collect()
        })
    }

    /// The ends of `peer_account` that local ends are connected to, each at the version last applied here.
    pub fn heard_from(&self, peer_account: &str) -> Vec<(String, u64)> {
        self.read(|state, _| {
            state
                .router_interfaces_towards(peer_account)
                .filter_map(|ri| ri.link.as_ref())
                .filter(|link| link.opposite.owner_id == peer_account)
                .map(|link| (link.opposite.interface_id.clone(), link.opposite.version))
                .collect()
        })
    }

    /// The connect requests of local initiator ends waiting for `peer_account` to admit them.
    pub fn pending_connects(&self, peer_account: &str) -> Vec<ConnectRequest> {
        self.read(|state, _| {
            state
                .router_interfaces_awaiting_admission()
                .filter(|ri| ri.opposite.owner_id == peer_account)
                .map(connect_request)
                .collect()
        })
    }

    /// Initiator ends waiting for an answer to a connect.
    pub fn connecting_ends(&self) -> Vec<String> {
        self.read(|state, _| {
            state.router_interfaces_awaiting_admission().map(|ri| ri.router_interface_id.clone()).collect()
        })
    }

    /// Waits until `id` leaves its transitional status, or `wait` passes; `events` must have been
    /// subscribed before the call that changed it. A connect that ended refused answers its refusal.
    /// Events are announced once on disk, so `events` may still bring changes of the end made before the
    /// call's own (a peer's report applied just before it): older versions than the one read first, they
    /// are no answer (a Deactivate would otherwise answer the Activated it just left).
    pub async fn settle(
        &self,
        id: &str,
        mut events: broadcast::Receiver<Event>,
        wait: Duration,
    ) -> DomainResult<Status> {
        let outcome = |ri: &RouterInterface| -> Option<DomainResult<Status>> {
            if is_transitional(ri.status) {
                return None;
            }
            match (&ri.last_error, ri.status) {
                (Some(e), Status::Idle) => Some(Err(e.as_ref().clone())),
                _ => Some(Ok(ri.status)),
            }
        };
        let current = self.describe_on_runtime(id).await?;
        if let Some(done) = outcome(&current) {
            return done;
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Err(_) => return Ok(self.describe_on_runtime(id).await?.status),
                Ok(Ok(event)) if event.router_interface().router_interface_id == id => match event {
                    _ if event.predates(current.version) => {}
                    Event::Changed(ri) => {
                        if let Some(done) = outcome(&ri) {
                            return done;
                        }
                    }
                    Event::Deleted(_) => {
                        return Err(DomainError::not_found(
                            "router_interface_id",
                            "InvalidRouterInterfaceId.NotFound",
                            format!("router interface {id} was deleted"),
                        ));
                    }
                },
                Ok(Ok(_)) => {}
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                    if let Some(done) = outcome(&self.describe_on_runtime(id).await?) {
                        return done;
                    }
                }
                Ok(Err(broadcast::error::RecvError::Closed)) => return Ok(self.describe_on_runtime(id).await?.status),
            }
        }
    }

    /// The end `id`, read without blocking the task's worker.
    async fn describe_on_runtime(&self, id: &str) -> DomainResult<RouterInterface> {
        self.read_on_runtime(|a| a.describe_router_interface(id)).await
    }
}

/// What an initiator end sends to connect.
pub fn connect_request(ri: &RouterInterface) -> ConnectRequest {
    ConnectRequest { initiator: ri.report(), names: ri.opposite.clone() }
}
