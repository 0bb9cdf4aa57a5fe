//! acceptor-svc: the accepting account's control plane. It serves the peer link that initiators dial and
//! never dials back.

mod peer_service;

use shared::account::Account;
use shared::api::peer::v1::peer_link_server::PeerLinkServer;
use shared::config::{PEER_MAX_MESSAGE_BYTES, ServiceConfig};
use shared::server::Role;
use tonic::service::Routes;

pub use peer_service::PeerLinkApi;

/// The acceptor's addition to the control plane: the peer link service.
#[derive(Debug, Default)]
pub struct AcceptorRole;

impl Role for AcceptorRole {
    fn routes(&self, account: &Account, config: &ServiceConfig) -> Option<Routes> {
        let api = PeerLinkApi::new(account.clone(), config.transition_delay);
        Some(Routes::new(
            PeerLinkServer::new(api)
                .max_decoding_message_size(PEER_MAX_MESSAGE_BYTES)
                .max_encoding_message_size(PEER_MAX_MESSAGE_BYTES),
        ))
    }
}
