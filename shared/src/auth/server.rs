//! The service side: a tower layer in front of every gRPC service that lets a call through only when it
//! is signed by the key its service needs: the account's, the operator's, or (the peer link) the secret
//! shared with the calling account. Health and reflection are open.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use chrono::{DateTime, Utc};

use super::{
    ACCESS_KEY_ID_HEADER, AccessKey, Credentials, DATE_HEADER, MAX_SKEW, NONCE_HEADER, PEER_KEY_PREFIX,
    PEER_PROOF_HEADER, PeerAccount, PeerSecrets, SIGNATURE_HEADER, SignedHeaders,
};
use crate::domain::DomainError;
use crate::grpc::refuse;

/// Calls to these services need the operator's key.
const OPERATOR_SERVICES: &[&str] = &["/expressconnect.v1.SimulationService/"];
/// Calls to these need the account's key.
const ACCOUNT_API: &str = "/expressconnect.v1.";
/// Calls to these need a peer account's shared secret.
const PEER_API: &str = "/expressconnect.peer.v1.";

/// What a call that passed proved.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Admitted {
    /// Needs no proof (health, reflection).
    Open,
    /// Signed by the account's or the operator's key.
    Signed,
    /// Signed by a peer account; the answer carries the proof of this side.
    Peer { account: String, proof: String },
}

/// At most this many nonces are remembered; the oldest go first (they are past the skew window long
/// before this fills at any rate a service can serve).
const NONCE_CAPACITY: usize = 1_000_000;

#[derive(Debug, Clone)]
pub struct AuthLayer {
    credentials: Arc<Credentials>,
    peers: Arc<PeerSecrets>,
    nonces: Arc<Mutex<Nonces>>,
}

impl AuthLayer {
    pub fn new(credentials: Credentials, peers: PeerSecrets) -> Self {
        Self { credentials: Arc::new(credentials), peers: Arc::new(peers), nonces: Arc::default() }
    }

    /// Checks a call to `path` with `headers`; `Ok` lets it through.
    fn check(&self, path: &str, headers: &http::HeaderMap) -> Result<Admitted, DomainError> {
        if path.starts_with(PEER_API) {
            return self.check_peer(path, headers);
        }
        let operator = OPERATOR_SERVICES.iter().any(|p| path.starts_with(p));
        if !operator && !path.starts_with(ACCOUNT_API) {
            return Ok(Admitted::Open);
        }
        let signed = signed_headers(headers)?;
        let (needed, other) = if operator {
            (&self.credentials.operator, &self.credentials.account)
        } else {
            (&self.credentials.account, &self.credentials.operator)
        };
        check_key(needed, other, operator, &signed.access_key_id)?;
        self.check_signature(needed, path, &signed)?;
        Ok(Admitted::Signed)
    }

    /// A peer call: signed as `peer:<account>` with the secret this service shares with that account.
    fn check_peer(&self, path: &str, headers: &http::HeaderMap) -> Result<Admitted, DomainError> {
        let signed = signed_headers(headers)?;
        let account = signed.access_key_id.strip_prefix(PEER_KEY_PREFIX).unwrap_or_default().to_owned();
        let known = crate::domain::ids::parse_account("peer account", &account).is_ok();
        let secret = self.peers.with(&account).filter(|_| known).ok_or_else(|| {
            DomainError::unauthenticated(
                "InvalidAccessKeyId.NotFound",
                format!(
                    "{ACCESS_KEY_ID_HEADER} {:?} is not a peer account of this service (give both services \
                     --peer-key ACCOUNT=SECRET)",
                    signed.access_key_id
                ),
            )
        })?;
        let key = AccessKey { access_key_id: signed.access_key_id.clone(), access_key_secret: secret.clone() };
        self.check_signature(&key, path, &signed)?;
        Ok(Admitted::Peer { account, proof: super::proof(&secret, &signed.nonce) })
    }

    /// The time, the nonce and the signature of a call by `key`.
    fn check_signature(&self, key: &AccessKey, path: &str, signed: &SignedHeaders) -> Result<(), DomainError> {
        let now = Utc::now();
        let date = DateTime::parse_from_rfc3339(&signed.date).map_err(|_| {
            DomainError::unauthenticated(
                "InvalidTimeStamp.Format",
                format!("{DATE_HEADER} {:?} is not an RFC 3339 time such as 2026-01-01T00:00:00Z", signed.date),
            )
        })?;
        if (now - date.to_utc()).abs() > MAX_SKEW {
            return Err(DomainError::unauthenticated(
                "InvalidTimeStamp.Expired",
                format!(
                    "{DATE_HEADER} {} is more than {} minutes from this service's clock ({now}); sign the call again",
                    signed.date,
                    MAX_SKEW.num_minutes()
                ),
            ));
        }
        if !(8..=64).contains(&signed.nonce.len()) {
            return Err(DomainError::unauthenticated(
                "InvalidSignatureNonce",
                format!("{NONCE_HEADER} must be 8 to 64 characters"),
            ));
        }
        if !super::verify(key, path, signed) {
            return Err(DomainError::unauthenticated(
                "SignatureDoesNotMatch",
                format!("the signature is not {}'s signature of this call", signed.access_key_id),
            ));
        }
        let fresh = self.nonces.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(&signed.nonce, now);
        if !fresh {
            return Err(DomainError::unauthenticated(
                "SignatureNonceUsed",
                format!("{NONCE_HEADER} {} was used before: a replayed call; sign each call anew", signed.nonce),
            ));
        }
        Ok(())
    }
}

fn check_key(needed: &AccessKey, other: &AccessKey, operator: bool, given: &str) -> Result<(), DomainError> {
    if given == needed.access_key_id {
        return Ok(());
    }
    if given == other.access_key_id {
        return Err(DomainError::permission_denied(
            "Forbidden.AccessKey",
            if operator {
                format!("{given} is the account's key; SimulationService needs the operator's key")
            } else {
                format!("{given} is the operator's key; the account's resources need the account's key")
            },
        ));
    }
    Err(DomainError::unauthenticated(
        "InvalidAccessKeyId.NotFound",
        format!("{ACCESS_KEY_ID_HEADER} {given:?} is not a key of this account"),
    ))
}

fn signed_headers(headers: &http::HeaderMap) -> Result<SignedHeaders, DomainError> {
    let get = |name: &str| {
        headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned).ok_or_else(|| {
            DomainError::unauthenticated(
                "IncompleteSignature",
                format!(
                    "the call is not signed: {name} is missing. Sign every call with an AccessKey of the account \
                     (peeringctl sign METHOD prints the headers for grpcurl)"
                ),
            )
        })
    };
    Ok(SignedHeaders {
        access_key_id: get(ACCESS_KEY_ID_HEADER)?,
        date: get(DATE_HEADER)?,
        nonce: get(NONCE_HEADER)?,
        signature: get(SIGNATURE_HEADER)?,
    })
}

/// Nonces seen within the skew window.
#[derive(Debug, Default)]
struct Nonces {
    seen: HashMap<String, DateTime<Utc>>,
    order: VecDeque<(DateTime<Utc>, String)>,
}

impl Nonces {
    /// Remembers `nonce`; false if it was already there.
    fn insert(&mut self, nonce: &str, now: DateTime<Utc>) -> bool {
        while let Some((at, _)) = self.order.front() {
            if now - *at <= MAX_SKEW * 2 && self.order.len() < NONCE_CAPACITY {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        if self.seen.contains_key(nonce) {
            return false;
        }
        self.seen.insert(nonce.to_owned(), now);
        self.order.push_back((now, nonce.to_owned()));
        true
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = Authenticated<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authenticated { layer: self.clone(), inner }
    }
}

#[derive(Debug, Clone)]
pub struct Authenticated<S> {
    layer: AuthLayer,
    inner: S,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for Authenticated<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = crate::BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        match self.layer.check(request.uri().path(), request.headers()) {
            Ok(Admitted::Open | Admitted::Signed) => Box::pin(self.inner.call(request)),
            Ok(Admitted::Peer { account, proof }) => {
                request.extensions_mut().insert(PeerAccount(account));
                let answer = self.inner.call(request);
                Box::pin(async move {
                    let mut response = answer.await?;
                    if let Ok(proof) = http::HeaderValue::from_str(&proof) {
                        response.headers_mut().insert(PEER_PROOF_HEADER, proof);
                    }
                    Ok(response)
                })
            }
            Err(refusal) => {
                tracing::info!(path = request.uri().path(), reason = %refusal.reason, "call refused");
                refuse(refusal)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ErrorKind;

    fn layer() -> AuthLayer {
        AuthLayer::new(
            Credentials::development("1000000000000001"),
            PeerSecrets::new("1000000000000001", false, [("1000000000000003".to_owned(), "pair".to_owned())].into()),
        )
    }

    fn headers(signed: &SignedHeaders) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in signed.pairs() {
            map.insert(name, value.parse().unwrap());
        }
        map
    }

    const CREATE: &str = "/expressconnect.v1.VpcService/CreateVpc";
    const ADVANCE: &str = "/expressconnect.v1.SimulationService/AdvanceClock";

    fn refusal(layer: &AuthLayer, path: &str, signed: &SignedHeaders) -> (ErrorKind, String) {
        let e = layer.check(path, &headers(signed)).unwrap_err();
        (e.kind, e.reason)
    }

    #[test]
    fn only_a_fresh_signature_by_the_right_key_passes() {
        let layer = layer();
        let keys = Credentials::development("1000000000000001");
        let good = super::super::sign(&keys.account, CREATE, Utc::now());
        assert_eq!(layer.check(CREATE, &headers(&good)), Ok(Admitted::Signed));
        assert_eq!(refusal(&layer, CREATE, &good), (ErrorKind::Unauthenticated, "SignatureNonceUsed".into()));
        let stranger = Credentials::development("1000000000000002").account;
        let theirs = super::super::sign(&stranger, CREATE, Utc::now());
        assert_eq!(refusal(&layer, CREATE, &theirs).1, "InvalidAccessKeyId.NotFound");
        let forged =
            SignedHeaders { signature: "0".repeat(64), ..super::super::sign(&keys.account, CREATE, Utc::now()) };
        assert_eq!(refusal(&layer, CREATE, &forged).1, "SignatureDoesNotMatch");
        let old = super::super::sign(&keys.account, CREATE, Utc::now() - chrono::Duration::minutes(16));
        assert_eq!(refusal(&layer, CREATE, &old).1, "InvalidTimeStamp.Expired");
        let operator_on_account = super::super::sign(&keys.operator, CREATE, Utc::now());
        assert_eq!(refusal(&layer, CREATE, &operator_on_account).0, ErrorKind::PermissionDenied);
        let account_on_operator = super::super::sign(&keys.account, ADVANCE, Utc::now());
        assert_eq!(refusal(&layer, ADVANCE, &account_on_operator).0, ErrorKind::PermissionDenied);
        assert!(layer.check(ADVANCE, &headers(&super::super::sign(&keys.operator, ADVANCE, Utc::now()))).is_ok());
        let e = layer.check(CREATE, &http::HeaderMap::new()).unwrap_err();
        assert_eq!((e.kind, e.reason.as_str()), (ErrorKind::Unauthenticated, "IncompleteSignature"));
        assert!(layer.check("/grpc.health.v1.Health/Check", &http::HeaderMap::new()).is_ok());
    }

    #[test]
    fn a_peer_call_proves_its_account_by_the_pair_secret() {
        let layer = layer();
        const ADMIT: &str = "/expressconnect.peer.v1.PeerLink/Admit";
        let peer = AccessKey { access_key_id: "peer:1000000000000003".into(), access_key_secret: "pair".into() };
        let signed = super::super::sign(&peer, ADMIT, Utc::now());
        let expected =
            Admitted::Peer { account: "1000000000000003".into(), proof: super::super::proof("pair", &signed.nonce) };
        assert_eq!(layer.check(ADMIT, &headers(&signed)), Ok(expected));
        assert_eq!(refusal(&layer, ADMIT, &signed).1, "SignatureNonceUsed", "a replayed peer call");
        let impostor = AccessKey { access_key_secret: "guess".into(), ..peer.clone() };
        assert_eq!(
            refusal(&layer, ADMIT, &super::super::sign(&impostor, ADMIT, Utc::now())).1,
            "SignatureDoesNotMatch"
        );
        let stranger = AccessKey { access_key_id: "peer:1000000000000009".into(), ..peer };
        assert_eq!(
            refusal(&layer, ADMIT, &super::super::sign(&stranger, ADMIT, Utc::now())).1,
            "InvalidAccessKeyId.NotFound"
        );
        assert_eq!(layer.check(ADMIT, &http::HeaderMap::new()).unwrap_err().reason, "IncompleteSignature");
    }

    #[test]
    fn old_nonces_are_forgotten_after_the_window() {
        let mut nonces = Nonces::default();
        let start = Utc::now();
        assert!(nonces.insert("nonce-0001", start));
        assert!(!nonces.insert("nonce-0001", start + MAX_SKEW));
        assert!(nonces.insert("nonce-0002", start + MAX_SKEW * 3));
        assert_eq!(nonces.seen.len(), 1, "the first nonce was dropped once past the window");
    }
}
