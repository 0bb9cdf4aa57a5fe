//! `peeringctl sign METHOD`: the signature headers of one call, as grpcurl flags, so that grpcurl users can
//! call the signed API: `grpcurl $(peeringctl sign expressconnect.v1.VpcService/DescribeVpcs) ...`.

use shared::auth::{AccessKey, Credentials};

/// The gRPC path of a method named as grpcurl names it: `pkg.Service/Method`, `pkg.Service.Method` or
/// `/pkg.Service/Method`.
pub fn path_of(method: &str) -> Result<String, String> {
    let method = method.trim_start_matches('/');
    let (service, name) = method
        .split_once('/')
        .or_else(|| method.rsplit_once('.'))
        .filter(|(service, name)| service.contains('.') && !name.is_empty() && !name.contains(['/', '.']))
        .ok_or_else(|| format!("{method:?} is not a method such as expressconnect.v1.VpcService/DescribeVpcs"))?;
    Ok(format!("/{service}/{name}"))
}

/// The key to sign with: the one given, else the operator's or the account's development key.
pub fn key(account_id: &str, operator: bool, given: Option<AccessKey>) -> AccessKey {
    given.unwrap_or_else(|| {
        let development = Credentials::development(account_id);
        if operator { development.operator } else { development.account }
    })
}

/// The grpcurl flags carrying the signature of a call to `path` made now.
pub fn grpcurl_flags(key: &AccessKey, path: &str) -> String {
    let signed = shared::auth::sign(key, path, chrono::Utc::now());
    signed.pairs().iter().map(|(name, value)| format!("-H {name}:{value}")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_in_every_grpcurl_spelling() {
        for spelling in [
            "expressconnect.v1.VpcService/DescribeVpcs",
            "/expressconnect.v1.VpcService/DescribeVpcs",
            "expressconnect.v1.VpcService.DescribeVpcs",
        ] {
            assert_eq!(path_of(spelling).unwrap(), "/expressconnect.v1.VpcService/DescribeVpcs", "{spelling}");
        }
        for bad in ["", "DescribeVpcs", "a/b/c", "expressconnect.v1.VpcService/"] {
            assert!(path_of(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_flags_carry_a_valid_signature() {
        let key = key("1000000000000001", false, None);
        let flags = grpcurl_flags(&key, "/expressconnect.v1.VpcService/DescribeVpcs");
        assert!(!flags.contains(' ') || flags.split(' ').count() == 8, "{flags}");
        assert!(flags.contains("-H x-acs-accesskey-id:LTAIdev1000000000000001"), "{flags}");
    }
}
