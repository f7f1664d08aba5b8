//! The workspace file `needmap.toml`: where the data are and how to read them.
//! Unknown keys are errors. Paths are relative to the workspace file.
//!
//! ```toml
//! region = "Scotland"
//! [areas]
//! path = "dz2011_scotland.geojson"
//! id = "dz11_code"
//! name = "dz11_name"
//! population = "Total_population"
//! [[indicators]]
//! path = "simd2020v2_withinds.csv"
//! key = "Data_Zone"
//! [referrals]
//! path = "referrals.csv"
//! x = "lon"
//! y = "lat"
//! crs = "EPSG:4326"
//! time = "received_at"
//! group = "client_group"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// The whole workspace.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// A display name for the region (shown in the map title).
    #[serde(default)]
    pub region: Option<String>,
    /// Attribution text for the data, shown with every map and export.
    #[serde(default)]
    pub attribution: Option<String>,
    /// The small areas (polygons).
    pub areas: AreasConfig,
    /// Tables joined to the areas by code.
    #[serde(default)]
    pub indicators: Vec<IndicatorConfig>,
    /// Referral events (points or postcodes).
    #[serde(default)]
    pub referrals: Option<ReferralsConfig>,
    /// Postcode lookup used when referrals carry postcodes.
    #[serde(default)]
    pub postcodes: Option<PostcodesConfig>,
    /// Premises layers.
    #[serde(default)]
    pub premises: Vec<PremisesConfig>,
    /// Named boundary sets.
    #[serde(default)]
    pub boundaries: Vec<BoundaryConfig>,
    /// Need score and period settings.
    #[serde(default)]
    pub need: NeedConfig,
    /// Web map settings.
    #[serde(default)]
    pub map: MapConfig,
    /// Directory of the workspace file; paths resolve against it. Set by [`Config::load`].
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// Small areas.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreasConfig {
    /// GeoJSON or Shapefile of polygons.
    pub path: PathBuf,
    /// Column holding the unique area code.
    pub id: String,
    /// Column holding the area name.
    #[serde(default)]
    pub name: Option<String>,
    /// Column (of the areas or of an indicator table) holding the resident population.
    #[serde(default)]
    pub population: Option<String>,
    /// CRS of the file when it does not say (GeoJSON defaults to EPSG:4326).
    #[serde(default)]
    pub crs: Option<String>,
    /// Column with the SIMD rank (1 = most deprived). Found automatically when a
    /// column name contains `SIMD` and ends in `_Rank`.
    #[serde(default)]
    pub simd_rank: Option<String>,
    /// Column with the SIMD decile (1 = most deprived). Found automatically like the rank.
    #[serde(default)]
    pub simd_decile: Option<String>,
    /// Parent code columns offered as roll-up levels (for example `iz11_code`, `ca_code`).
    /// Default: every text column of the areas ending in `_code`, other than the id.
    #[serde(default)]
    pub parents: Option<Vec<String>>,
}

/// A table joined to the areas.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorConfig {
    /// CSV file.
    pub path: PathBuf,
    /// Column holding the area code.
    pub key: String,
    /// Columns to keep (default: all).
    #[serde(default)]
    pub columns: Option<Vec<String>>,
}

/// Referral events.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralsConfig {
    /// CSV file, one referral a row.
    pub path: PathBuf,
    /// Column with longitude or easting.
    #[serde(default)]
    pub x: Option<String>,
    /// Column with latitude or northing.
    #[serde(default)]
    pub y: Option<String>,
    /// CRS of x and y: `EPSG:4326` (default) or `EPSG:27700`.
    #[serde(default)]
    pub crs: Option<String>,
    /// Column with a postcode, placed through `[postcodes]` (instead of x and y).
    #[serde(default)]
    pub postcode: Option<String>,
    /// Column with the local date and time received (RFC 3339 or ISO 8601).
    #[serde(default)]
    pub time: Option<String>,
    /// Column with the client group or another category.
    #[serde(default)]
    pub group: Option<String>,
}

/// Postcode lookup file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostcodesConfig {
    /// CSV file.
    pub path: PathBuf,
    /// Postcode column (default: `postcode`, `pcd` or `pcds`).
    #[serde(default)]
    pub postcode: Option<String>,
    /// Coordinate columns (default: `longitude`/`latitude`, else `easting`/`northing`).
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
    /// CRS of x and y when given.
    #[serde(default)]
    pub crs: Option<String>,
}

/// A premises layer.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PremisesConfig {
    /// GeoJSON or Shapefile of points.
    pub path: PathBuf,
    /// Id column (default `premises_id`; the feature number when absent).
    #[serde(default)]
    pub id: Option<String>,
    /// Name column (default `name`).
    #[serde(default)]
    pub name: Option<String>,
    /// Kind column (default `kind`).
    #[serde(default)]
    pub kind_column: Option<String>,
    /// One kind for every feature of the layer (for example `school`), instead of a column.
    #[serde(default)]
    pub kind: Option<String>,
    /// Services column, `;`-separated (default `services`).
    #[serde(default)]
    pub services: Option<String>,
    /// Capacity column (default `capacity`).
    #[serde(default)]
    pub capacity: Option<String>,
    /// Provider column (default `provider`).
    #[serde(default)]
    pub provider: Option<String>,
    /// Opening hours column in OSM `opening_hours` syntax (default `opening_hours`).
    #[serde(default)]
    pub opening_hours: Option<String>,
    /// CRS when the file does not say.
    #[serde(default)]
    pub crs: Option<String>,
}

/// A named boundary set.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundaryConfig {
    /// Name used in the API, the map and roll-ups (for example `wards`).
    pub name: String,
    /// GeoJSON or Shapefile of polygons.
    pub path: PathBuf,
    /// Column holding the unit code.
    pub id: String,
    /// Column holding the unit name.
    #[serde(default)]
    pub label: Option<String>,
    /// CRS when the file does not say.
    #[serde(default)]
    pub crs: Option<String>,
}

/// Web map settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapConfig {
    /// URL of a MapLibre style to draw beneath needmap's layers (for example a
    /// council's own tile server). None (the default) draws no basemap, so the
    /// map works offline.
    #[serde(default)]
    pub basemap_style: Option<String>,
}

/// Period used for referral counts over time.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    #[default]
    Month,
    Quarter,
    Year,
}

/// The composite need score. Each component is a percentile position among
/// the loaded areas (0 = least need, 1 = most); the score is
/// `100 × Σ wᵢ·cᵢ / Σ wᵢ` over the components an area has.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeedConfig {
    /// Weight of deprivation (the SIMD rank; rank 1 is most need). Default 0.5.
    #[serde(default = "half")]
    pub deprivation_weight: f64,
    /// Weight of the referral rate per 1,000 population. Default 0.5.
    #[serde(default = "half")]
    pub referral_rate_weight: f64,
    /// Further indicator columns with their weights.
    #[serde(default)]
    pub indicators: Vec<NeedIndicator>,
    /// Period for counts over time: `month` (default), `quarter` or `year`.
    #[serde(default)]
    pub period: Period,
}

fn half() -> f64 {
    0.5
}

impl Default for NeedConfig {
    fn default() -> Self {
        NeedConfig {
            deprivation_weight: 0.5,
            referral_rate_weight: 0.5,
            indicators: Vec::new(),
            period: Period::Month,
        }
    }
}

/// An extra indicator in the need score.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeedIndicator {
    /// Column of the areas or of an indicator table.
    pub column: String,
    /// Weight (0 or more).
    pub weight: f64,
    /// True (default) when a higher value means more need.
    #[serde(default = "yes")]
    pub higher_is_worse: bool,
}

fn yes() -> bool {
    true
}

impl Config {
    /// Read and check a workspace file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut cfg = Config::parse(&text).map_err(|message| Error::Config {
            path: path.to_path_buf(),
            message,
        })?;
        cfg.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(cfg)
    }

    /// Parse workspace text; paths stay relative.
    pub fn parse(text: &str) -> std::result::Result<Config, String> {
        let cfg: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        cfg.check()?;
        Ok(cfg)
    }

    fn check(&self) -> std::result::Result<(), String> {
        let n = &self.need;
        let weights = [n.deprivation_weight, n.referral_rate_weight]
            .into_iter()
            .chain(n.indicators.iter().map(|i| i.weight));
        for w in weights {
            if !(w.is_finite() && w >= 0.0) {
                return Err(format!(
                    "[need] weights must be finite and not negative, found {w}"
                ));
            }
        }
        if let Some(r) = &self.referrals {
            let coords = r.x.is_some() || r.y.is_some();
            match (coords, r.postcode.is_some()) {
                (true, true) => {
                    return Err("[referrals]: give either x and y or postcode, not both".into())
                }
                (false, false) => {
                    return Err("[referrals]: give x and y columns, or a postcode column".into())
                }
                (true, false) if r.x.is_none() || r.y.is_none() => {
                    return Err("[referrals]: give both x and y".into())
                }
                (false, true) if self.postcodes.is_none() => {
                    return Err(
                        "[referrals] has a postcode column but there is no [postcodes] lookup"
                            .into(),
                    )
                }
                _ => {}
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for b in &self.boundaries {
            if !names.insert(b.name.as_str()) {
                return Err(format!(
                    "[[boundaries]]: the name {:?} is used twice",
                    b.name
                ));
            }
            if b.name.is_empty()
                || !b
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(format!(
                    "[[boundaries]]: name {:?} must be letters, digits, '_' or '-'",
                    b.name
                ));
            }
        }
        Ok(())
    }

    /// A path from the workspace, resolved against its directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_errors() {
        let e = Config::parse("[areas]\npath='a.geojson'\nid='c'\ncolour='red'\n")
            .expect_err("unknown key");
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn referrals_need_coordinates_or_postcode() {
        let e = Config::parse("[areas]\npath='a.geojson'\nid='c'\n[referrals]\npath='r.csv'\n")
            .expect_err("no columns");
        assert!(e.contains("postcode"), "{e}");
        assert!(Config::parse(
            "[areas]\npath='a.geojson'\nid='c'\n[referrals]\npath='r.csv'\nx='lon'\ny='lat'\n"
        )
        .is_ok());
    }
}
