//! Typed ids: indexes into the atlas's vectors, never mixed up with one another.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub u32);

        impl $name {
            /// The id as a vector index.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(
    /// A small area (data zone), by position in the atlas.
    AreaId
);
id_type!(
    /// A referral, by position in the referral set.
    ReferralId
);
id_type!(
    /// A premises (service point), by position in the atlas.
    PremisesId
);
id_type!(
    /// A unit of a boundary set, by position in its set.
    BoundaryUnitId
);
