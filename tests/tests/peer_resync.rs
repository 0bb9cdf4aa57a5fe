//! The peer link's resync, seen from the wire: what the acceptor's first batch to a (re)subscribing
//! initiator holds, given what the initiator says it has heard.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use scenario_tests::peering::{Flags, connect, peer_key, prepare_connection, start_pair, wait_agreement};
use scenario_tests::{ACCOUNT_A, ACCOUNT_B, Service};
use shared::api::peer::v1::{self as peer, peer_link_client::PeerLinkClient};
use shared::auth::{AccessKey, PeerSigned};

/// Subscribes as account A (signed with the secret A and B share) and returns the acceptor's first batch:
/// the ids and versions of the ends it reports.
async fn first_batch(b: &Service, heard: &[(&str, u64)]) -> Vec<(String, u64)> {
    let channel = tonic::transport::Channel::from_shared(b.url()).unwrap().connect_lazy();
    let key =
        AccessKey { access_key_id: format!("peer:{ACCOUNT_A}"), access_key_secret: peer_key(ACCOUNT_A, ACCOUNT_B) };
    let request = peer::SubscribeRequest {
        protocol_version: peer::ProtocolVersion::ProtocolVersion1.into(),
        initiator_account_id: ACCOUNT_A.into(),
        heard: heard
            .iter()
            .map(|(id, version)| peer::HeardVersion { interface_id: (*id).into(), version: *version })
            .collect(),
    };
    let mut stream = PeerLinkClient::new(PeerSigned::new(channel, key)).subscribe(request).await.unwrap().into_inner();
    let batch = tokio::time::timeout(Duration::from_secs(10), stream.message()).await.unwrap().unwrap().unwrap();
    batch.reports.into_iter().map(|r| (r.interface_id, r.version)).collect()
}

#[tokio::test]
async fn the_first_batch_leaves_out_what_the_initiator_heard_and_ends_connected_to_none() {
    let (a, b) = start_pair(&Flags::default(), None, None).await;
    let connected = prepare_connection(&a, &b, ACCOUNT_B).await;
    connect(&a, &connected.initiator).await.unwrap();
    wait_agreement(&a, &b, &connected, Duration::from_secs(10)).await;
    // A second pair of ends that name each other, never connected.
    let idle = prepare_connection(&a, &b, ACCOUNT_B).await;

    // Heard nothing: the connected end is news; the idle one, connected to no end, is not.
    let everything = first_batch(&b, &[]).await;
    let ids: Vec<&str> = everything.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, vec![connected.acceptor.as_str()], "{everything:?}");
    let version = everything[0].1;

    // Heard at that version: nothing to tell. Heard at an older one: the end again.
    assert_eq!(first_batch(&b, &[(&connected.acceptor, version)]).await, vec![]);
    let older = first_batch(&b, &[(&connected.acceptor, version - 1)]).await;
    assert_eq!(older, vec![(connected.acceptor.clone(), version)]);
    // An idle end the initiator believes connected (heard at an older version) is reported, so it learns.
    let believed = first_batch(&b, &[(&connected.acceptor, version), (&idle.acceptor, 0)]).await;
    assert_eq!(believed.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), vec![idle.acceptor.as_str()]);
}
