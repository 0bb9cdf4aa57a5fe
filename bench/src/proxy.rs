//! A TCP relay between the initiator and the acceptor that the benchmark can cut and restore: the peer
//! link drops (every relayed connection closed, new ones refused) and returns, between real processes.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
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
    /// When bytes last crossed the relay, either way, as time since `started`.
    started: Instant,
    last_traffic: Arc<AtomicU64>,
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
            started: Instant::now(),
            last_traffic: Arc::default(),
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
            let (from_dialer, to_dialer) = inbound.into_split();
            let (from_target, to_target) = outbound.into_split();
            let (one_way, other_way) = (self.clone(), self.clone());
            let relay = tokio::spawn(async move {
                tokio::join!(one_way.copy(from_dialer, to_target), other_way.copy(from_target, to_dialer));
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

    /// Copies one direction until either side closes, noting when bytes crossed.
    async fn copy(self, mut from: OwnedReadHalf, mut to: OwnedWriteHalf) {
        let mut buffer = vec![0; 64 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buffer).await {
            self.last_traffic.store(self.since_start(), Ordering::Relaxed);
            if to.write_all(&buffer[..n]).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    }

    fn since_start(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Waits until no byte has crossed the link for `quiet`: whatever the two sides had to tell each other
    /// has been told.
    pub async fn until_quiet(&self, quiet: Duration) {
        let quiet = u64::try_from(quiet.as_micros()).unwrap_or(u64::MAX);
        loop {
            let idle = self.since_start().saturating_sub(self.last_traffic.load(Ordering::Relaxed));
            if idle >= quiet {
                return;
            }
            tokio::time::sleep(Duration::from_micros(quiet - idle)).await;
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
