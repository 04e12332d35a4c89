//! Fixed-point numbers for money: 8 decimal places on an `i64`.
//!
//! Prices, quantities and amounts are integers scaled by 10^8, on both sides of the
//! WebAssembly boundary, so no float rounding ever enters the order path. The three types
//! are distinct so that a quantity cannot be passed where a price is expected; multiplying
//! a [`Price`] by a [`Qty`] gives an [`Amount`] (a notional, a PnL or a fee).
//!
//! Arithmetic comes in two flavours: `checked_*` methods that return `None` on overflow,
//! and the usual operators, which panic on overflow like integer arithmetic in debug
//! builds. Inside a strategy a panic traps the component and quarantines it, which is the
//! safe outcome for a number that no longer means anything.

use std::fmt;
use std::str::FromStr;

/// Number of decimal places of every fixed-point type.
pub const DECIMALS: u32 = 8;
/// The raw value of `1`: 10^[`DECIMALS`].
pub const SCALE: i64 = 100_000_000;

/// Why a decimal string could not be read as a fixed-point number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseFixedError {
    /// The string is empty (or only a sign).
    Empty,
    /// A character that is not a digit, a leading sign or one decimal point.
    InvalidCharacter(char),
    /// More than [`DECIMALS`] digits after the point; rounding would lose money silently.
    TooManyDecimals,
    /// The value does not fit in 8-decimal fixed point on an `i64`.
    Overflow,
}

impl fmt::Display for ParseFixedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseFixedError::Empty => write!(f, "empty number"),
            ParseFixedError::InvalidCharacter(c) => write!(f, "unexpected character {c:?}"),
            ParseFixedError::TooManyDecimals => {
                write!(f, "more than {DECIMALS} decimal places")
            }
            ParseFixedError::Overflow => write!(f, "number out of range"),
        }
    }
}

impl std::error::Error for ParseFixedError {}

/// Parses a decimal string (`"-12.345"`, `"+3"`, `".5"`) into a raw scaled integer, in
/// one pass over the bytes: replay files hold millions of these.
fn parse_raw(s: &str) -> Result<i64, ParseFixedError> {
    let s = s.trim_ascii();
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits == "." {
        return Err(ParseFixedError::Empty);
    }
    let (mut int, mut frac, mut frac_digits) = (0u64, 0u64, 0u32);
    let (mut seen_point, mut too_many_decimals, mut overflow) = (false, false, false);
    for (i, b) in digits.bytes().enumerate() {
        match b {
            b'0'..=b'9' if seen_point => {
                if frac_digits == DECIMALS {
                    too_many_decimals = true;
                } else {
                    frac = frac * 10 + u64::from(b - b'0');
                    frac_digits += 1;
                }
            }
            b'0'..=b'9' => match int
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
            {
                Some(v) => int = v,
                None => overflow = true,
            },
            b'.' if !seen_point => seen_point = true,
            // Every byte before `i` is ASCII, so `i` is on a character boundary.
            _ => {
                let c = digits[i..].chars().next().unwrap_or('?');
                return Err(ParseFixedError::InvalidCharacter(c));
            }
        }
    }
    if too_many_decimals {
        return Err(ParseFixedError::TooManyDecimals);
    }
    if overflow {
        return Err(ParseFixedError::Overflow);
    }
    let magnitude =
        i128::from(int) * i128::from(SCALE) + i128::from(frac * 10u64.pow(DECIMALS - frac_digits));
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).map_err(|_| ParseFixedError::Overflow)
}

/// Writes a raw scaled integer as a decimal with no trailing zeros (`150000000` -> `1.5`).
fn format_raw(raw: i64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let sign = if raw < 0 { "-" } else { "" };
    let magnitude = raw.unsigned_abs();
    let scale = SCALE as u64;
    let int_part = magnitude / scale;
    let frac_part = magnitude % scale;
    let text = if frac_part == 0 {
        format!("{sign}{int_part}")
    } else {
        let frac = format!("{frac_part:08}");
        format!("{sign}{int_part}.{}", frac.trim_end_matches('0'))
    };
    f.pad(&text)
}

/// `a * b / SCALE` with an `i128` intermediate; truncates toward zero.
fn mul_scaled(a: i64, b: i64) -> Option<i64> {
    i64::try_from(i128::from(a) * i128::from(b) / i128::from(SCALE)).ok()
}

/// `a * SCALE / b` with an `i128` intermediate; truncates toward zero.
fn div_scaled(a: i64, b: i64) -> Option<i64> {
    if b == 0 {
        return None;
    }
    i64::try_from(i128::from(a) * i128::from(SCALE) / i128::from(b)).ok()
}

macro_rules! fixed_point {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[derive(serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Zero.
            pub const ZERO: $name = $name(0);
            /// One whole unit.
            pub const ONE: $name = $name(SCALE);
            /// The smallest positive value, 10^-8.
            pub const EPSILON: $name = $name(1);
            /// The largest value.
            pub const MAX: $name = $name(i64::MAX);

            /// From the raw scaled integer (`150000000` is `1.5`).
            pub const fn from_raw(raw: i64) -> Self {
                $name(raw)
            }

            /// The raw scaled integer.
            pub const fn raw(self) -> i64 {
                self.0
            }

            /// A whole number of units; `None` on overflow.
            pub const fn from_int(units: i64) -> Option<Self> {
                match units.checked_mul(SCALE) {
                    Some(raw) => Some($name(raw)),
                    None => None,
                }
            }

            /// The nearest fixed-point value to a float, for strategy maths; `None` for
            /// NaN, infinities and values out of range.
            pub fn from_f64(value: f64) -> Option<Self> {
                let scaled = (value * SCALE as f64).round();
                if scaled.is_finite() && scaled >= i64::MIN as f64 && scaled < i64::MAX as f64 {
                    Some($name(scaled as i64))
                } else {
                    None
                }
            }

            /// As a float, for strategy maths (indicators, skews). Never for order sizes
            /// without converting back through [`Self::from_f64`] and rounding to the
            /// instrument's increments.
            pub fn to_f64(self) -> f64 {
                self.0 as f64 / SCALE as f64
            }

            /// `self + other`, `None` on overflow.
            pub const fn checked_add(self, other: Self) -> Option<Self> {
                match self.0.checked_add(other.0) {
                    Some(raw) => Some($name(raw)),
                    None => None,
                }
            }

            /// `self - other`, `None` on overflow.
            pub const fn checked_sub(self, other: Self) -> Option<Self> {
                match self.0.checked_sub(other.0) {
                    Some(raw) => Some($name(raw)),
                    None => None,
                }
            }

            /// `self * n` for a whole number `n`, `None` on overflow.
            pub const fn checked_mul_int(self, n: i64) -> Option<Self> {
                match self.0.checked_mul(n) {
                    Some(raw) => Some($name(raw)),
                    None => None,
                }
            }

            /// `self / n` for a whole number `n`, truncated toward zero; `None` if `n` is 0.
            pub const fn checked_div_int(self, n: i64) -> Option<Self> {
                match self.0.checked_div(n) {
                    Some(raw) => Some($name(raw)),
                    None => None,
                }
            }

            /// The absolute value.
            pub const fn abs(self) -> Self {
                $name(self.0.saturating_abs())
            }

            /// True if strictly positive.
            pub const fn is_positive(self) -> bool {
                self.0 > 0
            }

            /// True if strictly negative.
            pub const fn is_negative(self) -> bool {
                self.0 < 0
            }

            /// True if zero.
            pub const fn is_zero(self) -> bool {
                self.0 == 0
            }

            /// True if `self` is a whole multiple of `step` (a tick or lot size). Any value
            /// is a multiple of a zero step.
            pub const fn is_multiple_of(self, step: Self) -> bool {
                step.0 == 0 || self.0 % step.0 == 0
            }

            /// Rounds toward zero to a multiple of `step`; unchanged for a zero step.
            pub const fn round_down_to(self, step: Self) -> Self {
                if step.0 == 0 {
                    self
                } else {
                    // |self % step| <= |self|, so the subtraction cannot overflow.
                    $name(self.0 - self.0 % step.0)
                }
            }

            /// Rounds to the nearest multiple of `step` (halves away from zero); unchanged
            /// for a zero step. Panics if the result does not fit, like the operators.
            pub const fn round_to(self, step: Self) -> Self {
                if step.0 == 0 {
                    return self;
                }
                let rem = self.0 % step.0;
                let down = self.0 - rem;
                // Compare |rem| with |step| - |rem| rather than doubling |rem|, which could overflow.
                let rem_abs = rem.unsigned_abs();
                let step_abs = step.0.unsigned_abs();
                if rem_abs >= step_abs - rem_abs {
                    let away = step.0.saturating_abs() * self.0.signum();
                    match down.checked_add(away) {
                        Some(raw) => $name(raw),
                        None => panic!(concat!(stringify!($name), " rounding overflowed")),
                    }
                } else {
                    $name(down)
                }
            }
        }

        impl FromStr for $name {
            type Err = ParseFixedError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_raw(s).map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                format_raw(self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl std::ops::Add for $name {
            type Output = $name;
            fn add(self, other: $name) -> $name {
                self.checked_add(other)
                    .expect(concat!(stringify!($name), " addition overflowed"))
            }
        }

        impl std::ops::Sub for $name {
            type Output = $name;
            fn sub(self, other: $name) -> $name {
                self.checked_sub(other)
                    .expect(concat!(stringify!($name), " subtraction overflowed"))
            }
        }

        impl std::ops::AddAssign for $name {
            fn add_assign(&mut self, other: $name) {
                *self = *self + other;
            }
        }

        impl std::ops::SubAssign for $name {
            fn sub_assign(&mut self, other: $name) {
                *self = *self - other;
            }
        }

        impl std::ops::Neg for $name {
            type Output = $name;
            fn neg(self) -> $name {
                $name(self.0.checked_neg().expect(concat!(stringify!($name), " negation overflowed")))
            }
        }
    };
}

fixed_point!(
    /// A price, 8 decimal places.
    Price
);
fixed_point!(
    /// A quantity, 8 decimal places. Positions are signed quantities.
    Qty
);
fixed_point!(
    /// An amount of the quote currency (a notional, a PnL, a fee), 8 decimal places.
    Amount
);

impl Price {
    /// The notional `self x qty`, `None` on overflow. Truncates below 10^-8.
    pub fn checked_notional(self, qty: Qty) -> Option<Amount> {
        mul_scaled(self.0, qty.0).map(Amount)
    }

    /// The mid of two prices, rounded toward the lower one.
    pub fn midpoint(self, other: Price) -> Price {
        Price(((i128::from(self.0) + i128::from(other.0)).div_euclid(2)) as i64)
    }
}

impl Amount {
    /// `self / qty` as a price (an average price from a notional); `None` when `qty` is
    /// zero or on overflow.
    pub fn checked_per_qty(self, qty: Qty) -> Option<Price> {
        div_scaled(self.0, qty.0).map(Price)
    }

    /// `self x bps / 10_000`, for fees in basis points (may be fractional: `0.75` bps).
    pub fn checked_mul_bps(self, bps: Amount) -> Option<Amount> {
        i64::try_from(i128::from(self.0) * i128::from(bps.0) / (i128::from(SCALE) * 10_000))
            .ok()
            .map(Amount)
    }
}

impl std::ops::Mul<Qty> for Price {
    type Output = Amount;
    fn mul(self, qty: Qty) -> Amount {
        self.checked_notional(qty).expect("notional overflowed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Price {
        s.parse().unwrap()
    }

    #[test]
    fn parses_decimal_strings() {
        assert_eq!(p("1.5").raw(), 150_000_000);
        assert_eq!(p("-0.00000001").raw(), -1);
        assert_eq!(p("+42").raw(), 42 * SCALE);
        assert_eq!(p(".5").raw(), 50_000_000);
        assert_eq!(p("7.").raw(), 7 * SCALE);
        assert_eq!(p(" 3.25 ").raw(), 325_000_000);
        assert_eq!(p("92233720368.54775807").raw(), i64::MAX);
        assert_eq!(p("-92233720368.54775808").raw(), i64::MIN);
        assert_eq!(
            "1.5é".parse::<Price>(),
            Err(ParseFixedError::InvalidCharacter('é'))
        );
        assert_eq!(
            "1.000000001x".parse::<Price>(),
            Err(ParseFixedError::InvalidCharacter('x'))
        );
    }

    #[test]
    fn refuses_what_it_cannot_represent_exactly() {
        assert_eq!("".parse::<Price>(), Err(ParseFixedError::Empty));
        assert_eq!("-".parse::<Price>(), Err(ParseFixedError::Empty));
        assert_eq!(
            "1.000000001".parse::<Price>(),
            Err(ParseFixedError::TooManyDecimals)
        );
        assert_eq!(
            "1e5".parse::<Price>(),
            Err(ParseFixedError::InvalidCharacter('e'))
        );
        assert_eq!(
            "1.2.3".parse::<Price>(),
            Err(ParseFixedError::InvalidCharacter('.'))
        );
        assert_eq!(
            "92233720368.54775808".parse::<Price>(),
            Err(ParseFixedError::Overflow)
        );
        assert_eq!(
            "99999999999999999999999".parse::<Price>(),
            Err(ParseFixedError::Overflow)
        );
    }

    #[test]
    fn formats_without_trailing_zeros_and_round_trips() {
        for s in ["0", "1.5", "-0.00000001", "50000.12", "-3", "0.1"] {
            assert_eq!(p(s).to_string(), s);
        }
        assert_eq!(format!("{:>6}", p("1.5")), "   1.5");
        assert_eq!(format!("{:?}", p("2")), "Price(2)");
    }

    #[test]
    fn checked_arithmetic_reports_overflow() {
        assert_eq!(Price::MAX.checked_add(Price::EPSILON), None);
        assert_eq!(p("1.5").checked_sub(p("2")), Some(p("-0.5")));
        assert_eq!(p("1.5").checked_mul_int(3), Some(p("4.5")));
        assert_eq!(p("1").checked_div_int(0), None);
        assert_eq!(Price::from_int(i64::MAX), None);
    }

    #[test]
    #[should_panic(expected = "Price addition overflowed")]
    fn operators_panic_on_overflow() {
        let _ = Price::MAX + Price::EPSILON;
    }

    #[test]
    fn notional_fees_and_average_prices() {
        let notional = p("50000.5") * "0.02".parse::<Qty>().unwrap();
        assert_eq!(notional, "1000.01".parse::<Amount>().unwrap());
        let fee = notional.checked_mul_bps("7.5".parse().unwrap()).unwrap();
        assert_eq!(fee.to_string(), "0.7500075");
        assert_eq!(
            notional.checked_per_qty("0.02".parse().unwrap()),
            Some(p("50000.5"))
        );
        assert_eq!(notional.checked_per_qty(Qty::ZERO), None);
        assert_eq!(Price::MAX.checked_notional(Qty::MAX), None);
    }

    #[test]
    fn steps_and_rounding() {
        let tick = p("0.05");
        assert!(p("1.15").is_multiple_of(tick));
        assert!(!p("1.17").is_multiple_of(tick));
        assert!(p("1.17").is_multiple_of(Price::ZERO));
        assert_eq!(p("1.17").round_down_to(tick), p("1.15"));
        assert_eq!(p("1.175").round_to(tick), p("1.2"));
        assert_eq!(p("1.17").round_to(tick), p("1.15"));
        assert_eq!(p("-1.175").round_to(tick), p("-1.2"));
        assert_eq!(p("100").midpoint(p("100.01")), p("100.005"));
        assert_eq!(Price::MAX.round_down_to(tick), p("92233720368.5"));
        assert_eq!(
            Price::from_raw(i64::MIN + 1).round_down_to(tick).raw() % tick.raw(),
            0
        );
    }

    #[test]
    #[should_panic(expected = "Price rounding overflowed")]
    fn rounding_past_the_range_panics() {
        let _ = Price::MAX.round_to("0.05".parse().unwrap());
    }

    #[test]
    fn float_conversion_for_strategy_maths() {
        assert_eq!(Price::from_f64(0.1), Some(p("0.1")));
        assert_eq!(Price::from_f64(f64::NAN), None);
        assert_eq!(Price::from_f64(1e12), None);
        assert_eq!(p("1234.5678").to_f64(), 1234.5678);
    }
}
