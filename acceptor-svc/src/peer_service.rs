//! `expressconnect.peer.v1.PeerLink`, served to initiators: admission, their reports, and a stream of this
//! account's changes over the channel they opened.

use std::collections::HashMap;
use std::time::Duration;

use shared::account::{Account, ChangeFeed, Event, PeerReports, SentVersions, concerns};
use shared::api::peer::v1::{self as peer, peer_link_server::PeerLink};
use shared::auth::PeerAccount;
use shared::domain::DomainError;
use shared::domain::lifecycle;
use shared::domain::model::EndReport;
use shared::grpc::peer_convert::{admit_request_from_pb, report_from_pb, report_to_pb};
use shared::grpc::to_status;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

#[derive(Debug, Clone)]
pub struct PeerLinkApi {
    account: Account,
    transition_delay: Duration,
}

impl PeerLinkApi {
    pub fn new(account: Account, transition_delay: Duration) -> Self {
        Self { account, transition_delay }
    }
}

/// The calling account, as its signature proved it (checked by the auth layer in front of this service);
/// the account the request names must be the same.
fn check_caller<T>(request: &Request<T>, protocol_version: i32, claimed: &str) -> Result<String, Status> {
    if protocol_version != peer::ProtocolVersion::ProtocolVersion1 as i32 {
        return Err(to_status(DomainError::invalid(
            "protocol_version",
            "UnsupportedProtocolVersion",
            format!("this service speaks peer protocol version 1, not {protocol_version}"),
        )));
    }
    let proven = request.extensions().get::<PeerAccount>().ok_or_else(|| {
        to_status(DomainError::unauthenticated("IncompleteSignature", "a peer call must be signed by its account"))
    })?;
    if proven.0 != claimed {
        return Err(to_status(DomainError::permission_denied(
            "Forbidden.PeerAccount",
            format!("the call is signed by account {} but speaks for account {claimed:?}", proven.0),
        )));
    }
    Ok(proven.0.clone())
}

/// Reports waiting to be pushed, at most this many.
const PUSH_BUFFER: usize = 256;

#[tonic::async_trait]
impl PeerLink for PeerLinkApi {
    async fn admit(&self, request: Request<peer::AdmitRequest>) -> Result<Response<peer::AdmitReply>, Status> {
        let from = check_caller(&request, request.get_ref().protocol_version, &request.get_ref().initiator_account_id)?;
        let r = request.into_inner();
        let connect = admit_request_from_pb(r).map_err(to_status)?;
        let _span =
            tracing::info_span!("admit", peer_account = %from, router_interface_id = %connect.names.interface_id);
        let report = self.account.call(move |a| a.admit_remote(&from, &connect)).await.map_err(to_status)?;
        Ok(Response::new(peer::AdmitReply { acceptor: Some(report_to_pb(report)) }))
    }

    async fn deliver(&self, request: Request<peer::DeliverRequest>) -> Result<Response<peer::DeliverReply>, Status> {
        let from = check_caller(&request, request.get_ref().protocol_version, &request.get_ref().initiator_account_id)?;
        let r = request.into_inner();
        let reports = r.reports.into_iter().map(report_from_pb).collect::<Result<Vec<_>, _>>().map_err(to_status)?;
        let batch = PeerReports { reports, full: r.full, present: r.present_interface_ids };
        let answer = self.account.call(move |a| a.apply_peer_reports(&from, &batch)).await.map_err(to_status)?;
        // An acceptor end's state that the initiator must hear again reaches it over the subscription.
        Ok(Response::new(peer::DeliverReply { unmatched_interface_ids: answer.unmatched }))
    }

    type SubscribeStream = ReceiverStream<Result<peer::ReportBatch, Status>>;

    async fn subscribe(
        &self,
        request: Request<peer::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let from = check_caller(&request, request.get_ref().protocol_version, &request.get_ref().initiator_account_id)?;
        tracing::info!(peer_account = %from, "initiator subscribed");
        let heard: HashMap<String, u64> =
            request.into_inner().heard.into_iter().map(|h| (h.interface_id, h.version)).collect();
        // Subscribe before taking the snapshot, so no change falls between the two.
        let changes = ChangeFeed::new(&self.account);
        let (tx, rx) = mpsc::channel(PUSH_BUFFER);
        let account = self.account.clone();
        let pushing = push(account.clone(), from.clone(), heard, changes, self.transition_delay, tx);
        // At shutdown the stream ends (the initiator redials), so that the server can drain.
        tokio::spawn(async move {
            account.metrics().peer_link(&from, true);
            tokio::select! {
                () = account.stopping() => {}
                () = pushing => {}
            }
            account.metrics().peer_link(&from, false);
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// Pushes this account's ends that concern `to` over the subscription: everything `to` has not heard
/// first, then what changed since the last push, in one batch.
async fn push(
    account: Account,
    to: String,
    heard: HashMap<String, u64>,
    mut changes: ChangeFeed,
    delay: Duration,
    tx: mpsc::Sender<Result<peer::ReportBatch, Status>>,
) {
    let mut sent = SentVersions::default();
    let mut batch = everything(&account, &to, &heard, &mut sent).await;
    loop {
        shared::clock::transition_pause(delay).await;
        if tx.send(Ok(batch)).await.is_err() {
            return;
        }
        batch = loop {
            // A subscriber that went away is noticed even while this account is quiet.
            let events = tokio::select! {
                () = tx.closed() => return,
                events = changes.next() => events,
            };
            let reports: Vec<_> = events.iter().filter_map(|e| news(e, &to, &mut sent)).collect();
            if !reports.is_empty() {
                break peer::ReportBatch { reports };
            }
        };
    }
}

/// What `to` must hear of `event`, if anything it has not heard yet.
fn news(event: &Event, to: &str, sent: &mut SentVersions) -> Option<peer::EndReport> {
    match event {
        Event::Changed(ri) if concerns(ri, to) && sent.is_new(&ri.router_interface_id, ri.version) => {
            sent.sent(&ri.router_interface_id, ri.version);
            Some(report_to_pb(ri.report()))
        }
        Event::Deleted(ri) if concerns(ri, to) => {
            sent.deletion_sent(&ri.router_interface_id);
            Some(report_to_pb(lifecycle::deletion_report(ri)))
        }
        _ => None,
    }
}

/// Every end that concerns `to`, but those `to` has `heard` at their version and those connected to no end
/// that no end of `to` is connected to: their reports would change nothing there.
async fn everything(
    account: &Account,
    to: &str,
    heard: &HashMap<String, u64>,
    sent: &mut SentVersions,
) -> peer::ReportBatch {
    let reports = account.read_on_runtime(|a| a.reports_for(to)).await;
    for report in &reports {
        sent.report_sent(report);
    }
    let news = |r: &EndReport| heard.get(&r.interface_id).map_or(r.is_connected(), |v| *v != r.version);
    peer::ReportBatch { reports: reports.into_iter().filter(news).map(report_to_pb).collect() }
}
