//! The named aggregations and the floating-point rules both engines share.
//!
//! - `sum`: plain `f64` addition in row order, starting from `+0.0` (so a group of only `-0.0`
//!   sums to `+0.0`, as `values.reduce((a, b) => a + b, 0)` does in JavaScript).
//! - `count`: the number of rows; values are ignored.
//! - `min` / `max`: JavaScript's `Math.min` / `Math.max`: a NaN anywhere gives NaN, and
//!   `-0.0` is smaller than `+0.0`.
//! - `mean`: the `sum` above divided by the count.
//!
//! NaN results are written as the canonical quiet NaN (`0x7ff8000000000000`) wherever bytes
//! are compared (snapshots), so payload differences never leak out.

use crate::EngineError;

/// A named aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggOp {
    Sum,
    Count,
    Min,
    Max,
    Mean,
}

impl AggOp {
    /// Every op, in the order of their stable byte codes.
    pub const ALL: [AggOp; 5] = [
        AggOp::Sum,
        AggOp::Count,
        AggOp::Min,
        AggOp::Max,
        AggOp::Mean,
    ];

    /// The op's name as written in the TypeScript API.
    pub fn name(self) -> &'static str {
        match self {
            AggOp::Sum => "sum",
            AggOp::Count => "count",
            AggOp::Min => "min",
            AggOp::Max => "max",
            AggOp::Mean => "mean",
        }
    }

    /// Parses an op name (`"sum"`, `"count"`, `"min"`, `"max"`, `"mean"`).
    pub fn parse(name: &str) -> Result<AggOp, EngineError> {
        AggOp::ALL
            .into_iter()
            .find(|op| op.name() == name)
            .ok_or_else(|| EngineError::InvalidArgument {
                name: "op",
                reason: format!("must be one of sum, count, min, max, mean; got {name:?}"),
            })
    }

    /// The op's stable byte code in snapshots.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The op with byte code `code`.
    pub fn from_code(code: u8) -> Option<AggOp> {
        AggOp::ALL.get(code as usize).copied()
    }

    /// True for ops whose window value can be updated by subtracting what leaves the window.
    pub fn is_invertible(self) -> bool {
        matches!(self, AggOp::Sum | AggOp::Count | AggOp::Mean)
    }

    /// True when the op reads the values column (all but `count`).
    pub fn reads_values(self) -> bool {
        self != AggOp::Count
    }
}

/// `Math.min`: NaN propagates, `-0.0 < +0.0`.
#[inline]
pub fn js_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a < b || (a == b && a.is_sign_negative()) {
        a
    } else {
        b
    }
}

/// `Math.max`: NaN propagates, `+0.0 > -0.0`.
#[inline]
pub fn js_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a > b || (a == b && b.is_sign_negative()) {
        a
    } else {
        b
    }
}

/// The bits of `value` with every NaN written as the canonical quiet NaN.
#[inline]
pub fn canonical_bits(value: f64) -> u64 {
    if value.is_nan() {
        0x7ff8_0000_0000_0000
    } else {
        value.to_bits()
    }
}

/// Checks that `values` fits `rows` for `op`: one value per row, or none at all for `count`.
pub fn check_values(op: AggOp, rows: usize, values: usize) -> Result<(), EngineError> {
    if values == rows || (!op.reads_values() && values == 0) {
        return Ok(());
    }
    Err(EngineError::InvalidArgument {
        name: "values",
        reason: format!(
            "holds {values} entries for {rows} keys (give one value per key{})",
            if op.reads_values() {
                ""
            } else {
                ", or none for count"
            }
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_follow_javascript() {
        assert!(js_min(1.0, f64::NAN).is_nan());
        assert!(js_max(f64::NAN, 1.0).is_nan());
        assert!(js_min(0.0, -0.0).is_sign_negative());
        assert!(js_min(-0.0, 0.0).is_sign_negative());
        assert!(js_max(-0.0, 0.0).is_sign_positive());
        assert!(js_max(0.0, -0.0).is_sign_positive());
        assert_eq!(js_min(f64::NEG_INFINITY, 3.0), f64::NEG_INFINITY);
        assert_eq!(js_max(2.0, 3.0), 3.0);
    }

    #[test]
    fn ops_round_trip_names_and_codes() {
        for op in AggOp::ALL {
            assert_eq!(AggOp::parse(op.name()).unwrap(), op);
            assert_eq!(AggOp::from_code(op.code()), Some(op));
        }
        assert!(AggOp::parse("avg").is_err());
        assert_eq!(canonical_bits(-f64::NAN), 0x7ff8_0000_0000_0000);
    }
}
