//! The built-in catalogue: regions, their access points, and the bandwidth specs.

use super::error::{DomainError, DomainResult};

#[derive(Debug)]
pub struct Region {
    pub id: &'static str,
    /// Inside mainland China (a pair across this border is cross-border for billing).
    pub mainland: bool,
    pub access_points: &'static [&'static str],
}

pub const REGIONS: &[Region] = &[
    Region { id: "cn-hangzhou", mainland: true, access_points: &["ap-cn-hangzhou-yh-B", "ap-cn-hangzhou-jg-A"] },
    Region { id: "cn-shanghai", mainland: true, access_points: &["ap-cn-shanghai-nh-A", "ap-cn-shanghai-xz-B"] },
    Region { id: "cn-beijing", mainland: true, access_points: &["ap-cn-beijing-ft-A", "ap-cn-beijing-sjq-B"] },
    Region { id: "cn-shenzhen", mainland: true, access_points: &["ap-cn-shenzhen-bt-A"] },
    Region { id: "cn-hongkong", mainland: false, access_points: &["ap-cn-hongkong-kcs-A"] },
    Region { id: "ap-southeast-1", mainland: false, access_points: &["ap-sg-singpost-A"] },
    Region { id: "us-west-1", mainland: false, access_points: &["ap-us-sv-rc-A"] },
    Region { id: "eu-central-1", mainland: false, access_points: &["ap-de-fra-dr-A"] },
];

pub fn region(field: &str, id: &str) -> DomainResult<&'static Region> {
    if id.is_empty() {
        return Err(DomainError::missing(field));
    }
    REGIONS.iter().find(|r| r.id == id).ok_or_else(|| {
        let known: Vec<_> = REGIONS.iter().map(|r| r.id).collect();
        DomainError::not_found(
            field,
            "InvalidRegionId.NotFound",
            format!("{field} {id:?} is not a region; known regions: {}", known.join(", ")),
        )
    })
}

/// Checks that `access_point` exists in `region`.
pub fn access_point(field: &str, region: &Region, access_point: &str) -> DomainResult<()> {
    if access_point.is_empty() {
        return Err(DomainError::missing(field));
    }
    if region.access_points.contains(&access_point) {
        Ok(())
    } else {
        Err(DomainError::not_found(
            field,
            "InvalidAccessPointId.NotFound",
            format!(
                "{field} {access_point:?} is not an access point of {}; its access points: {}",
                region.id,
                region.access_points.join(", ")
            ),
        ))
    }
}

/// The acceptor's spec: not applicable, it uses the initiator's bandwidth.
pub const NEGATIVE_SPEC: &str = "Negative";

/// Bandwidth specs and their Mbit/s.
pub const SPECS: &[(&str, u32)] = &[
    ("Mini.2", 2),
    ("Mini.5", 5),
    ("Small.1", 10),
    ("Small.2", 20),
    ("Small.5", 50),
    ("Middle.1", 100),
    ("Middle.2", 200),
    ("Middle.5", 500),
    ("Large.1", 1000),
    ("Large.2", 2000),
    ("Large.5", 5000),
    ("Xlarge.1", 10000),
];

/// The bandwidth of a spec, in Mbit/s; 0 for Negative.
pub fn bandwidth(spec: &str) -> u32 {
    SPECS.iter().find(|(s, _)| *s == spec).map_or(0, |(_, mbps)| *mbps)
}

/// Checks an initiator's spec (a bandwidth tier; not Negative).
pub fn spec(field: &str, value: &str) -> DomainResult<&'static str> {
    if value.is_empty() {
        return Err(DomainError::missing(field));
    }
    SPECS.iter().find(|(s, _)| *s == value).map(|(s, _)| *s).ok_or_else(|| {
        let known: Vec<_> = SPECS.iter().map(|(s, _)| *s).collect();
        DomainError::invalid(
            field,
            "InvalidSpec",
            format!("{field} {value:?} is not a spec; the specs are {}", known.join(", ")),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_has_an_access_point() {
        for r in REGIONS {
            assert!(!r.access_points.is_empty());
            for ap in r.access_points {
                assert!(access_point("a", r, ap).is_ok());
            }
        }
    }

    #[test]
    fn unknown_region_and_access_point_are_not_found() {
        assert_eq!(region("region_id", "mars-1").unwrap_err().reason, "InvalidRegionId.NotFound");
        let hz = region("region_id", "cn-hangzhou").unwrap();
        assert_eq!(access_point("ap", hz, "ap-sg-singpost-A").unwrap_err().reason, "InvalidAccessPointId.NotFound");
    }

    #[test]
    fn specs_map_to_bandwidth() {
        assert_eq!(bandwidth("Large.1"), 1000);
        assert_eq!(bandwidth(NEGATIVE_SPEC), 0);
        assert!(spec("spec", "Negative").is_err());
        assert_eq!(spec("spec", "Mini.2"), Ok("Mini.2"));
    }
}
