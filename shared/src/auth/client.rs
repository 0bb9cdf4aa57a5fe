//! The client side: a tower layer that signs every call with an AccessKey, for the tests, the simulator,
//! `peeringctl` and anyone calling from Rust.

use std::task::{Context, Poll};

use super::AccessKey;

/// Signs `request` with `key` now: the signature metadata goes into its headers.
fn sign_request<B>(key: &AccessKey, request: &mut http::Request<B>) -> super::SignedHeaders {
    let signed = super::sign(key, request.uri().path(), chrono::Utc::now());
    for (name, value) in signed.pairs() {
        // Every part is ASCII (an id, a time, hex), so it is always a valid header value.
        if let Ok(value) = http::HeaderValue::from_str(value) {
            request.headers_mut().insert(name, value);
        }
    }
    signed
}

#[derive(Debug, Clone)]
pub struct SigningLayer {
    key: AccessKey,
}

impl SigningLayer {
    pub fn new(key: AccessKey) -> Self {
        Self { key }
    }
}

impl<S> tower::Layer<S> for SigningLayer {
    type Service = Signed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Signed { key: self.key.clone(), inner }
    }
}

/// A gRPC channel whose calls are signed.
#[derive(Debug, Clone)]
pub struct Signed<S> {
    key: AccessKey,
    inner: S,
}

impl<S> Signed<S> {
    pub fn new(inner: S, key: AccessKey) -> Self {
        Self { key, inner }
    }
}

impl<S, B> tower::Service<http::Request<B>> for Signed<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        sign_request(&self.key, &mut request);
        self.inner.call(request)
    }
}

/// A channel to a peer account's service: every call is signed with the secret the two accounts share,
/// and an answer counts only if it carries the peer's proof over the call's nonce; otherwise the call
/// fails with UNAUTHENTICATED, as if the peer had refused it.
#[derive(Debug, Clone)]
pub struct PeerSigned<S> {
    key: AccessKey,
    inner: S,
}

impl<S> PeerSigned<S> {
    /// `key`: `peer:<this account>` and the secret shared with the peer.
    pub fn new(inner: S, key: AccessKey) -> Self {
        Self { key, inner }
    }
}

impl<S, B, ResBody> tower::Service<http::Request<B>> for PeerSigned<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = crate::BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let signed = sign_request(&self.key, &mut request);
        let expected = super::proof(&self.key.access_key_secret, &signed.nonce);
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            let proven =
                response.headers().get(super::PEER_PROOF_HEADER).is_some_and(|p| p.as_bytes() == expected.as_bytes());
            // A refusal by the peer (no proof, since it did not accept our signature) passes as it is.
            let refused = response.headers().get("grpc-status").is_some_and(|s| s != "0");
            if proven || refused {
                return Ok(response);
            }
            let status = crate::grpc::to_status(crate::domain::DomainError::unauthenticated(
                "PeerProofMissing",
                "the peer's answer does not prove it holds the secret this account shares with it: not the account \
                 it claims to be, or a different --peer-key",
            ));
            Ok(status.into_http())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::future::Ready;

    use super::*;

    /// A peer that answers every call with the given proof header, or none.
    #[derive(Clone)]
    struct Answering(Option<String>);

    impl tower::Service<http::Request<()>> for Answering {
        type Response = http::Response<tonic::body::Body>;
        type Error = std::convert::Infallible;
        type Future = Ready<Result<Self::Response, Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: http::Request<()>) -> Self::Future {
            let mut response = http::Response::new(tonic::body::Body::default());
            let proof = match self.0.as_deref() {
                Some("right") => {
                    let nonce = request.headers()[super::super::NONCE_HEADER].to_str().unwrap_or_default();
                    Some(super::super::proof("shared", nonce))
                }
                other => other.map(str::to_owned),
            };
            if let Some(proof) = proof {
                response.headers_mut().insert(super::super::PEER_PROOF_HEADER, proof.parse().unwrap());
            }
            std::future::ready(Ok(response))
        }
    }

    async fn answer(peer: Answering) -> Option<String> {
        let key = AccessKey { access_key_id: "peer:1000000000000001".into(), access_key_secret: "shared".into() };
        let mut client = PeerSigned::new(peer, key);
        let request = http::Request::builder().uri("/expressconnect.peer.v1.PeerLink/Deliver").body(()).unwrap();
        let response = tower::Service::call(&mut client, request).await.unwrap();
        response.headers().get("grpc-status").map(|s| s.to_str().unwrap().to_owned())
    }

    #[tokio::test]
    async fn an_answer_counts_only_with_the_peers_proof() {
        assert_eq!(answer(Answering(Some("right".into()))).await, None, "proven: passed through");
        let unauthenticated = Some((tonic::Code::Unauthenticated as i32).to_string());
        assert_eq!(answer(Answering(None)).await, unauthenticated, "no proof");
        assert_eq!(answer(Answering(Some("00".repeat(32)))).await, unauthenticated, "a wrong proof");
    }
}
