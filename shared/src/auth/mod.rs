//! Who is calling. Every call to an account's public API proves that the caller holds one of the
//! account's AccessKey pairs, the way the real cloud's API does: it signs the call (its gRPC method), a
//! timestamp and a single-use nonce with the key's secret (HMAC-SHA256), and sends the key id, the
//! timestamp, the nonce and the signature as metadata. The service checks the signature, refuses a
//! timestamp more than 15 minutes off its own clock, and refuses a nonce it has seen (a replay).
//! The operator's calls (SimulationService) need the operator key; the peer link's calls a key per pair of
//! accounts (`peer`).
//!
//! The signature covers the call, not the message: TLS (`--tls-cert`) protects the message in transit.
//! That keeps a signature computable for grpcurl users (`peeringctl sign METHOD` prints the headers).

mod client;
mod credentials;
mod peer;
mod server;

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use client::{PeerSigned, Signed, SigningLayer};
pub use credentials::{AccessKey, CREDENTIALS_FILE, Credentials};
pub use peer::{PEER_KEY_PREFIX, PEER_PROOF_HEADER, PeerAccount, PeerSecrets, development_secret, proof};
pub use server::AuthLayer;

/// The signing method's name, the first line of what is signed.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";
pub const ACCESS_KEY_ID_HEADER: &str = "x-acs-accesskey-id";
pub const DATE_HEADER: &str = "x-acs-date";
pub const NONCE_HEADER: &str = "x-acs-signature-nonce";
pub const SIGNATURE_HEADER: &str = "x-acs-signature";

/// A signed call is accepted this far from the service's clock, either way.
pub const MAX_SKEW: chrono::Duration = chrono::Duration::minutes(15);

/// The metadata that proves a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub access_key_id: String,
    pub date: String,
    pub nonce: String,
    pub signature: String,
}

impl SignedHeaders {
    pub fn pairs(&self) -> [(&'static str, &str); 4] {
        [
            (ACCESS_KEY_ID_HEADER, &self.access_key_id),
            (DATE_HEADER, &self.date),
            (NONCE_HEADER, &self.nonce),
            (SIGNATURE_HEADER, &self.signature),
        ]
    }
}

fn string_to_sign(path: &str, date: &str, nonce: &str, access_key_id: &str) -> String {
    format!("{ALGORITHM}\n{path}\n{date}\n{nonce}\n{access_key_id}")
}

fn mac(secret: &str, path: &str, date: &str, nonce: &str, access_key_id: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(string_to_sign(path, date, nonce, access_key_id).as_bytes());
    mac
}

/// Signs a call to `path` (`/package.Service/Method`) made at `now`, with a fresh nonce.
pub fn sign(key: &AccessKey, path: &str, now: DateTime<Utc>) -> SignedHeaders {
    let date = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let digest = mac(&key.access_key_secret, path, &date, &nonce, &key.access_key_id).finalize().into_bytes();
    SignedHeaders {
        access_key_id: key.access_key_id.clone(),
        date,
        nonce,
        signature: digest.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// Whether `headers` is a valid signature of a call to `path` by `key` (compared in constant time).
pub fn verify(key: &AccessKey, path: &str, headers: &SignedHeaders) -> bool {
    let Some(given) = hex_bytes(&headers.signature) else {
        return false;
    };
    mac(&key.access_key_secret, path, &headers.date, &headers.nonce, &headers.access_key_id)
        .verify_slice(&given)
        .is_ok()
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AccessKey {
        AccessKey { access_key_id: "LTAIexample".into(), access_key_secret: "secret".into() }
    }

    #[test]
    fn a_signature_verifies_only_for_its_call_and_key() {
        let now = Utc::now();
        let signed = sign(&key(), "/expressconnect.v1.VpcService/CreateVpc", now);
        assert!(verify(&key(), "/expressconnect.v1.VpcService/CreateVpc", &signed));
        assert!(!verify(&key(), "/expressconnect.v1.VpcService/DeleteVpc", &signed), "another method");
        let other = AccessKey { access_key_secret: "other".into(), ..key() };
        assert!(!verify(&other, "/expressconnect.v1.VpcService/CreateVpc", &signed), "another secret");
        let moved = SignedHeaders { nonce: "different-nonce".into(), ..signed.clone() };
        assert!(!verify(&key(), "/expressconnect.v1.VpcService/CreateVpc", &moved), "another nonce");
        for bad in ["", "zz", &"g".repeat(64), &"é".repeat(32)] {
            let garbled = SignedHeaders { signature: bad.to_owned(), ..signed.clone() };
            assert!(!verify(&key(), "/expressconnect.v1.VpcService/CreateVpc", &garbled), "{bad:?}");
        }
    }

    #[test]
    fn nonces_are_fresh() {
        let now = Utc::now();
        assert_ne!(sign(&key(), "/a/b", now).nonce, sign(&key(), "/a/b", now).nonce);
    }
}
