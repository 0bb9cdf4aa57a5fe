//! The link to one acceptor account: dial, subscribe to its changes, resync both views, then keep them in
//! sync until the link drops; redial with backoff. Only this side dials.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use shared::account::{Account, Event, PeerReports};
use shared::api::peer::v1::{self as peer, peer_link_client::PeerLinkClient};
use shared::auth::{AccessKey, PeerSigned};
use shared::config::{PEER_MAX_MESSAGE_BYTES, PeerAddress};
use shared::domain::DomainError;
use shared::domain::lifecycle::{self, ConnectRequest};
use shared::domain::model::{EndReport, RouterInterface, Status};
use shared::grpc::peer_convert::{admit_request_to_pb, error_from_status, is_refusal, report_from_pb, report_to_pb};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tracing::Instrument;

use crate::backoff::Backoff;
use crate::dial::Dialer;

#[derive(Debug, thiserror::Error)]
enum LinkDown {
    #[error("dial: {0}")]
    Dial(#[from] tonic::transport::Error),
    #[error("call: {0}")]
    Call(#[from] tonic::Status),
    #[error("the acceptor closed the subscription")]
    Closed,
    #[error("{0}")]
    Local(#[from] DomainError),
}

/// The peer link's client: every call signed with the secret shared with the peer, every answer proven.
type Client = PeerLinkClient<PeerSigned<Channel>>;

/// `key`: this account's signing key towards the peer; without one the link cannot be made, and says so.
pub fn spawn(
    account: Account,
    peer: PeerAddress,
    key: Option<AccessKey>,
    dialer: Arc<dyn Dialer>,
    delay: Duration,
) -> JoinHandle<()> {
    let span = tracing::info_span!("peer_link", account_id = %account.account_id(), peer_account = %peer.account_id);
    let link = async move {
        let mut backoff = Backoff::new();
        loop {
            let mut link = Link {
                account: account.clone(),
                peer: peer.clone(),
                key: key.clone(),
                dialer: dialer.clone(),
                delay,
                sent: HashMap::new(),
            };
            match link.run(&mut backoff).await {
                Ok(()) => return,
                Err(e) => {
                    account.metrics().peer_link(&peer.account_id, false);
                    let wait = backoff.next_delay();
                    tracing::warn!(error = %e, retry_in = ?wait, url = %peer.url, "peer link down");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    };
    tokio::spawn(link.instrument(span))
}

struct Link {
    account: Account,
    peer: PeerAddress,
    key: Option<AccessKey>,
    dialer: Arc<dyn Dialer>,
    delay: Duration,
    /// The version of each end last delivered, so an unchanged report is not sent twice.
    sent: HashMap<String, u64>,
}

impl Link {
    /// One session: returns Ok when the account shuts down, Err when the link drops.
    async fn run(&mut self, backoff: &mut Backoff) -> Result<(), LinkDown> {
        let key = self.key.clone().ok_or_else(|| {
            DomainError::new_unavailable(format!(
                "no secret is shared with account {}: give both services --peer-key {}=SECRET",
                self.peer.account_id, self.peer.account_id
            ))
        })?;
        let channel = self.dialer.dial(&self.peer.url).await?;
        let mut client = PeerLinkClient::new(PeerSigned::new(channel, key))
            .max_decoding_message_size(PEER_MAX_MESSAGE_BYTES)
            .max_encoding_message_size(PEER_MAX_MESSAGE_BYTES);
        let mut events = self.account.subscribe();
        let mut incoming = client
            .subscribe(peer::SubscribeRequest {
                protocol_version: peer::ProtocolVersion::ProtocolVersion1.into(),
                initiator_account_id: self.account.account_id().to_owned(),
            })
            .await?
            .into_inner();
        tracing::info!(url = %self.peer.url, "peer link up");
        self.account.metrics().peer_link(&self.peer.account_id, true);
        self.resync(&mut client).await?;
        backoff.reset();
        loop {
            tokio::select! {
                batch = incoming.message() => {
                    let batch = batch?.ok_or(LinkDown::Closed)?;
                    self.apply(&mut client, batch).await?;
                }
                event = events.recv() => match event {
                    Ok(event) => {
                        // Whatever else is ready goes in the same delivery: one round trip for many changes.
                        let mut ready = vec![event];
                        while let Ok(event) = events.try_recv() {
                            ready.push(event);
                        }
                        self.forward(&mut client, &ready).await?;
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => self.resync(&mut client).await?,
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
            }
        }
    }

    /// After (re)connecting: the connects still waiting, then every end that names the peer, in full, so
    /// the peer also learns which of its partners were deleted meanwhile.
    async fn resync(&mut self, client: &mut Client) -> Result<(), LinkDown> {
        let pending = self.account.pending_connects(&self.peer.account_id);
        if !pending.is_empty() {
            self.admit(client, pending).await?;
        }
        let reports = self.account.reports_for(&self.peer.account_id);
        self.deliver(client, reports, true).await
    }

    /// Tells the peer about changes of local ends that concern it, in order: each run of connects as
    /// admissions in flight together, each run of other changes as one delivery.
    async fn forward(&mut self, client: &mut Client, events: &[Event]) -> Result<(), LinkDown> {
        let mut reports = Vec::new();
        let mut connects = Vec::new();
        for event in events {
            let ri = event.router_interface();
            if !self.concerns(ri) {
                continue;
            }
            match event {
                // Events queued before a resync may be older than what the resync sent: never send them again.
                Event::Changed(ri) if self.sent.get(&ri.router_interface_id).is_some_and(|v| ri.version <= *v) => {}
                Event::Changed(ri) if ri.status == Status::Connecting && ri.link.is_none() => {
                    if !reports.is_empty() {
                        self.deliver(client, std::mem::take(&mut reports), false).await?;
                    }
                    connects.push(shared::account::connect_request(ri));
                }
                Event::Changed(ri) => reports.push(ri.report()),
                Event::Deleted(ri) => reports.push(lifecycle::deletion_report(ri)),
            }
            if !reports.is_empty() && !connects.is_empty() {
                self.admit(client, std::mem::take(&mut connects)).await?;
            }
        }
        if !connects.is_empty() {
            self.admit(client, connects).await?;
        }
        if reports.is_empty() { Ok(()) } else { self.deliver(client, reports, false).await }
    }

    fn concerns(&self, ri: &RouterInterface) -> bool {
        ri.link.as_ref().map_or(&ri.opposite.owner_id, |l| &l.opposite.owner_id) == &self.peer.account_id
    }

    /// Asks the peer to admit these connects, all in flight at once (they concern different ends), and
    /// applies the answers together.
    async fn admit(&mut self, client: &mut Client, requests: Vec<ConnectRequest>) -> Result<(), LinkDown> {
        shared::clock::transition_pause(self.delay).await;
        let mut calls = Vec::with_capacity(requests.len());
        for request in requests {
            let id = request.initiator.interface_id.clone();
            self.sent.insert(id.clone(), request.initiator.version);
            let mut client = client.clone();
            let message = admit_request_to_pb(self.account.account_id(), &request);
            calls.push((id, tokio::spawn(async move { client.admit(message).await })));
        }
        let mut admitted = Vec::new();
        for (id, call) in calls {
            let answer = call.await.map_err(|e| DomainError::internal(format!("an admission failed: {e}")))?;
            match answer {
                Ok(reply) => admitted.push(report_from_pb(reply.into_inner().acceptor.ok_or(LinkDown::Closed)?)?),
                Err(status) if is_refusal(&status) => {
                    let refusal = error_from_status(&status);
                    tracing::info!(router_interface_id = %id, reason = %refusal.reason, "connect refused");
                    self.account.call(move |a| a.fail_connect(&id, &refusal)).await?;
                }
                Err(status) => return Err(status.into()),
            }
        }
        if admitted.is_empty() {
            return Ok(());
        }
        self.apply_reports(client, PeerReports { reports: admitted, full: false }).await
    }

    async fn deliver(&mut self, client: &mut Client, reports: Vec<EndReport>, full: bool) -> Result<(), LinkDown> {
        shared::clock::transition_pause(self.delay).await;
        let reply = client
            .deliver(peer::DeliverRequest {
                protocol_version: peer::ProtocolVersion::ProtocolVersion1.into(),
                initiator_account_id: self.account.account_id().to_owned(),
                reports: reports.iter().map(report_to_pb).collect(),
                full,
            })
            .await?
            .into_inner();
        for report in reports.into_iter().filter(|r| !r.deleted) {
            self.sent.insert(report.interface_id, report.version);
        }
        if !reply.unmatched_interface_ids.is_empty() {
            let from = self.peer.account_id.clone();
            let gone = reply.unmatched_interface_ids;
            self.account.call(move |a| a.partners_gone(&from, &gone)).await?;
        }
        Ok(())
    }

    async fn apply(&mut self, client: &mut Client, batch: peer::ReportBatch) -> Result<(), LinkDown> {
        let reports = batch.reports.into_iter().map(report_from_pb).collect::<Result<Vec<_>, _>>()?;
        self.apply_reports(client, PeerReports { reports, full: false }).await
    }

    /// Applies the acceptor's reports. Whether an acceptor end is gone is learnt from the acceptor's answer
    /// to a delivery, never from its absence here: a report may have been taken before a connect it missed.
    async fn apply_reports(&mut self, client: &mut Client, batch: PeerReports) -> Result<(), LinkDown> {
        let from = self.peer.account_id.clone();
        let answer = self.account.call(move |a| a.apply_peer_reports(&from, &batch)).await?;
        if answer.resend.is_empty() { Ok(()) } else { self.deliver(client, answer.resend, false).await }
    }
}
