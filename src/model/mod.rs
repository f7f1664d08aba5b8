//! Plain data types: areas, referrals, premises and boundary sets, with typed ids.
//! Geometry here is always in the working CRS (British National Grid, metres).

pub mod area;
pub mod boundary;
pub mod ids;
pub mod premises;
pub mod referral;

pub use area::{Area, Simd};
pub use boundary::{BoundarySet, BoundaryUnit};
pub use ids::{AreaId, BoundaryUnitId, PremisesId, ReferralId};
pub use premises::Premises;
pub use referral::{Referral, ReferralSet};
