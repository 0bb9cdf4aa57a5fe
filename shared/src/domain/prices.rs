//! Money and the price table: what each spec costs per month, per hour, and across a border. The table is
//! a data file the user can replace (`--price-table`); the built-in one is `shared/data/prices.json`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::catalog::{self, SPECS};
use super::error::{DomainError, DomainResult};

/// An amount in hundredths of the currency unit (cents, fen). Integer, so sums are exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Money(pub i64);

impl Money {
    pub const ZERO: Money = Money(0);

    /// Parses a decimal with at most two places: "500", "99.5", "-3.25".
    pub fn parse(field: &str, text: &str) -> DomainResult<Money> {
        let bad = || {
            DomainError::invalid(
                field,
                "InvalidParameter",
                format!("{field} must be a decimal number with at most two places, such as \"99.50\" (got {text:?})"),
            )
        };
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || whole.len() > 12 || fraction.len() > 2 || !all_digits(whole) || !all_digits(fraction) {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
        let cents = whole * 100 + fraction;
        Ok(Money(if negative { -cents } else { cents }))
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// `self × numerator / denominator`, rounded half away from zero to the cent.
    pub fn scale(self, numerator: i64, denominator: i64) -> Money {
        if denominator == 0 {
            return Money::ZERO;
        }
        let product = i128::from(self.0) * i128::from(numerator);
        let denominator = i128::from(denominator);
        let rounded = (2 * product + product.signum() * denominator.abs()) / (2 * denominator);
        Money(i64::try_from(rounded).unwrap_or(i64::MAX))
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// The price table file, as written.
#[derive(Debug, Deserialize)]
struct PriceFile {
    currency: String,
    hours_per_month: u32,
    cross_border_factor: String,
    monthly: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceTable {
    pub currency: String,
    hours_per_month: i64,
    /// In hundredths: 300 = three times.
    cross_border_factor: i64,
    monthly: BTreeMap<String, Money>,
}

/// The built-in table.
pub const BUILT_IN: &str = include_str!("../../data/prices.json");

impl PriceTable {
    pub fn built_in() -> PriceTable {
        // The built-in file is checked by a unit test, so this cannot fail at run time.
        PriceTable::parse(BUILT_IN).unwrap_or_else(|e| panic!("the built-in price table is invalid: {e}"))
    }

    /// Reads a table; every spec of the catalogue must have a non-negative price.
    pub fn parse(json: &str) -> Result<PriceTable, String> {
        let file: PriceFile = serde_json::from_str(json).map_err(|e| format!("not a price table: {e}"))?;
        if file.currency.trim().is_empty() {
            return Err("currency must not be empty".into());
        }
        if file.hours_per_month == 0 {
            return Err("hours_per_month must be positive".into());
        }
        let factor = Money::parse("cross_border_factor", &file.cross_border_factor).map_err(|e| e.message)?;
        if factor.is_negative() {
            return Err("cross_border_factor must not be negative".into());
        }
        let mut monthly = BTreeMap::new();
        for (spec, price) in &file.monthly {
            if catalog::bandwidth(spec) == 0 {
                return Err(format!("monthly: {spec:?} is not a spec"));
            }
            let price = Money::parse(&format!("monthly.{spec}"), price).map_err(|e| e.message)?;
            if price.is_negative() {
                return Err(format!("monthly.{spec} must not be negative"));
            }
            monthly.insert(spec.clone(), price);
        }
        if let Some((missing, _)) = SPECS.iter().find(|(spec, _)| !monthly.contains_key(*spec)) {
            return Err(format!("monthly: no price for {missing}"));
        }
        Ok(PriceTable {
            currency: file.currency,
            hours_per_month: i64::from(file.hours_per_month),
            cross_border_factor: factor.0,
            monthly,
        })
    }

    /// What one month of `spec` costs an initiator end in `region` whose opposite is in `opposite_region`.
    pub fn monthly(&self, spec: &str, region: &str, opposite_region: &str) -> Money {
        if !charged_between(region, opposite_region) {
            return Money::ZERO;
        }
        let base = self.monthly.get(spec).copied().unwrap_or_default();
        if cross_border(region, opposite_region) { base.scale(self.cross_border_factor, 100) } else { base }
    }

    /// One hour of pay-as-you-go.
    pub fn hourly(&self, spec: &str, region: &str, opposite_region: &str) -> Money {
        self.monthly(spec, region, opposite_region).scale(1, self.hours_per_month)
    }
}

/// The seed's rule: an end is charged only when the two regions differ.
pub fn charged_between(region: &str, opposite_region: &str) -> bool {
    region != opposite_region
}

/// One region inside mainland China and the other outside.
fn cross_border(region: &str, opposite_region: &str) -> bool {
    let mainland = |id: &str| catalog::region("region_id", id).is_ok_and(|r| r.mainland);
    mainland(region) != mainland(opposite_region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_and_prints() {
        assert_eq!(Money::parse("amount", "500").unwrap(), Money(50_000));
        assert_eq!(Money::parse("amount", "99.5").unwrap(), Money(9_950));
        assert_eq!(Money::parse("amount", "-3.25").unwrap(), Money(-325));
        assert_eq!(Money(-325).to_string(), "-3.25");
        assert_eq!(Money(7).to_string(), "0.07");
        for bad in ["", "1.234", "abc", "1,5", ".5", "-", "9999999999999"] {
            let error = Money::parse("amount", bad).unwrap_err();
            assert_eq!(error.field.as_deref(), Some("amount"), "{bad:?}");
        }
    }

    #[test]
    fn scale_rounds_half_away_from_zero() {
        assert_eq!(Money(6000).scale(1, 720), Money(8));
        assert_eq!(Money(100).scale(1, 8), Money(13));
        assert_eq!(Money(-100).scale(1, 8), Money(-13));
        assert_eq!(Money(1000).scale(300, 100), Money(3000));
    }

    #[test]
    fn the_built_in_table_prices_every_spec() {
        let table = PriceTable::built_in();
        for (spec, _) in SPECS {
            assert!(table.monthly(spec, "cn-hangzhou", "cn-shanghai") > Money::ZERO, "{spec}");
        }
    }

    #[test]
    fn same_region_is_free_and_a_border_multiplies() {
        let table = PriceTable::built_in();
        let domestic = table.monthly("Small.1", "cn-hangzhou", "cn-beijing");
        assert_eq!(table.monthly("Small.1", "cn-hangzhou", "cn-hangzhou"), Money::ZERO);
        assert_eq!(table.monthly("Small.1", "cn-hangzhou", "us-west-1"), domestic.scale(3, 1));
        assert_eq!(
            table.monthly("Small.1", "us-west-1", "eu-central-1"),
            table.monthly("Small.1", "cn-hangzhou", "cn-beijing")
        );
        assert_eq!(table.hourly("Small.1", "cn-hangzhou", "cn-beijing"), domestic.scale(1, 720));
    }

    #[test]
    fn a_table_missing_a_spec_is_refused() {
        let json = BUILT_IN.replace("\"Mini.2\": \"60.00\",", "");
        assert!(PriceTable::parse(&json).unwrap_err().contains("Mini.2"));
        let json = BUILT_IN.replace("\"Mini.2\"", "\"Huge.9\"");
        assert!(PriceTable::parse(&json).unwrap_err().contains("Huge.9"));
    }
}
