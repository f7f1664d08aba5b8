//! Analyses: pure, synchronous and deterministic. No I/O, no HTTP.
//!
//! - [`need`]: per-area referral counts, rates and the composite need score.
//! - [`equity`]: referrals, population and rates by SIMD quintile.
//! - [`rollup`]: need aggregated to parent codes or, by area-weighted overlay, to boundary sets.
//! - [`access`]: travel costs, nearest premises, catchments, provider choice, 2SFCA/E2SFCA.
//! - [`hours`]: opening hours, demand by hour of the week, hours gaps, hours-aware 2SFCA.
//! - [`extend`]: ranked extensions of opening hours that meet the most unmet demand.
//! - [`siting`]: location-allocation (MCLP, co-location, LSCP, p-median, p-center) with bounds.
//! - [`scenario`]: premises edits and the measures that compare scenarios by SIMD quintile.
//! - [`signpost`]: who can help at a place, ranked by travel time, and when they are open.
//! - [`trends`]: referrals per area per complete period, Mann-Kendall / Poisson trends,
//!   Benjamini-Hochberg FDR, the fastest-rising areas.
//! - [`hotspots`]: spatial weights, Getis-Ord Gi*, local Moran's I, emerging hot spots.
//! - [`projection`]: projected referrals with prediction intervals, population scaling, backtests.
//! - [`early_warning`]: areas crossing rate, growth and hot spot thresholds, as a demand vector.

pub mod access;
pub mod boundaries;
pub mod early_warning;
pub mod equity;
pub mod extend;
pub mod hotspots;
pub mod hours;
pub mod need;
pub mod projection;
pub mod rollup;
pub mod scenario;
pub mod signpost;
pub mod siting;
pub mod trends;

pub use equity::{equity_table, EquityRow, EquityTable};
pub use need::{need_map, percentile_scores, AreaNeed, NeedMap};
pub use rollup::{rollup_by_column, rollup_to_boundaries, Rollup, RollupUnit};
