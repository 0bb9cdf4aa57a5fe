//! A TCP relay between the initiator and the acceptor that the benchmark can cut and restore: the peer
//! link drops (every relayed connection closed, new ones refused) and returns, between real processes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::AbortHandle;

#[derive(Debug)]
struct State {
    relays: Vec<AbortHandle>,
    /// When the first connection after the last restore was relayed.
    reconnected: Option<Instant>,
}

#[derive(Debug, Clone)]
pub struct Proxy {
    pub addr: SocketAddr,
    up: watch::Sender<bool>,
    state: Arc<Mutex<State>>,
    relayed: Arc<Notify>,
}

impl Proxy {
    /// Relays connections to `target` from a fresh loopback port.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind the relay: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let proxy = Self {
            addr,
            up: watch::channel(true).0,
            state: Arc::new(Mutex::new(State { relays: Vec::new(), reconnected: None })),
            relayed: Arc::new(Notify::new()),
        };
        tokio::spawn(proxy.clone().accept(listener, target));
        proxy
    }

    async fn accept(self, listener: TcpListener, target: SocketAddr) {
        while let Ok((inbound, _)) = listener.accept().await {
            if !*self.up.borrow() {
                continue; // dropped: the dialer sees the connection closed
            }
            let Ok(outbound) = TcpStream::connect(target).await else { continue };
            let _ = (inbound.set_nodelay(true), outbound.set_nodelay(true));
            let relay = tokio::spawn(async move {
                let (mut inbound, mut outbound) = (inbound, outbound);
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
            let mut state = self.lock();
            // A cut while this connection was being made: it must not outlive the cut.
            if !*self.up.borrow() {
                relay.abort();
                continue;
            }
            state.relays.push(relay.abort_handle());
            state.reconnected.get_or_insert_with(Instant::now);
            drop(state);
            self.relayed.notify_waiters();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The link drops: every relayed connection is closed, and new ones are refused until `restore`.
    pub fn cut(&self) {
        let mut state = self.lock();
        self.up.send_replace(false);
        for relay in state.relays.drain(..) {
            relay.abort();
        }
    }

    pub fn restore(&self) {
        self.lock().reconnected = None;
        self.up.send_replace(true);
    }

    /// Waits (at most a minute) until a connection was relayed since the last restore, and says when.
    pub async fn reconnected(&self) -> Instant {
        let wait = async {
            loop {
                let relayed = self.relayed.notified();
                tokio::pin!(relayed);
                relayed.as_mut().enable();
                if let Some(at) = self.lock().reconnected {
                    return at;
                }
                relayed.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .unwrap_or_else(|_| panic!("the initiator did not reconnect through the relay within a minute"))
    }
}
