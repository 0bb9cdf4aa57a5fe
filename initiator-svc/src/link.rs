//! The link to one acceptor account: dial, subscribe to its changes, resync both views, then keep them in
//! sync until the link drops; redial with backoff. Only this side dials.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use shared::account::{Account, ChangeFeed, Event, PeerReports, SentVersions, concerns};
use shared::api::peer::v1::{self as peer, peer_link_client::PeerLinkClient};
use shared::auth::{AccessKey, PeerSigned};
use shared::config::{PEER_MAX_MESSAGE_BYTES, PeerAddress};
use shared::domain::DomainError;
use shared::domain::lifecycle::{self, ConnectRequest};
use shared::domain::model::EndReport;
use shared::grpc::peer_convert::{admit_request_to_pb, error_from_status, is_refusal, report_from_pb, report_to_pb};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::{JoinHandle, JoinSet};
use tonic::Streaming;
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

/// At most so many reports in one delivery: a resync of 100,000 ends is sent as twenty, which the
/// acceptor applies and commits one after the other while the rest are on their way.
const DELIVERY_REPORTS: usize = 5_000;

/// The acceptor's batches being applied at once, at most.
const APPLYING_AT_ONCE: usize = 4;

/// This side's deliveries of changes on their way at once, at most: the next is sent while the acceptor
/// commits the one before, instead of waiting for its answer (reports are versioned, so the acceptor
/// ignores one that arrives after a newer one).
const DELIVERIES_AT_ONCE: usize = 4;

/// Where a report goes in a delivery: by the acceptor end it is connected to, unconnected ends last.
fn acceptor_order(report: &EndReport) -> (bool, &str) {
    (!report.is_connected(), &report.partner_interface_id)
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
                sent: SentVersions::default(),
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
    /// What the acceptor was sent this session.
    sent: SentVersions,
}

impl Link {
    /// One session, until the link drops (or, in principle, the account goes away: Ok).
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
        let changes = ChangeFeed::new(&self.account);
        let heard = self.account.read_on_runtime(|a| a.heard_from(&self.peer.account_id)).await;
        let incoming = client
            .subscribe(peer::SubscribeRequest {
                protocol_version: peer::ProtocolVersion::ProtocolVersion1.into(),
                initiator_account_id: self.account.account_id().to_owned(),
                heard: heard
                    .into_iter()
                    .map(|(interface_id, version)| peer::HeardVersion { interface_id, version })
                    .collect(),
            })
            .await?
            .into_inner();
        tracing::info!(url = %self.peer.url, "peer link up");
        self.account.metrics().peer_link(&self.peer.account_id, true);
        // The two halves run at once, so that applying the acceptor's changes (a commit here) and delivering
        // this side's (a commit there) overlap, from the two snapshots of the resync on; the first to fail
        // ends the session.
        let (resend, to_resend) = tokio::sync::mpsc::unbounded_channel();
        let applying = apply_incoming(self.account.clone(), self.peer.account_id.clone(), incoming, resend);
        let delivering = async {
            self.resync(&mut client).await?;
            backoff.reset();
            self.forward_all(&mut client, changes, to_resend).await
        };
        tokio::select! {
            result = applying => result,
            result = delivering => result,
        }
    }

    /// The delivering half: this side's changes, and what the applying half says the acceptor must hear
    /// again. Everything that changed meanwhile goes in one delivery: one round trip for many changes.
    async fn forward_all(
        &mut self,
        client: &mut Client,
        mut changes: ChangeFeed,
        mut to_resend: UnboundedReceiver<Vec<String>>,
    ) -> Result<(), LinkDown> {
        let mut on_the_way = VecDeque::new();
        loop {
            let room = on_the_way.len() < DELIVERIES_AT_ONCE;
            tokio::select! {
                ready = changes.next(), if room => self.forward(client, &ready, &mut on_the_way).await?,
                Some(ids) = to_resend.recv(), if room => self.resend(client, ids, &mut on_the_way).await?,
                unmatched = next_answer(&mut on_the_way) => self.delivered(unmatched?).await?,
            }
        }
    }

    /// Waits for every delivery on its way, oldest first.
    async fn all_delivered(&mut self, on_the_way: &mut VecDeque<Delivery>) -> Result<(), LinkDown> {
        while !on_the_way.is_empty() {
            let unmatched = next_answer(on_the_way).await?;
            self.delivered(unmatched).await?;
        }
        Ok(())
    }

    /// Delivers again the state of ends the acceptor must hear about again, unless what was sent of them
    /// since is newer.
    async fn resend(
        &mut self,
        client: &mut Client,
        ids: Vec<String>,
        on_the_way: &mut VecDeque<Delivery>,
    ) -> Result<(), LinkDown> {
        let mut reports = self.current_reports(&ids).await;
        reports.retain(|r| self.sent.is_current(&r.interface_id, r.version));
        if !reports.is_empty() {
            on_the_way.push_back(self.send(client, reports, false).await);
        }
        Ok(())
    }

    /// The state now of ends the acceptor must hear about again, not when this side found that out: an end
    /// may have moved on meanwhile (timed out, connected again, and been admitted), and its older state
    /// arriving after the acceptor admitted it would undo the connection. An end deleted meanwhile is left
    /// to its deletion's event, and one connecting again to its admission (sent as a report, it would count
    /// as sent, and the admission would not go).
    async fn current_reports(&self, ids: &[String]) -> Vec<EndReport> {
        self.account
            .read_on_runtime(|a| {
                ids.iter()
                    .filter_map(|id| a.describe_router_interface(id).ok())
                    .filter(|ri| !ri.awaits_admission())
                    .map(|ri| ri.report())
                    .collect()
            })
            .await
    }

    /// After (re)connecting: the connects still waiting, then every end that names the peer, in full, so
    /// the peer also learns which of its partners were deleted meanwhile.
    async fn resync(&mut self, client: &mut Client) -> Result<(), LinkDown> {
        let pending = self.account.read_on_runtime(|a| a.pending_connects(&self.peer.account_id)).await;
        if !pending.is_empty() {
            self.admit(client, pending).await?;
        }
        let reports = self.account.read_on_runtime(|a| a.reports_for(&self.peer.account_id)).await;
        self.deliver(client, reports, true).await
    }

    /// Tells the peer about changes of local ends that concern it, in order: each run of connects as
    /// admissions in flight together, each run of other changes as one delivery. An admission waits for
    /// the deliveries on their way, and they for it: a connect's admission must not overtake what was said
    /// of its end before, nor a change of the connection overtake its admission.
    async fn forward(
        &mut self,
        client: &mut Client,
        events: &[Event],
        on_the_way: &mut VecDeque<Delivery>,
    ) -> Result<(), LinkDown> {
        let mut reports = Vec::new();
        let mut connects = Vec::new();
        for event in events {
            let ri = event.router_interface();
            if !concerns(ri, &self.peer.account_id) {
                continue;
            }
            match event {
                // Events queued before a resync may be older than what the resync sent: never send them again.
                Event::Changed(ri) if !self.sent.is_new(&ri.router_interface_id, ri.version) => {}
                Event::Changed(ri) if ri.awaits_admission() => {
                    if !reports.is_empty() {
                        on_the_way.push_back(self.send(client, std::mem::take(&mut reports), false).await);
                    }
                    connects.push(shared::account::connect_request(ri));
                }
                Event::Changed(ri) => reports.push(ri.report()),
                Event::Deleted(ri) => reports.push(lifecycle::deletion_report(ri)),
            }
            if !reports.is_empty() && !connects.is_empty() {
                self.all_delivered(on_the_way).await?;
                self.admit(client, std::mem::take(&mut connects)).await?;
            }
        }
        if !connects.is_empty() {
            self.all_delivered(on_the_way).await?;
            self.admit(client, connects).await?;
        }
        if !reports.is_empty() {
            on_the_way.push_back(self.send(client, reports, false).await);
        }
        Ok(())
    }

    /// Asks the peer to admit these connects, all in flight at once (they concern different ends), and
    /// applies the answers together.
    async fn admit(&mut self, client: &mut Client, requests: Vec<ConnectRequest>) -> Result<(), LinkDown> {
        shared::clock::transition_pause(self.delay).await;
        let mut calls = Vec::with_capacity(requests.len());
        for request in requests {
            let id = request.initiator.interface_id.clone();
            self.sent.sent(&id, request.initiator.version);
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
        self.apply_reports(client, PeerReports { reports: admitted, ..PeerReports::default() }).await
    }

    /// Delivers `reports` (with `full`: every end that names the peer) and waits for the answers.
    async fn deliver(&mut self, client: &mut Client, reports: Vec<EndReport>, full: bool) -> Result<(), LinkDown> {
        let mut on_the_way = VecDeque::from([self.send(client, reports, full).await]);
        let unmatched = next_answer(&mut on_the_way).await?;
        self.delivered(unmatched).await
    }

    /// Sends `reports` in deliveries of at most [`DELIVERY_REPORTS`], all in flight at once: the acceptor
    /// applies one while it commits the one before and while the next is on its way, and what they change
    /// reaches this side commit by commit. A full delivery also names every end, in a delivery of its own
    /// among them: only an admission could link an end there that the names miss, and admissions wait
    /// until it is answered.
    async fn send(&mut self, client: &mut Client, mut reports: Vec<EndReport>, full: bool) -> Delivery {
        shared::clock::transition_pause(self.delay).await;
        // In the order of the acceptor's ends, which its store keeps its rows in: each delivery then
        // changes rows of its own stretch of the table, and its commit writes those pages only. Ends not
        // connected last: they rarely change anything there.
        reports.sort_unstable_by(|a, b| acceptor_order(a).cmp(&acceptor_order(b)));
        let mut calls = Vec::new();
        if full {
            let present = reports.iter().map(|r| r.interface_id.clone()).collect();
            let mut client = client.clone();
            let census = self.request(Vec::new(), true, present);
            calls.push(tokio::spawn(async move { client.deliver(census).await }));
        }
        // Marked as heard when sent rather than when answered, so that what is sent next (a resend above
        // all) takes into account what is on its way; a delivery that fails ends the session, and its
        // record with it.
        let count = reports.len();
        for report in &reports {
            self.sent.report_sent(report);
        }
        let mut reports = reports.into_iter();
        loop {
            let chunk: Vec<_> = reports.by_ref().take(DELIVERY_REPORTS).map(report_to_pb).collect();
            if chunk.is_empty() {
                break;
            }
            let mut client = client.clone();
            let request = self.request(chunk, false, Vec::new());
            calls.push(tokio::spawn(async move { client.deliver(request).await }));
        }
        let answer = tokio::spawn(async move {
            let mut unmatched = Vec::new();
            for call in calls {
                let reply = call.await.map_err(|e| tonic::Status::internal(format!("a delivery failed: {e}")))??;
                unmatched.extend(reply.into_inner().unmatched_interface_ids);
            }
            Ok(unmatched)
        });
        Delivery { reports: count, full, started: std::time::Instant::now(), answer }
    }

    /// Learns from a delivery's answer which partners are gone: `unmatched`, the reported ends the acceptor
    /// found no partner of.
    async fn delivered(&mut self, unmatched: Vec<String>) -> Result<(), LinkDown> {
        if !unmatched.is_empty() {
            let from = self.peer.account_id.clone();
            self.account.call(move |a| a.partners_gone(&from, &unmatched)).await?;
        }
        Ok(())
    }

    fn request(&self, reports: Vec<peer::EndReport>, full: bool, present: Vec<String>) -> peer::DeliverRequest {
        peer::DeliverRequest {
            protocol_version: peer::ProtocolVersion::ProtocolVersion1.into(),
            initiator_account_id: self.account.account_id().to_owned(),
            reports,
            full,
            present_interface_ids: present,
        }
    }

    /// Applies the acceptor's answers to this side's admissions; delivers what it must hear again.
    async fn apply_reports(&mut self, client: &mut Client, batch: PeerReports) -> Result<(), LinkDown> {
        let again = apply_peer_batch(&self.account, &self.peer.account_id, batch).await?;
        if again.is_empty() {
            return Ok(());
        }
        let reports = self.current_reports(&again).await;
        if reports.is_empty() { Ok(()) } else { self.deliver(client, reports, false).await }
    }
}

/// A delivery on its way: the task that makes its calls, answering with the reported ends the acceptor
/// found no partner of.
struct Delivery {
    reports: usize,
    full: bool,
    started: std::time::Instant,
    answer: JoinHandle<Result<Vec<String>, tonic::Status>>,
}

/// The answer to the oldest delivery on its way, so that answers are taken in the order sent; pending while
/// none is. Cancel-safe: a delivery leaves the queue only with its answer.
async fn next_answer(on_the_way: &mut VecDeque<Delivery>) -> Result<Vec<String>, LinkDown> {
    let Some(oldest) = on_the_way.front_mut() else { return std::future::pending().await };
    let answer = (&mut oldest.answer).await;
    let Some(delivery) = on_the_way.pop_front() else { return std::future::pending().await };
    let unmatched = answer.map_err(|e| DomainError::internal(format!("a delivery failed: {e}")))??;
    let took_ms = delivery.started.elapsed().as_secs_f64() * 1000.0;
    tracing::debug!(reports = delivery.reports, full = delivery.full, took_ms, "delivered");
    Ok(unmatched)
}

/// The acceptor's pushes, applied as they come, up to [`APPLYING_AT_ONCE`] batches at once, so that one
/// applies while the one before commits (reports are versioned: which lands first changes nothing); what
/// the acceptor must hear again goes to the delivering half through `resend`.
async fn apply_incoming(
    account: Account,
    peer_account: String,
    mut incoming: Streaming<peer::ReportBatch>,
    resend: UnboundedSender<Vec<String>>,
) -> Result<(), LinkDown> {
    let mut applying = JoinSet::new();
    loop {
        tokio::select! {
            message = incoming.message(), if applying.len() < APPLYING_AT_ONCE => {
                let batch = message?.ok_or(LinkDown::Closed)?;
                let reports = batch.reports.into_iter().map(report_from_pb).collect::<Result<Vec<_>, _>>()?;
                let (account, from, resend) = (account.clone(), peer_account.clone(), resend.clone());
                applying.spawn(async move {
                    let again = apply_peer_batch(&account, &from, PeerReports { reports, ..PeerReports::default() }).await?;
                    if !again.is_empty() {
                        // Only fails once the delivering half ended, and with it the session.
                        let _ = resend.send(again);
                    }
                    Ok::<(), LinkDown>(())
                });
            }
            Some(applied) = applying.join_next() => {
                applied.map_err(|e| DomainError::internal(format!("applying the peer's reports failed: {e}")))??;
            }
        }
    }
}

/// Applies the acceptor's reports; returns the local ends the acceptor must hear about again. Whether an
/// acceptor end is gone is learnt from the acceptor's answer to a delivery, never from its absence here: a
/// report may have been taken before a connect it missed.
async fn apply_peer_batch(account: &Account, peer_account: &str, batch: PeerReports) -> Result<Vec<String>, LinkDown> {
    let from = peer_account.to_owned();
    let (started, count) = (std::time::Instant::now(), batch.reports.len());
    let answer = account.call(move |a| a.apply_peer_reports(&from, &batch)).await?;
    tracing::debug!(reports = count, took_ms = started.elapsed().as_secs_f64() * 1000.0, "applied the peer's reports");
    Ok(answer.resend)
}
