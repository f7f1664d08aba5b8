//! Analyses: pure, synchronous and deterministic. No I/O, no HTTP.
//!
//! - [`need`]: per-area referral counts, rates and the composite need score.
//! - [`equity`]: referrals, population and rates by SIMD quintile.
//! - [`rollup`]: need aggregated to parent codes or, by area-weighted overlay, to boundary sets.

pub mod access;
pub mod boundaries;
pub mod equity;
pub mod hours;
pub mod need;
pub mod rollup;

pub use equity::{equity_table, EquityRow, EquityTable};
pub use need::{need_map, percentile_scores, AreaNeed, NeedMap};
pub use rollup::{rollup_by_column, rollup_to_boundaries, Rollup, RollupUnit};
