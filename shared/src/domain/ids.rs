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

/// A new id with the given prefix: 22 lowercase base-36 characters, like the cloud's, that sort in the order
/// the service made them (most significant digit first; see [`crate::random::next_ascending`]). The store
/// keeps ends in the order of their ids, so ends made together share pages, and the two ends of connections
/// made together sort alike in both accounts: a resync's commits on either side then touch few pages.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", ascending_suffix(crate::random::next_ascending()))
}

fn ascending_suffix(mut n: u128) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut digits = [b'0'; SUFFIX_LEN];
    for digit in digits.iter_mut().rev() {
        *digit = ALPHABET[(n % 36) as usize];
        n /= 36;
    }
    digits.iter().map(|&d| char::from(d)).collect()
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
    fn ids_sort_in_the_order_they_were_made() {
        let made: Vec<String> = (0..1000).map(|_| new_id(ROUTER_INTERFACE)).collect();
        assert!(made.windows(2).all(|w| w[0] < w[1]), "{made:?}");
    }

    #[test]
    fn every_number_of_the_ascending_width_has_its_own_suffix_in_its_order() {
        let largest = u128::MAX >> (128 - crate::random::ASCENDING_BITS);
        assert_eq!(ascending_suffix(0), "0".repeat(SUFFIX_LEN));
        assert_eq!(ascending_suffix(35), format!("{}z", "0".repeat(SUFFIX_LEN - 1)));
        assert_eq!(ascending_suffix(36), format!("{}10", "0".repeat(SUFFIX_LEN - 2)));
        // The widest numbers still fit 22 digits (36^22 > 2^113): none wraps onto a smaller one's suffix.
        assert!(ascending_suffix(largest - 1) < ascending_suffix(largest));
        assert!(36u128.checked_pow(SUFFIX_LEN as u32).is_some_and(|room| room > largest));
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
