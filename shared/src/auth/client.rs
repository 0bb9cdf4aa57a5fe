//! The client side: a tower layer that signs every call with an AccessKey, for the tests, the simulator,
//! `peeringctl` and anyone calling from Rust.

use std::task::{Context, Poll};

use super::AccessKey;

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
        let signed = super::sign(&self.key, request.uri().path(), chrono::Utc::now());
        for (name, value) in signed.pairs() {
            // Every part is ASCII (an id, a time, hex), so it is always a valid header value.
            if let Ok(value) = http::HeaderValue::from_str(value) {
                request.headers_mut().insert(name, value);
            }
        }
        self.inner.call(request)
    }
}
