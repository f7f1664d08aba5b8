//! Readers, validation and writers: the only place that knows file formats.
//! Everything is projected to British National Grid metres on the way in and
//! written back as WGS84 (6 decimals) on the way out.

pub mod boundaries_study;
pub mod export;
pub mod geojson;
pub mod gpkg;
pub mod mvt;
#[cfg(feature = "postgis")]
pub mod pgstore;
#[cfg(feature = "postgis")]
pub mod pgtiles;
pub mod postcodes;
pub mod publish;
pub mod referrals;
pub mod report;
pub mod roads;
pub mod scenarios;
pub mod shapefile;
pub mod store;
pub mod study;
pub mod table;
pub mod trends_study;
pub mod vector;
pub mod workspace;
pub mod writers;

pub use report::{Diagnostic, Report, Severity};
pub use workspace::{load_workspace, Atlas};
