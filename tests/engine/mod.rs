//! Shared helpers for the engine tests: the geodata location, a seeded PRNG,
//! workspace builders, and atlases loaded once per test binary.

pub mod access;
pub mod boundaries;
pub mod cli;
pub mod crs;
pub mod demo;
pub mod export;
pub mod fuzz;
pub mod gpkg;
pub mod hours;
pub mod index;
pub mod load_errors;
pub mod need;
pub mod network;
pub mod postcodes;
pub mod real_data;
pub mod scenario;
pub mod siting;
pub mod store;
pub mod trends;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use needmap::config::Config;
use needmap::demo::{write_demo, DemoSpec};
use needmap::io::report::{Diagnostic, Report, Severity};
use needmap::io::vector::RawGeometry;
use needmap::io::workspace::{load_workspace, Atlas, LoadOptions};
use needmap::spatial::crs::{bng_to_wgs84, wgs84_to_bng};
use needmap::spatial::PreparedPolygon;

/// The shared Scottish geodata directory (`../shared/geodata`, or `$NEEDMAP_GEODATA`).
///
/// `None` (with the reason printed) when it is absent, so that a clone without
/// the data still passes; but with `CI=true` a missing directory is a failure.
pub fn geodata() -> Option<PathBuf> {
    let dir = match std::env::var_os("NEEDMAP_GEODATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/geodata"),
    };
    let present = dir.join("dz2011_scotland.geojson").is_file();
    if present {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    assert!(
        !ci,
        "CI=true but the geodata directory {} is missing (set NEEDMAP_GEODATA)",
        dir.display()
    );
    eprintln!(
        "skipped: geodata directory {} not found (set NEEDMAP_GEODATA to run this test)",
        dir.display()
    );
    None
}

/// SplitMix64: a small seeded generator, so the tests need no extra crate and
/// give the same points on every machine.
pub struct Prng(u64);

impl Prng {
    pub fn new(seed: u64) -> Prng {
        Prng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// Uniform in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A path as a TOML basic string.
pub fn toml_path(p: &Path) -> String {
    let s = p.display().to_string();
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Write `text` as `dir/needmap.toml` and load it.
pub fn load_toml(dir: &Path, text: &str) -> Result<Atlas, Report> {
    let path = dir.join("needmap.toml");
    std::fs::write(&path, text).expect("write needmap.toml");
    let cfg = Config::load(&path).unwrap_or_else(|e| panic!("config does not parse: {e}"));
    load_workspace(&cfg, &LoadOptions::default())
}

/// Find the diagnostic with this severity whose file, record and problem
/// contain the given texts; panic with the whole report when there is none.
pub fn expect_diag<'a>(
    report: &'a Report,
    severity: Severity,
    file: &str,
    record: Option<&str>,
    problem: &[&str],
) -> &'a Diagnostic {
    report
        .diagnostics
        .iter()
        .find(|d| {
            d.severity == severity
                && d.file.contains(file)
                && match record {
                    Some(r) => d.record.as_deref().is_some_and(|x| x.contains(r)),
                    None => true,
                }
                && problem.iter().all(|p| d.problem.contains(p))
        })
        .unwrap_or_else(|| {
            panic!(
                "no {severity:?} for file {file:?}, record {record:?}, problem {problem:?} in:\n{report}"
            )
        })
}

/// The demo region loaded once (600 areas, 20,000 referrals, seed 11).
pub fn demo_atlas() -> &'static Atlas {
    static DEMO: OnceLock<Atlas> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = DemoSpec {
            areas: 600,
            referrals: 20_000,
            seed: 11,
        };
        let summary = write_demo(dir.path(), &spec).expect("demo writes");
        let cfg = Config::load(&summary.config).expect("demo config parses");
        match load_workspace(&cfg, &LoadOptions::default()) {
            Ok(a) => a,
            Err(r) => panic!("demo region does not load:\n{r}"),
        }
    })
}

/// The real data zones with SIMD, a synthetic referral extract and the wards, loaded once.
pub struct RealData {
    pub atlas: Atlas,
    /// Number of synthetic referrals written.
    pub written: usize,
    /// For each written referral (by data row - 1), the data zone code it was sampled in.
    pub sampled_in: Vec<String>,
}

/// Number of synthetic referrals placed in the real data zones.
pub const REAL_REFERRALS: usize = 20_000;

/// The real workspace (see [`RealData`]); `None` when the geodata are absent.
pub fn real_data() -> Option<&'static RealData> {
    let geo = geodata()?;
    static REAL: OnceLock<RealData> = OnceLock::new();
    Some(REAL.get_or_init(|| load_real(&geo)))
}

/// Polygons as read: each a list of rings, each a list of (lon, lat).
pub type RawPolygons = Vec<Vec<Vec<(f64, f64)>>>;

/// Raw data zone polygons (WGS84 rings, as read) by code, in file order.
pub fn raw_zones(geo: &Path) -> Vec<(String, RawPolygons)> {
    let mut report = Report::new();
    let path = geo.join("dz2011_scotland.geojson");
    let layer = needmap::io::geojson::read_geojson(&path, "dz2011_scotland.geojson", &mut report)
        .unwrap_or_else(|| panic!("cannot read {}:\n{report}", path.display()));
    layer
        .features
        .into_iter()
        .filter_map(|f| {
            let code = f.properties.get("dz11_code")?.as_text()?;
            match f.geometry {
                Some(RawGeometry::Polygons(p)) => Some((code, p)),
                _ => None,
            }
        })
        .collect()
}

/// Project raw WGS84 polygons to British National Grid.
pub fn project(raw: &[Vec<Vec<(f64, f64)>>]) -> MultiPolygon<f64> {
    MultiPolygon(
        raw.iter()
            .map(|poly| {
                let mut rings: Vec<LineString<f64>> = poly
                    .iter()
                    .map(|ring| {
                        LineString(
                            ring.iter()
                                .map(|&(lon, lat)| {
                                    let (x, y) = wgs84_to_bng(lon, lat).expect("inside the grid");
                                    Coord { x, y }
                                })
                                .collect(),
                        )
                    })
                    .collect();
                let ext = rings.remove(0);
                Polygon::new(ext, rings)
            })
            .collect(),
    )
}

/// A point inside a prepared polygon, by rejection from its bounding box.
pub fn point_in(prep: &PreparedPolygon, rng: &mut Prng) -> Option<(f64, f64)> {
    let b = prep.bbox();
    for _ in 0..10_000 {
        let (x, y) = (rng.range(b[0], b[2]), rng.range(b[1], b[3]));
        if prep.contains(x, y) {
            return Some((x, y));
        }
    }
    None
}

const GROUPS: [&str; 3] = ["adults", "children_families", "older_people"];

fn load_real(geo: &Path) -> RealData {
    let t = std::time::Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    // Synthetic referrals: a random data zone, a random point inside its
    // projected polygon (bounding-box rejection), written as lon/lat.
    let zones = raw_zones(geo);
    let mut rng = Prng::new(20_240_601);
    let mut prepared: HashMap<usize, PreparedPolygon> = HashMap::new();
    let mut csv = String::from("case_ref,lon,lat,received_at,client_group\n");
    let mut sampled_in = Vec::with_capacity(REAL_REFERRALS);
    for i in 0..REAL_REFERRALS {
        let k = rng.below(zones.len());
        let prep = prepared
            .entry(k)
            .or_insert_with(|| PreparedPolygon::new(&project(&zones[k].1)));
        let (x, y) = point_in(prep, &mut rng).expect("a point inside the zone");
        let (lon, lat) = bng_to_wgs84(x, y).expect("inside the grid");
        let month = 1 + rng.below(12);
        let day = 1 + rng.below(28);
        let _ = writeln!(
            csv,
            "C{i:06},{lon:.7},{lat:.7},2023-{month:02}-{day:02}T10:30:00,{}",
            GROUPS[rng.below(GROUPS.len())]
        );
        sampled_in.push(zones[k].0.clone());
    }
    let referrals = dir.path().join("referrals.csv");
    std::fs::write(&referrals, csv).expect("write referrals");
    let toml = format!(
        r#"region = "Scotland (test)"
[areas]
path = {areas}
id = "dz11_code"
name = "dz11_name"
population = "Total_population"
[[indicators]]
path = {simd}
key = "Data_Zone"
[referrals]
path = {referrals}
x = "lon"
y = "lat"
crs = "EPSG:4326"
time = "received_at"
group = "client_group"
[[boundaries]]
name = "wards"
path = {wards}
id = "ward22_code"
label = "ward22_name"
[[premises]]
path = {schools}
id = "sch_uid"
kind = "school"
capacity = "pupil_roll"
[[premises]]
path = {nhs}
id = "sitecode"
name = "sitename"
kind = "nhs_site"
"#,
        areas = toml_path(&geo.join("dz2011_scotland.geojson")),
        simd = toml_path(&geo.join("simd2020v2_withinds.csv")),
        referrals = toml_path(&referrals),
        wards = toml_path(&geo.join("mm_wards_2022.geojson")),
        schools = toml_path(&geo.join("schools_scotland_2022.geojson")),
        nhs = toml_path(&geo.join("nhs_hospitals_sites_2024.geojson")),
    );
    let atlas = match load_toml(dir.path(), &toml) {
        Ok(a) => a,
        Err(r) => panic!("the real workspace does not load:\n{r}"),
    };
    eprintln!(
        "real workspace with {} referrals loaded in {:.1} s",
        REAL_REFERRALS,
        t.elapsed().as_secs_f64()
    );
    RealData {
        atlas,
        written: REAL_REFERRALS,
        sampled_in,
    }
}
