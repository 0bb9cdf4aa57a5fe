//! `peeringctl dev-certs`: a development certificate authority and a server certificate signed by it, for
//! `--tls-cert`/`--tls-key` on the services and `--tls-ca` (or grpcurl's `-cacert`) on their callers.

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair};

/// The files written into the output directory.
pub const CA_FILE: &str = "ca.pem";
pub const CERT_FILE: &str = "server.pem";
pub const KEY_FILE: &str = "server.key";

/// Writes a new CA and a server certificate for `names` (DNS names or IP addresses) into `dir`.
pub fn write(dir: &Path, names: &[String]) -> Result<(), String> {
    let ca_key = KeyPair::generate().map_err(|e| format!("a CA key: {e}"))?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name = name("Express Connect emulator development CA");
    let ca_cert = ca.self_signed(&ca_key).map_err(|e| format!("the CA certificate: {e}"))?;
    let issuer = Issuer::new(ca, ca_key);

    let server_key = KeyPair::generate().map_err(|e| format!("a server key: {e}"))?;
    let mut server = CertificateParams::new(names.to_vec()).map_err(|e| format!("names {names:?}: {e}"))?;
    server.distinguished_name = name("Express Connect emulator service");
    let server_cert = server.signed_by(&server_key, &issuer).map_err(|e| format!("the server certificate: {e}"))?;

    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |file: &str, contents: &str, private: bool| -> Result<(), String> {
        let path = dir.join(file);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if private {
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        }
        let _ = private;
        std::io::Write::write_all(
            &mut options.open(&path).map_err(|e| format!("{}: {e}", path.display()))?,
            contents.as_bytes(),
        )
        .map_err(|e| format!("{}: {e}", path.display()))
    };
    write(CA_FILE, &ca_cert.pem(), false)?;
    write(CERT_FILE, &server_cert.pem(), false)?;
    write(KEY_FILE, &server_key.serialize_pem(), true)
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name
}
