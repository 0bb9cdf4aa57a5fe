//! Free-text and address fields: names, descriptions, client tokens, CIDR blocks, IPv4 addresses.

use std::net::Ipv4Addr;

use super::error::{DomainError, DomainResult};

/// A name: 2–128 characters, starting with a letter, of letters, digits, `.`, `_` and `-`. Empty = unset.
pub fn name(field: &str, value: &str) -> DomainResult<()> {
    if value.is_empty() {
        return Ok(());
    }
    let len = value.chars().count();
    let starts_with_letter = value.chars().next().is_some_and(char::is_alphabetic);
    let allowed = value.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if (2..=128).contains(&len) && starts_with_letter && allowed && !is_url(value) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            "InvalidName.Malformed",
            format!(
                "{field} must be 2 to 128 characters, start with a letter and contain only letters, digits, \
                 '.', '_' and '-' (got {len} characters)"
            ),
        ))
    }
}

/// A description: 2–256 characters, not starting with `http://` or `https://`. Empty = unset.
pub fn description(field: &str, value: &str) -> DomainResult<()> {
    if value.is_empty() {
        return Ok(());
    }
    let len = value.chars().count();
    if (2..=256).contains(&len) && !is_url(value) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            "InvalidDescription.Malformed",
            format!(
                "{field} must be 2 to 256 characters and must not start with http:// or https:// (got {len} characters)"
            ),
        ))
    }
}

fn is_url(value: &str) -> bool {
    value.starts_with("http://") || value.starts_with("https://")
}

/// A client token: at most 64 printable ASCII characters. Empty = no idempotency.
pub fn client_token(value: &str) -> DomainResult<()> {
    if value.len() <= 64 && value.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "client_token",
            "InvalidClientToken.Malformed",
            "client_token must be at most 64 printable ASCII characters",
        ))
    }
}

/// An IPv4 CIDR block of a VPC, e.g. `172.16.0.0/12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub network: Ipv4Addr,
    pub prefix_len: u8,
}

impl Cidr {
    /// Whether every address of `other` is in this block.
    pub fn covers(&self, other: &Cidr) -> bool {
        self.prefix_len <= other.prefix_len && self.contains(other.network)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix_len)).unwrap_or(0);
        u32::from(ip) & mask == u32::from(self.network)
    }
}

/// Parses a VPC CIDR block: prefix length 8 to 28, no host bits set.
pub fn vpc_cidr(field: &str, value: &str) -> DomainResult<Cidr> {
    cidr(field, value, 8..=28, "InvalidCidrBlock.Malformed")
}

/// Parses a route's destination: prefix length 0 to 32, no host bits set.
pub fn route_cidr(field: &str, value: &str) -> DomainResult<Cidr> {
    cidr(field, value, 0..=32, "InvalidDestinationCidrBlock.Malformed")
}

/// A stored, already valid CIDR block (`None` if it is not one).
pub fn stored_cidr(value: &str) -> Option<Cidr> {
    route_cidr("", value).ok()
}

fn cidr(field: &str, value: &str, lengths: std::ops::RangeInclusive<u8>, reason: &str) -> DomainResult<Cidr> {
    if value.is_empty() {
        return Err(DomainError::missing(field));
    }
    let invalid = |why: String| DomainError::invalid(field, reason, format!("{field} {value:?} {why}"));

    let (addr, len) = value.split_once('/').ok_or_else(|| invalid("is not a CIDR block like 172.16.0.0/12".into()))?;
    let network: Ipv4Addr = addr.parse().map_err(|_| invalid(format!("has an invalid address {addr:?}")))?;
    let prefix_len: u8 = len.parse().ok().filter(|n| lengths.contains(n)).ok_or_else(|| {
        invalid(format!("must have a prefix length between {} and {}", lengths.start(), lengths.end()))
    })?;
    let cidr = Cidr { network, prefix_len };
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix_len)).unwrap_or(0);
    if u32::from(network) & !mask != 0 {
        let fixed = Ipv4Addr::from(u32::from(network) & mask);
        return Err(invalid(format!("has host bits set; did you mean {fixed}/{prefix_len}?")));
    }
    Ok(cidr)
}

/// An optional IPv4 address (health check addresses). Empty = unset.
pub fn ipv4(field: &str, value: &str) -> DomainResult<()> {
    if value.is_empty() || value.parse::<Ipv4Addr>().is_ok() {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            "InvalidIpAddress.Malformed",
            format!("{field} {value:?} is not an IPv4 address"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(name("name", "").is_ok());
        assert!(name("name", "ab").is_ok());
        assert!(name("name", "peer-to_B.1").is_ok());
        assert!(name("name", "对等连接").is_ok());
        for bad in ["a", "1abc", "has space", "http://x", &"a".repeat(129)] {
            let err = name("name", bad).unwrap_err();
            assert_eq!((err.reason.as_str(), err.field.as_deref()), ("InvalidName.Malformed", Some("name")), "{bad}");
        }
    }

    #[test]
    fn descriptions() {
        assert!(description("description", "a link to B").is_ok());
        for bad in ["x", "http://example.com", "https://example.com", &"d".repeat(257)] {
            assert!(description("description", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cidrs() {
        let c = vpc_cidr("cidr_block", "172.16.0.0/12").unwrap();
        assert!(c.contains("172.20.1.1".parse().unwrap()));
        assert!(!c.contains("172.32.0.1".parse().unwrap()));
        for bad in ["", "172.16.0.0", "172.16.0.0/7", "172.16.0.0/29", "300.1.1.1/16", "172.16.0.1/16", "x/y"] {
            assert!(vpc_cidr("cidr_block", bad).is_err(), "{bad}");
        }
        assert!(vpc_cidr("cidr_block", "172.16.0.1/16").unwrap_err().message.contains("172.16.0.0/16"));
    }

    #[test]
    fn client_tokens() {
        assert!(client_token("").is_ok());
        assert!(client_token("abc-123").is_ok());
        assert!(client_token(&"t".repeat(65)).is_err());
        assert!(client_token("has space").is_err());
    }
}
