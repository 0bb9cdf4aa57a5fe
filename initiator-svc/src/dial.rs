//! How the initiator reaches an acceptor's service: TCP by default; a deterministic simulator brings its
//! own network.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

const DIAL_TIMEOUT: Duration = Duration::from_secs(2);
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const KEEPALIVE: Duration = Duration::from_secs(5);

pub type Dialing = Pin<Box<dyn Future<Output = Result<Channel, tonic::transport::Error>> + Send>>;

pub trait Dialer: Send + Sync + Debug {
    /// A channel to the service at `url`, connected.
    fn dial(&self, url: &str) -> Dialing;
}

/// TCP: HTTP/2 in plaintext for http:// addresses, over TLS for https:// ones (trusting `ca` if given,
/// otherwise the system's roots).
#[derive(Debug, Default, Clone)]
pub struct TcpDialer {
    pub ca: Option<Vec<u8>>,
}

/// The endpoint every dialer should use: bounded dial and call times, so a dead peer is noticed.
pub fn endpoint(url: &str) -> Result<Endpoint, tonic::transport::Error> {
    Ok(Endpoint::from_shared(url.to_owned())?
        .connect_timeout(DIAL_TIMEOUT)
        .timeout(CALL_TIMEOUT)
        // A half-open connection (a peer that vanished without a word) is noticed even when idle.
        .http2_keep_alive_interval(KEEPALIVE)
        .keep_alive_timeout(KEEPALIVE)
        .keep_alive_while_idle(true))
}

impl Dialer for TcpDialer {
    fn dial(&self, url: &str) -> Dialing {
        let endpoint = endpoint(url).and_then(|e| {
            if !url.starts_with("https://") {
                return Ok(e);
            }
            let tls = match &self.ca {
                Some(ca) => ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)),
                None => ClientTlsConfig::new(),
            };
            e.tls_config(tls)
        });
        Box::pin(async move { endpoint?.connect().await })
    }
}
