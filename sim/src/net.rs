//! The simulator's network under the real gRPC stack: a listener stream for the servers, a connector
//! for the initiator's peer link and for the simulated users.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use initiator_svc::dial::{self, Dialer, Dialing};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;
use tonic::transport::{Channel, Uri};

/// Every service listens on this port of its simulated host.
pub const PORT: u16 = 9000;

/// A simulated TCP connection, as tonic's server wants it.
#[derive(Debug)]
pub struct SimStream(turmoil::net::TcpStream);

impl Connected for SimStream {
    type ConnectInfo = ();

    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for SimStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for SimStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// Accepted connections on this host's port, as a stream.
pub async fn incoming() -> io::Result<ReceiverStream<io::Result<SimStream>>> {
    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", PORT)).await?;
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let accepted = listener.accept().await.map(|(stream, _)| SimStream(stream));
            if tx.send(accepted).await.is_err() {
                return;
            }
        }
    });
    Ok(ReceiverStream::new(rx))
}

/// A channel to `host`'s service over the simulated network.
pub async fn channel(url: String) -> Result<Channel, tonic::transport::Error> {
    dial::endpoint(&url)?
        .connect_with_connector(tower::service_fn(|uri: Uri| async move {
            let host = uri.host().unwrap_or_default().to_owned();
            let port = uri.port_u16().unwrap_or(PORT);
            turmoil::net::TcpStream::connect((host.as_str(), port)).await.map(TokioIo::new)
        }))
        .await
}

/// The initiator's peer link over the simulated network.
#[derive(Debug, Clone, Copy)]
pub struct SimDialer;

impl Dialer for SimDialer {
    fn dial(&self, url: &str) -> Dialing {
        Box::pin(channel(url.to_owned()))
    }
}
