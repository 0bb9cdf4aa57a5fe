//! Code generated from proto/ by build.rs, and the descriptor set served by reflection.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

pub mod v1 {
    tonic::include_proto!("expressconnect.v1");
}

/// The console's *Create Peering Connection* form: who owns the peer, what connects to what, which ends to
/// create, and the two routers (region, id); callers fill in the rest (bandwidth, peer account, ...).
pub fn peering_form(
    account: v1::AccountType,
    connection: v1::ConnectionType,
    create: v1::RoutersToCreate,
    local: (&str, &str),
    peer: (&str, &str),
) -> v1::CreatePeeringConnectionRequest {
    v1::CreatePeeringConnectionRequest {
        account_type: account as i32,
        connection_type: connection as i32,
        routers_to_create: create as i32,
        local_region_id: local.0.to_owned(),
        local_router_id: local.1.to_owned(),
        peer_region_id: peer.0.to_owned(),
        peer_router_id: peer.1.to_owned(),
        ..Default::default()
    }
}

/// The service-to-service protocol.
pub mod peer {
    pub mod v1 {
        tonic::include_proto!("expressconnect.peer.v1");
    }
}

/// Every file of proto/, encoded as a `FileDescriptorSet`, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("expressconnect_descriptor");
