//! The peer link's proof of who is calling: each pair of accounts shares a secret (`--peer-key
//! ACCOUNT=SECRET` on both services). The initiator signs every peer call as `peer:<its account>` with
//! that secret, the way a client signs with an AccessKey, so the acceptor learns the calling account from
//! the signature, never from a field the caller fills in; a replayed call is refused by its nonce. The
//! acceptor answers with a proof over the call's nonce, so the initiator knows it reached the account it
//! meant to.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::AccessKey;

/// The key-id prefix of peer signatures.
pub const PEER_KEY_PREFIX: &str = "peer:";
/// The acceptor's answer: HMAC of the call's nonce with the pair's secret.
pub const PEER_PROOF_HEADER: &str = "x-acs-peer-proof";

/// The secrets this service shares with its peer accounts.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PeerSecrets {
    local_account: String,
    development: bool,
    secrets: BTreeMap<String, String>,
}

impl std::fmt::Debug for PeerSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerSecrets")
            .field("local_account", &self.local_account)
            .field("development", &self.development)
            .field("accounts", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The well-known secret of a pair of accounts under `--dev-credentials`: the same on both sides.
pub fn development_secret(one: &str, other: &str) -> String {
    let (low, high) = if one <= other { (one, other) } else { (other, one) };
    format!("insecure-development-peer-secret-{low}-{high}")
}

impl PeerSecrets {
    /// `secrets`: peer account → secret; with `development`, any other account's development secret too.
    pub fn new(local_account: &str, development: bool, secrets: BTreeMap<String, String>) -> Self {
        Self { local_account: local_account.to_owned(), development, secrets }
    }

    /// The secret shared with `account`, if any.
    pub fn with(&self, account: &str) -> Option<String> {
        self.secrets
            .get(account)
            .cloned()
            .or_else(|| self.development.then(|| development_secret(&self.local_account, account)))
    }

    /// The key this service signs its peer calls with towards `account`.
    pub fn signing_key(&self, account: &str) -> Option<AccessKey> {
        Some(AccessKey {
            access_key_id: format!("{PEER_KEY_PREFIX}{}", self.local_account),
            access_key_secret: self.with(account)?,
        })
    }
}

/// The acceptor's proof for a call with `nonce`.
pub fn proof(secret: &str, nonce: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(format!("peer-proof\n{nonce}").as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The account a verified peer call came from; the acceptor's handlers read it from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAccount(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_derive_the_same_development_secret_and_configured_ones_win() {
        let a = PeerSecrets::new("1000000000000001", true, BTreeMap::new());
        let b = PeerSecrets::new("1000000000000002", true, BTreeMap::new());
        assert_eq!(a.with("1000000000000002"), b.with("1000000000000001"));
        let configured =
            PeerSecrets::new("1000000000000001", false, [("1000000000000002".to_owned(), "s".to_owned())].into());
        assert_eq!(configured.with("1000000000000002").as_deref(), Some("s"));
        assert_eq!(configured.with("1000000000000003"), None, "no secret, no peer");
        assert_eq!(configured.signing_key("1000000000000002").unwrap().access_key_id, "peer:1000000000000001");
        assert!(!format!("{configured:?}").contains("\"s\""), "Debug hides the secrets");
    }
}
