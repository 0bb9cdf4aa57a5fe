//! initiator-svc: the initiating account's control plane. It dials the acceptor accounts' services it is
//! told about, keeps a link to each open, and keeps both sides' views in sync.

mod backoff;
pub mod dial;
mod link;

use std::sync::Arc;

use dial::{Dialer, TcpDialer};
use shared::account::Account;
use shared::config::{PeerAddress, ServiceConfig};
use shared::server::Role;
use tokio::task::JoinHandle;

/// The initiator's flags beyond the shared ones.
#[derive(Debug, Clone, clap::Args)]
pub struct InitiatorArgs {
    /// An acceptor account's service: ACCOUNT_ID=URL (repeatable; env: comma-separated).
    #[arg(long = "peer", env = "PEERING_PEERS", value_delimiter = ',')]
    pub peers: Vec<PeerAddress>,
}

/// The initiator's addition to the control plane: one link per acceptor account.
#[derive(Debug, Clone)]
pub struct InitiatorRole {
    pub peers: Vec<PeerAddress>,
    pub dialer: Arc<dyn Dialer>,
}

impl InitiatorRole {
    /// Dials `peers` over TCP; `ca` is trusted for peers at https:// addresses.
    pub fn new(peers: Vec<PeerAddress>, ca: Option<Vec<u8>>) -> Self {
        Self { peers, dialer: Arc::new(TcpDialer { ca }) }
    }
}

impl Role for InitiatorRole {
    fn peers(&self) -> Vec<String> {
        self.peers.iter().map(|p| p.account_id.clone()).collect()
    }

    fn start(&self, account: &Account, config: &ServiceConfig) -> Vec<JoinHandle<()>> {
        self.peers
            .iter()
            .map(|peer| {
                let key = config.peer_secrets().signing_key(&peer.account_id);
                link::spawn(account.clone(), peer.clone(), key, self.dialer.clone(), config.transition_delay)
            })
            .collect()
    }
}
