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
//! [network]
//! path = "os_open_roads.geojson"
//! [network.speeds_kmh]
//! "A Road" = 40
//! ```

use std::collections::BTreeMap;
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
    /// Opening-hours settings.
    #[serde(default)]
    pub hours: HoursConfig,
    /// Users, roles, the audit log and point masking (no section: everyone is public).
    #[serde(default)]
    pub auth: AuthConfig,
    /// Travel: the road network, or the straight-line fallback when it has no `path`.
    #[serde(default)]
    pub network: Option<NetworkConfig>,
    /// Disclosure control of public outputs beyond the default policy.
    #[serde(default)]
    pub privacy: PrivacyConfig,
    /// Where uploads are kept.
    #[serde(default)]
    pub store: StoreConfig,
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
    /// Eligibility text column, who the premises serves (default `eligibility`).
    #[serde(default)]
    pub eligibility: Option<String>,
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

/// Opening-hours settings. `PH` in opening hours means Scotland's bank holidays
/// (computed by rule, see `analysis::hours`) plus the dates listed here.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursConfig {
    /// Extra public holidays as ISO dates (`2023-05-08` for a coronation, say).
    #[serde(default)]
    pub extra_public_holidays: Vec<chrono::NaiveDate>,
}

/// One user of the server.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    /// `planner`, `steward` or `admin` (anonymous requests are `public`).
    pub role: String,
    /// The bearer token's Argon2 hash (PHC string, from `needmap token-hash`); never the token.
    pub token_hash: String,
}

/// Authentication and audit settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// Audit log of raw-data access, JSON lines (default `audit.jsonl` beside the workspace;
    /// with `[store] url`, the store's audit trail instead, shared by the servers).
    #[serde(default)]
    pub audit_log: Option<PathBuf>,
    /// File holding the masking secret (default `.needmap-secret` beside the workspace,
    /// created with 32 random bytes on first use).
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// Planners' masked points are moved between these distances, metres (default 100, 400).
    #[serde(default)]
    pub mask_m: Option<[f64; 2]>,
}

/// The workspace store (see `io::store`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The GeoPackage holding uploads (default `needmap-store.gpkg` beside the workspace).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// A PostgreSQL/PostGIS connection string instead (`postgis` feature), e.g.
    /// `host=db.example port=5432 user=needmap dbname=needmap`: several servers share it.
    #[serde(default)]
    pub url: Option<String>,
    /// How often a running server looks for uploads and edits made through
    /// another server sharing the store, or `needmap upload` (seconds,
    /// default 2; 0 = never).
    #[serde(default)]
    pub refresh_s: Option<f64>,
    /// Who cuts the vector tiles: `server` (default: each server, in memory)
    /// or `postgis` (the store's database, with `url`: `ST_AsMVT`).
    #[serde(default)]
    pub tiles: Option<String>,
}

impl Config {
    /// The store's path.
    pub fn store_path(&self) -> PathBuf {
        self.resolve(
            self.store
                .path
                .as_deref()
                .unwrap_or(std::path::Path::new("needmap-store.gpkg")),
        )
    }
}

/// Disclosure control of public outputs (see `privacy::release`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    /// No count below 10 may be narrowed by differencing public outputs to
    /// fewer than this many possible values (default 5).
    #[serde(default)]
    pub protection_width: Option<u64>,
    /// The finest geography at which the public sees counts by client group:
    /// `area`, or a parent column or boundary set (default: the first parent
    /// column, else `area`). Levels with more units get totals only.
    #[serde(default)]
    pub public_group_level: Option<String>,
    /// The one travel-time threshold, minutes, at which the public sees hours
    /// gaps (default 15): other thresholds and client groups are for
    /// signed-in planners, so that nested catchments cannot be differenced.
    #[serde(default)]
    pub public_hours_threshold_min: Option<f64>,
    /// Counts below this are published as `<threshold` (default 10).
    #[serde(default)]
    pub threshold: Option<u64>,
    /// Other counts are rounded to a multiple of this (default 5).
    #[serde(default)]
    pub rounding: Option<u64>,
}

impl PrivacyConfig {
    /// The threshold of public hours analyses, minutes (default 15).
    pub fn public_hours_threshold_min(&self) -> f64 {
        self.public_hours_threshold_min.unwrap_or(15.0)
    }

    /// The disclosure-control policy: DESIGN.md's defaults unless set.
    pub fn policy(&self) -> crate::privacy::Policy {
        let d = crate::privacy::Policy::default();
        crate::privacy::Policy {
            threshold: self.threshold.unwrap_or(d.threshold).max(1),
            rounding: self.rounding.unwrap_or(d.rounding).max(1),
        }
    }
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

/// Travel over a road network, or in a straight line when none is given.
///
/// With a `path`, travel times follow the roads: each line's speed comes from
/// its road class, and a place reaches the network at its nearest node in a
/// straight line at `connector_speed_kmh`. Without one, travel time is
/// `straight distance × circuity / fallback_speed_kmh`.
///
/// The default speeds are **planning assumptions for urban driving** (typical
/// speeds along OS Open Roads `road_function` classes in a town, allowing for
/// junctions and traffic), not speed limits; change them to suit the area.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Line layer (GeoJSON or Shapefile) of road centre lines, such as the OS
    /// Open Roads `road_link` layer. None: straight-line travel.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Column holding the road class (default `road_function`, as in OS Open Roads).
    #[serde(default = "default_class_column")]
    pub class: String,
    /// Speed per road class, km/h. Given classes replace or add to the defaults:
    /// Motorway 96, A Road 48, B Road 40, Minor Road 32, Local Road 24, Local
    /// Access Road 16, Restricted Local Access Road 10, Secondary Access Road 10.
    /// Classes match whatever their letter case and surrounding spaces.
    #[serde(default = "default_speeds_kmh", deserialize_with = "merge_speeds_kmh")]
    pub speeds_kmh: BTreeMap<String, f64>,
    /// Speed for lines whose class has no speed (or no class), km/h (default 24,
    /// a local road). Each such class is reported as a warning with its count.
    #[serde(default = "default_speed_kmh")]
    pub default_speed_kmh: f64,
    /// Line ends closer than this join at one node, metres (default 0.5).
    #[serde(default = "default_snap_m")]
    pub snap_m: f64,
    /// Speed from a place (an area's point, a premises) in a straight line to
    /// its nearest network node, km/h (default 15: between walking pace and the
    /// slowest access roads, for the last stretch of a driving trip; with OS
    /// Open Roads most places are within 100 m of a node, under half a minute).
    #[serde(default = "default_connector_speed_kmh")]
    pub connector_speed_kmh: f64,
    /// Straight-line travel only (no `path`): network distance / straight
    /// distance (default 1.3; urban road networks measure about 1.2 to 1.4).
    #[serde(default = "default_circuity")]
    pub circuity: f64,
    /// Straight-line travel only (no `path`): average speed along the
    /// circuitous distance, km/h (default 30).
    #[serde(default = "default_fallback_speed_kmh")]
    pub fallback_speed_kmh: f64,
    /// CRS of the layer when the file does not say (GeoJSON defaults to EPSG:4326).
    #[serde(default)]
    pub crs: Option<String>,
}

/// The default speeds per OS Open Roads `road_function`, km/h (planning
/// assumptions for urban driving).
pub const DEFAULT_SPEEDS_KMH: [(&str, f64); 8] = [
    ("Motorway", 96.0),
    ("A Road", 48.0),
    ("B Road", 40.0),
    ("Minor Road", 32.0),
    ("Local Road", 24.0),
    ("Local Access Road", 16.0),
    ("Restricted Local Access Road", 10.0),
    ("Secondary Access Road", 10.0),
];

fn default_class_column() -> String {
    "road_function".to_string()
}

fn default_speeds_kmh() -> BTreeMap<String, f64> {
    DEFAULT_SPEEDS_KMH
        .iter()
        .map(|&(c, v)| (c.to_string(), v))
        .collect()
}

/// The given speeds over the defaults (a given class replaces a default of the
/// same name whatever its case).
fn merge_speeds_kmh<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, f64>, D::Error> {
    let given: BTreeMap<String, f64> = BTreeMap::deserialize(d)?;
    let mut all = default_speeds_kmh();
    for (class, v) in given {
        let key = class.trim().to_lowercase();
        all.retain(|k, _| k.trim().to_lowercase() != key);
        all.insert(class, v);
    }
    Ok(all)
}

fn default_speed_kmh() -> f64 {
    24.0
}

fn default_snap_m() -> f64 {
    0.5
}

fn default_connector_speed_kmh() -> f64 {
    15.0
}

fn default_circuity() -> f64 {
    1.3
}

fn default_fallback_speed_kmh() -> f64 {
    30.0
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            path: None,
            class: default_class_column(),
            speeds_kmh: default_speeds_kmh(),
            default_speed_kmh: default_speed_kmh(),
            snap_m: default_snap_m(),
            connector_speed_kmh: default_connector_speed_kmh(),
            circuity: default_circuity(),
            fallback_speed_kmh: default_fallback_speed_kmh(),
            crs: None,
        }
    }
}

impl NetworkConfig {
    /// The speed for a road class, km/h: the configured one (matched whatever
    /// its case and surrounding spaces), or `None`.
    pub fn speed_for(&self, class: &str) -> Option<f64> {
        let key = class.trim();
        self.speeds_kmh.get(key).copied().or_else(|| {
            self.speeds_kmh
                .iter()
                .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
                .map(|(_, &v)| v)
        })
    }

    fn check(&self) -> std::result::Result<(), String> {
        let positive = |what: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!(
                    "[network] {what} must be a positive number, found {v}"
                ))
            }
        };
        for (class, &v) in &self.speeds_kmh {
            positive(&format!("speeds_kmh.{class:?}"), v)?;
        }
        positive("default_speed_kmh", self.default_speed_kmh)?;
        positive("connector_speed_kmh", self.connector_speed_kmh)?;
        positive("fallback_speed_kmh", self.fallback_speed_kmh)?;
        if !(self.snap_m.is_finite() && (0.0..=100.0).contains(&self.snap_m)) {
            return Err(format!(
                "[network] snap_m must be between 0 and 100 metres, found {}",
                self.snap_m
            ));
        }
        if !(self.circuity.is_finite() && self.circuity >= 1.0) {
            return Err(format!(
                "[network] circuity must be at least 1 (network distance / straight distance), found {}",
                self.circuity
            ));
        }
        if self.class.trim().is_empty() {
            return Err("[network] class must name the road class column".into());
        }
        Ok(())
    }
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
        if let Some(r) = self.store.refresh_s {
            if !(r.is_finite() && r >= 0.0) {
                return Err(format!(
                    "[store] refresh_s must be a number of seconds, 0 or more; found {r}"
                ));
            }
        }
        match self.store.tiles.as_deref() {
            None | Some("server") => {}
            Some("postgis") if self.store.url.is_none() => {
                return Err("[store] tiles = \"postgis\" needs [store] url (the database)".into())
            }
            Some("postgis") if !cfg!(feature = "postgis") => {
                return Err("[store] tiles = \"postgis\" needs needmap built with the postgis feature (cargo build --features postgis)".into())
            }
            Some("postgis") => {}
            Some(other) => {
                return Err(format!(
                    "[store] tiles is \"server\" or \"postgis\", not {other:?}"
                ))
            }
        }
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
        if let Some(net) = &self.network {
            net.check()?;
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
    fn network_defaults_and_merged_speeds() {
        let cfg = Config::parse("[areas]\npath='a.geojson'\nid='c'\n[network]\n").expect("parses");
        let net = cfg.network.expect("[network] given");
        assert_eq!(net.path, None);
        assert_eq!(net.class, "road_function");
        assert_eq!(net.speed_for("A Road"), Some(48.0));
        assert_eq!(net.speed_for(" local road "), Some(24.0));
        assert_eq!((net.circuity, net.fallback_speed_kmh), (1.3, 30.0));
        assert_eq!((net.snap_m, net.connector_speed_kmh), (0.5, 15.0));

        let cfg = Config::parse(
            "[areas]\npath='a.geojson'\nid='c'\n[network]\npath='r.geojson'\n[network.speeds_kmh]\n'a road' = 40\nTrack = 8\n",
        )
        .expect("parses");
        let net = cfg.network.expect("[network] given");
        assert_eq!(net.speed_for("A Road"), Some(40.0));
        assert_eq!(net.speed_for("track"), Some(8.0));
        assert_eq!(net.speed_for("B Road"), Some(40.0));
        assert_eq!(net.speeds_kmh.len(), 9);
    }

    #[test]
    fn network_values_are_checked() {
        for bad in [
            "snap_m = -1",
            "circuity = 0.9",
            "connector_speed_kmh = 0",
            "speeds_kmh = { 'A Road' = -5 }",
            "speed = 3",
        ] {
            let text = format!("[areas]\npath='a.geojson'\nid='c'\n[network]\n{bad}\n");
            assert!(Config::parse(&text).is_err(), "{bad} should be refused");
        }
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
