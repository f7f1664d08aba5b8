//! Referral events: special-category personal data. Never leave the process raw
//! except to a data steward (see [`crate::privacy`]).

use chrono::NaiveDateTime;

use super::{AreaId, ReferralId};

/// One referral, placed in the working CRS.
#[derive(Clone, Debug)]
pub struct Referral {
    pub id: ReferralId,
    /// Easting and northing in metres (British National Grid).
    pub x_m: f64,
    pub y_m: f64,
    /// Local date and time the referral was received, where given and valid.
    pub received: Option<NaiveDateTime>,
    /// Index into [`ReferralSet::groups`].
    pub group: Option<u16>,
    /// The small area that contains the point, if any.
    pub area: Option<AreaId>,
    /// 1-based data row in the source file (for reports).
    pub row: usize,
}

/// All referrals with their category names.
#[derive(Clone, Debug, Default)]
pub struct ReferralSet {
    pub referrals: Vec<Referral>,
    /// Client group names, sorted; referrals point into this list.
    pub groups: Vec<String>,
}
