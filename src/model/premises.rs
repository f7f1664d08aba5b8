//! Premises and service points (schools, nurseries, health centres, ...).

use super::PremisesId;

/// One premises.
#[derive(Clone, Debug)]
pub struct Premises {
    pub id: PremisesId,
    /// The file it was read from (for reports).
    pub source: String,
    /// The code from the source file, unique within the atlas.
    pub code: String,
    pub name: String,
    /// Kind of premises, lower case with underscores (`health_centre`).
    pub kind: String,
    /// Services offered there.
    pub services: Vec<String>,
    pub capacity: Option<f64>,
    pub provider: Option<String>,
    /// Opening hours in OpenStreetMap `opening_hours` syntax, as given.
    pub opening_hours: Option<String>,
    /// Who the premises serves, in words (for signposting), as given.
    pub eligibility: Option<String>,
    /// Position in British National Grid metres.
    pub x_m: f64,
    pub y_m: f64,
    pub lon: f64,
    pub lat: f64,
}
