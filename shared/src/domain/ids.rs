//! Resource ids: `vpc-…`, `vrt-…`, `vtb-…`, `vbr-…`, `ri-…`, and 16-digit account ids.

use super::error::{DomainError, DomainResult};

pub const VPC: &str = "vpc";
pub const VROUTER: &str = "vrt";
pub const ROUTE_TABLE: &str = "vtb";
pub const VBR: &str = "vbr";
pub const ROUTER_INTERFACE: &str = "ri";
pub const ROUTE_ENTRY: &str = "rte";

const SUFFIX_LEN: usize = 22;
const MAX_SUFFIX_LEN: usize = 64;

/// A new random id with the given prefix: 22 lowercase base-36 characters, like the cloud's.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", random_suffix())
}

fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut n = crate::random::next_u128();
    (0..SUFFIX_LEN)
        .map(|_| {
            let c = ALPHABET[(n % 36) as usize] as char;
            n /= 36;
            c
        })
        .collect()
}

/// The part after the prefix: a VPC, its vRouter and its route table share it, so a user of another account
/// can name a VPC's vRouter from its VPC id alone (the console asks for the peer's VPC id).
pub fn suffix(id: &str) -> &str {
    id.split_once('-').map_or(id, |(_, s)| s)
}

/// Checks that `value` is a well-formed id with `prefix` and returns it.
pub fn parse<'a>(field: &str, prefix: &str, value: &'a str) -> DomainResult<&'a str> {
    if value.is_empty() {
        return Err(DomainError::missing(field));
    }
    let well_formed = value.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('-')).is_some_and(|s| {
        !s.is_empty() && s.len() <= MAX_SUFFIX_LEN && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if well_formed {
        Ok(value)
    } else {
        Err(DomainError::invalid(
            field,
            "InvalidParameter",
            format!("{field} {value:?} is not a valid id: expected {prefix}- followed by lowercase letters and digits"),
        ))
    }
}

/// A request names at most this many ids in one list.
pub const MAX_IDS_PER_LIST: usize = 100;

/// Checks every id of a list (and that the list is not too long).
pub fn parse_list(field: &str, prefix: &str, values: &[String]) -> DomainResult<()> {
    if values.len() > MAX_IDS_PER_LIST {
        return Err(DomainError::invalid(
            field,
            "InvalidParameter",
            format!("{field} names {} ids; at most {MAX_IDS_PER_LIST} per request", values.len()),
        ));
    }
    for value in values {
        parse(field, prefix, value)?;
    }
    Ok(())
}

/// Checks a 16-digit account id.
pub fn parse_account<'a>(field: &str, value: &'a str) -> DomainResult<&'a str> {
    if value.is_empty() {
        return Err(DomainError::missing(field));
    }
    if value.len() == 16 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value)
    } else {
        Err(DomainError::invalid(
            field,
            "InvalidParameter",
            format!("{field} {value:?} is not an account id: expected 16 digits"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_parse_and_differ() {
        let a = new_id(VPC);
        let b = new_id(VPC);
        assert_ne!(a, b);
        assert_eq!(parse("vpc_id", VPC, &a), Ok(a.as_str()));
        assert_eq!(a.len(), 4 + SUFFIX_LEN);
    }

    #[test]
    fn malformed_ids_are_refused_with_the_field() {
        for bad in ["vpc", "vpc-", "vbr-abc", "vpc-ABC", "vpc-a b", "vpc_abc"] {
            let err = parse("vpc_id", VPC, bad).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("vpc_id"), "{bad}");
        }
        assert_eq!(parse("vpc_id", VPC, "").unwrap_err().reason, "MissingParameter");
    }

    #[test]
    fn account_ids_are_sixteen_digits() {
        assert!(parse_account("a", "1000000000000001").is_ok());
        for bad in ["100000000000000", "10000000000000012", "10000000000000a1", ""] {
            assert!(parse_account("a", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_vpc_and_its_router_share_a_suffix() {
        assert_eq!(suffix("vpc-abc"), "abc");
    }
}
