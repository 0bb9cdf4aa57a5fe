//! The account's AccessKey pair and the operator's: given by flag, the well-known development pair, or
//! generated at first start and kept in the data directory (mode 0600).

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The file in the data directory that keeps generated keys.
pub const CREDENTIALS_FILE: &str = "credentials.json";

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    pub access_key_id: String,
    pub access_key_secret: String,
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

impl AccessKey {
    /// A new random pair: an id like the cloud's (`LTAI` + 20 characters) and a 32-character secret,
    /// from the operating system's random source.
    pub fn generate() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        Self { access_key_id: format!("LTAI{}", &id[..20]), access_key_secret: secret[..32].to_owned() }
    }
}

/// Who may call a service: the account's own key, and the operator's (SimulationService).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub account: AccessKey,
    pub operator: AccessKey,
}

impl Credentials {
    /// The quickstart's well-known keys: anyone can compute them, so they protect nothing.
    pub fn development(account_id: &str) -> Self {
        Self {
            account: AccessKey {
                access_key_id: format!("LTAIdev{account_id}"),
                access_key_secret: format!("insecure-development-secret-{account_id}"),
            },
            operator: AccessKey {
                access_key_id: "LTAIdevoperator".to_owned(),
                access_key_secret: "insecure-development-operator-secret".to_owned(),
            },
        }
    }

    pub fn generate() -> Self {
        Self { account: AccessKey::generate(), operator: AccessKey::generate() }
    }

    /// The keys kept in `dir`, made (readable by the owner only) if there are none yet.
    pub fn load_or_create(dir: &Path) -> Result<Self, String> {
        let path = dir.join(CREDENTIALS_FILE);
        match std::fs::read_to_string(&path) {
            Ok(json) => {
                serde_json::from_str(&json).map_err(|e| format!("{}: not a credentials file: {e}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let credentials = Self::generate();
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                write_private(&path, &serde_json::to_string_pretty(&credentials).unwrap_or_default())
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                Ok(credentials)
            }
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }
}

/// Writes a new file that only its owner can read.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_kept_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("credentials-test-{}", uuid::Uuid::new_v4()));
        let first = Credentials::load_or_create(&dir).unwrap();
        assert!(first.account.access_key_id.starts_with("LTAI") && first.account.access_key_id.len() == 24);
        assert_eq!(first.account.access_key_secret.len(), 32);
        assert_ne!(first.account, first.operator);
        assert_eq!(Credentials::load_or_create(&dir).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(CREDENTIALS_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{:?}", first.account).contains(&first.account.access_key_secret), "Debug hides it");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
