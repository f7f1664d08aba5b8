//! Bad input (issue item 9): each case gives a clear error or a counted
//! warning naming the file, the record and the problem, and never a panic.
//!
//! The fixture is four 0.01° squares in Edinburgh (areas `A1`..`A4`), written
//! into a temporary directory by each test.

use std::fmt::Write as _;
use std::path::PathBuf;

use needmap::analysis::need_map;
use needmap::config::Config;
use needmap::io::report::{Report, Severity};
use needmap::io::workspace::Atlas;
use needmap::Error;
use tempfile::TempDir;

use super::{expect_diag, load_toml};

const LON0: f64 = -3.20;
const LAT0: f64 = 55.94;
const STEP: f64 = 0.01;

struct Fixture {
    dir: TempDir,
}

/// A closed square ring with its lower-left corner at (lon, lat).
fn square(lon: f64, lat: f64) -> Vec<[f64; 2]> {
    vec![
        [lon, lat],
        [lon + STEP, lat],
        [lon + STEP, lat + STEP],
        [lon, lat + STEP],
        [lon, lat],
    ]
}

fn feature(code: &str, rings: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "type": "Feature",
        "properties": {"code": code, "name": format!("Area {code}"), "pop": 1000},
        "geometry": {"type": "Polygon", "coordinates": rings},
    })
}

fn base_features() -> Vec<serde_json::Value> {
    let mut v = Vec::new();
    for j in 0..2 {
        for i in 0..2 {
            let code = format!("A{}", j * 2 + i + 1);
            let lon = LON0 + i as f64 * STEP;
            let lat = LAT0 + j as f64 * STEP;
            v.push(feature(&code, serde_json::json!([square(lon, lat)])));
        }
    }
    v
}

fn collection(features: Vec<serde_json::Value>) -> String {
    serde_json::json!({"type": "FeatureCollection", "features": features}).to_string()
}

/// Points inside the fixture: (lon, lat) in area A1..A4.
fn inside(k: usize) -> (f64, f64) {
    let (col, row) = ((k % 2) as f64, ((k / 2) % 2) as f64);
    (
        LON0 + STEP * (col + 0.3 + 0.1 * row),
        LAT0 + STEP * (row + 0.4 + 0.1 * col),
    )
}

const AREAS: &str =
    "[areas]\npath = \"areas.geojson\"\nid = \"code\"\nname = \"name\"\npopulation = \"pop\"\n";
const REFERRALS: &str = "[referrals]\npath = \"referrals.csv\"\nx = \"lon\"\ny = \"lat\"\n";

impl Fixture {
    fn new() -> Fixture {
        let f = Fixture {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        f.write("areas.geojson", &collection(base_features()));
        f
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("write fixture");
    }

    /// Referrals with `lon,lat` rows as given.
    fn referrals(&self, rows: &[(String, String)]) {
        let mut s = String::from("case_ref,lon,lat\n");
        for (i, (x, y)) in rows.iter().enumerate() {
            let _ = writeln!(s, "R{},{x},{y}", i + 1);
        }
        self.write("referrals.csv", &s);
    }

    fn load(&self, toml: &str) -> Result<Atlas, Report> {
        load_toml(self.dir.path(), toml)
    }

    fn load_err(&self, toml: &str) -> Report {
        match self.load(toml) {
            Ok(a) => panic!("expected errors, loaded with:\n{}", a.report),
            Err(r) => r,
        }
    }

    fn load_ok(&self, toml: &str) -> Atlas {
        match self.load(toml) {
            Ok(a) => a,
            Err(r) => panic!("expected a load, got:\n{r}"),
        }
    }
}

fn good_rows(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|k| {
            let (x, y) = inside(k);
            (x.to_string(), y.to_string())
        })
        .collect()
}

#[test]
fn fixture_loads_cleanly() {
    let f = Fixture::new();
    f.referrals(&good_rows(8));
    let a = f.load_ok(&format!("{AREAS}{REFERRALS}"));
    assert!(a.report.diagnostics.is_empty(), "{}", a.report);
    assert_eq!(a.areas.len(), 4);
    let need = need_map(&a.areas, &a.referrals, &a.config.need);
    let counts: Vec<u64> = need.areas.iter().map(|n| n.referrals).collect();
    assert_eq!(counts, [2, 2, 2, 2]);
}

#[test]
fn missing_file_is_named() {
    let f = Fixture::new();
    let r = f.load_err("[areas]\npath = \"nowhere.geojson\"\nid = \"code\"\n");
    expect_diag(
        &r,
        Severity::Error,
        "nowhere.geojson",
        None,
        &["cannot read file"],
    );

    let r = f.load_err(&format!(
        "{AREAS}[referrals]\npath = \"gone.csv\"\nx = \"lon\"\ny = \"lat\"\n"
    ));
    expect_diag(&r, Severity::Error, "gone.csv", None, &["cannot read file"]);

    let r = f.load_err(&format!(
        "{AREAS}[[boundaries]]\nname = \"teams\"\npath = \"teams.shp\"\nid = \"team\"\n"
    ));
    expect_diag(&r, Severity::Error, "teams.shp", None, &["not found"]);

    // A missing workspace file is an I/O error with its path.
    let missing = f.path("absent.toml");
    match Config::load(&missing) {
        Err(e @ Error::Io { .. }) => assert!(e.to_string().contains("absent.toml"), "{e}"),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn missing_area_id_column_is_named() {
    let f = Fixture::new();
    let r = f.load_err("[areas]\npath = \"areas.geojson\"\nid = \"dz_code\"\n");
    let d = expect_diag(
        &r,
        Severity::Error,
        "areas.geojson",
        None,
        &["missing column \"dz_code\"", "area id", "code"],
    );
    assert_eq!(d.record, None, "a file-level problem");
}

#[test]
fn missing_referral_x_column_is_named() {
    let f = Fixture::new();
    f.referrals(&good_rows(4));
    let r = f.load_err(&format!(
        "{AREAS}[referrals]\npath = \"referrals.csv\"\nx = \"longitude\"\ny = \"lat\"\n"
    ));
    expect_diag(
        &r,
        Severity::Error,
        "referrals.csv",
        None,
        &["missing column \"longitude\"", "x column", "lon, lat"],
    );
}

#[test]
fn non_numeric_nan_and_infinite_coordinates_are_reported_by_row() {
    let f = Fixture::new();
    let mut rows = good_rows(10);
    rows[1].0 = "abc".into(); // row 2
    rows[3].0 = "NaN".into(); // row 4
    rows[5].1 = "inf".into(); // row 6
    rows[6].1 = "-infinity".into(); // row 7
    rows[8].0 = String::new(); // row 9
    f.referrals(&rows);
    let a = f.load_ok(&format!("{AREAS}{REFERRALS}"));
    let r = &a.report;
    let file = "referrals.csv";
    expect_diag(
        r,
        Severity::Warning,
        file,
        Some("row 2"),
        &["x", "\"abc\"", "not a number"],
    );
    expect_diag(
        r,
        Severity::Warning,
        file,
        Some("row 4"),
        &["x", "\"NaN\"", "not a finite number"],
    );
    expect_diag(
        r,
        Severity::Warning,
        file,
        Some("row 6"),
        &["y", "\"inf\"", "not a finite number"],
    );
    expect_diag(
        r,
        Severity::Warning,
        file,
        Some("row 7"),
        &["y", "\"-infinity\""],
    );
    expect_diag(r, Severity::Warning, file, Some("row 9"), &["x", "missing"]);
    // The other five rows are kept and placed.
    let kept: Vec<usize> = a.referrals.referrals.iter().map(|x| x.row).collect();
    assert_eq!(kept, [1, 3, 5, 8, 10]);
    assert!(a.referrals.referrals.iter().all(|x| x.area.is_some()));
}

#[test]
fn points_outside_the_region_are_counted_and_listed() {
    let f = Fixture::new();
    let mut rows = good_rows(30);
    // Twelve points in Fife: valid British National Grid, outside every area.
    let outside: Vec<usize> = (0..12).map(|k| 2 * k + 3).collect();
    for &row in &outside {
        rows[row - 1] = ("-3.0".into(), (56.2 + row as f64 * 1e-3).to_string());
    }
    f.referrals(&rows);
    let a = f.load_ok(&format!("{AREAS}{REFERRALS}"));
    let d = expect_diag(
        &a.report,
        Severity::Warning,
        "referrals.csv",
        Some("rows 3, 5, 7"),
        &["outside every area", "12 rows"],
    );
    assert_eq!(d.count, 12);
    assert!(
        d.record
            .as_deref()
            .is_some_and(|r| r.contains("and 2 more")),
        "{d}"
    );
    let need = need_map(&a.areas, &a.referrals, &a.config.need);
    assert_eq!(need.outside, 12);
    assert_eq!(need.areas.iter().map(|n| n.referrals).sum::<u64>(), 18);
}

#[test]
fn swapped_latitude_and_longitude_is_a_file_error() {
    let f = Fixture::new();
    let rows: Vec<(String, String)> = good_rows(10)
        .into_iter()
        .enumerate()
        .map(|(i, (x, y))| if i < 7 { (y, x) } else { (x, y) })
        .collect();
    f.referrals(&rows);
    let r = f.load_err(&format!("{AREAS}{REFERRALS}"));
    let d = expect_diag(
        &r,
        Severity::Error,
        "referrals.csv",
        None,
        &["7 of 10 rows", "wrong order"],
    );
    assert_eq!(d.record, None);
    expect_diag(
        &r,
        Severity::Warning,
        "referrals.csv",
        Some("rows 1, 2, 3"),
        &["wrong order"],
    );

    // One swapped row among many is a warning on that row only.
    let mut rows = good_rows(10);
    let (x, y) = rows[4].clone();
    rows[4] = (y, x);
    f.referrals(&rows);
    let a = f.load_ok(&format!("{AREAS}{REFERRALS}"));
    expect_diag(
        &a.report,
        Severity::Warning,
        "referrals.csv",
        Some("row 5"),
        &["wrong order"],
    );
    assert_eq!(a.referrals.referrals.len(), 9);
}

#[test]
fn bng_numbers_labelled_as_wgs84_are_an_error() {
    let f = Fixture::new();
    // Eastings and northings of Edinburgh in columns declared as EPSG:4326.
    let rows: Vec<(String, String)> = (0..6)
        .map(|k| {
            (
                (325_000 + k * 10).to_string(),
                (673_000 + k * 10).to_string(),
            )
        })
        .collect();
    f.referrals(&rows);
    let r = f.load_err(&format!("{AREAS}{REFERRALS}crs = \"EPSG:4326\"\n"));
    expect_diag(
        &r,
        Severity::Error,
        "referrals.csv",
        None,
        &["6 of 6 rows", "do not fit the CRS EPSG:4326"],
    );

    // Areas in metres without a CRS member: GeoJSON means WGS84, so it is wrong.
    let bng = serde_json::json!([[
        [325000.0, 673000.0],
        [326000.0, 673000.0],
        [326000.0, 674000.0],
        [325000.0, 673000.0]
    ]]);
    f.write("areas.geojson", &collection(vec![feature("M1", bng)]));
    let r = f.load_err(AREAS);
    expect_diag(
        &r,
        Severity::Error,
        "areas.geojson",
        Some("feature 1 (M1)"),
        &["looks like British National Grid", "EPSG:27700"],
    );
}

fn with_extra_area(f: &Fixture, code: &str, rings: serde_json::Value) -> Report {
    let mut feats = base_features();
    feats.push(feature(code, rings));
    f.write("areas.geojson", &collection(feats));
    f.load_err(AREAS)
}

#[test]
fn self_intersecting_polygon_is_an_error() {
    let f = Fixture::new();
    // A bow-tie: the ring crosses itself.
    let (x, y) = (LON0 + 0.05, LAT0);
    let bow = serde_json::json!([[
        [x, y],
        [x + STEP, y + STEP],
        [x + STEP, y],
        [x, y + STEP],
        [x, y]
    ]]);
    let r = with_extra_area(&f, "BOW", bow);
    let d = expect_diag(
        &r,
        Severity::Error,
        "areas.geojson",
        Some("feature 5 (BOW)"),
        &["invalid polygon"],
    );
    assert!(d.problem.contains("intersect"), "{d}");
    assert_eq!(r.error_count(), 1, "only the bow-tie is wrong:\n{r}");
}

#[test]
fn unclosed_ring_is_an_error() {
    let f = Fixture::new();
    let mut ring = square(LON0 + 0.05, LAT0);
    ring.pop();
    let r = with_extra_area(&f, "OPEN", serde_json::json!([ring]));
    expect_diag(
        &r,
        Severity::Error,
        "areas.geojson",
        Some("feature 5 (OPEN)"),
        &["outer ring", "not closed"],
    );
}

#[test]
fn too_short_ring_is_an_error() {
    let f = Fixture::new();
    let (x, y) = (LON0 + 0.05, LAT0);
    let short = serde_json::json!([[[x, y], [x + STEP, y], [x, y]]]);
    let r = with_extra_area(&f, "THIN", short);
    expect_diag(
        &r,
        Severity::Error,
        "areas.geojson",
        Some("feature 5 (THIN)"),
        &["3 positions", "at least 4"],
    );
}

#[test]
fn duplicate_area_codes_are_an_error() {
    let f = Fixture::new();
    let r = with_extra_area(&f, "A2", serde_json::json!([square(LON0 + 0.05, LAT0)]));
    expect_diag(
        &r,
        Severity::Error,
        "areas.geojson",
        Some("feature 5 (A2)"),
        &["duplicate area code \"A2\"", "also feature 2"],
    );
}

#[test]
fn unknown_crs_in_workspace_is_an_error() {
    let f = Fixture::new();
    let r = f.load_err(&format!("{AREAS}crs = \"EPSG:99999\"\n"));
    expect_diag(
        &r,
        Severity::Error,
        "areas.geojson",
        None,
        &["unknown CRS", "EPSG:99999"],
    );

    f.referrals(&good_rows(4));
    let r = f.load_err(&format!("{AREAS}{REFERRALS}crs = \"EPSG:99999\"\n"));
    expect_diag(
        &r,
        Severity::Error,
        "referrals.csv",
        None,
        &["unknown CRS", "EPSG:99999"],
    );
}

#[test]
fn unknown_crs_in_geojson_crs_member_is_an_error() {
    let f = Fixture::new();
    let fc = serde_json::json!({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::99999"}},
        "features": base_features(),
    });
    f.write("areas.geojson", &fc.to_string());
    let r = f.load_err(AREAS);
    expect_diag(
        &r,
        Severity::Error,
        "areas.geojson",
        None,
        &["unknown CRS", "99999"],
    );
}

#[test]
fn empty_files_are_errors() {
    let f = Fixture::new();
    f.write("empty.geojson", "");
    let r = f.load_err("[areas]\npath = \"empty.geojson\"\nid = \"code\"\n");
    expect_diag(&r, Severity::Error, "empty.geojson", None, &["empty"]);

    // A referral CSV with a header and no rows.
    f.write("referrals.csv", "case_ref,lon,lat\n");
    let r = f.load_err(&format!("{AREAS}{REFERRALS}"));
    expect_diag(
        &r,
        Severity::Error,
        "referrals.csv",
        None,
        &["header but no data rows"],
    );

    // An indicator CSV with a header and no rows.
    f.write("ind.csv", "code,income_rate\n");
    let r = f.load_err(&format!(
        "{AREAS}[[indicators]]\npath = \"ind.csv\"\nkey = \"code\"\n"
    ));
    expect_diag(
        &r,
        Severity::Error,
        "ind.csv",
        None,
        &["header but no data rows"],
    );

    // A CSV of zero bytes.
    f.write("referrals.csv", "");
    let r = f.load_err(&format!("{AREAS}{REFERRALS}"));
    expect_diag(&r, Severity::Error, "referrals.csv", None, &["empty"]);
}

#[test]
fn unknown_key_in_workspace_file_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("needmap.toml");
    std::fs::write(&path, format!("{AREAS}colour = \"red\"\n")).expect("write");
    match Config::load(&path) {
        Err(e @ Error::Config { .. }) => {
            let s = e.to_string();
            assert!(s.contains("colour"), "{s}");
            assert!(s.contains("needmap.toml"), "{s}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    // Also in a nested table.
    let e = Config::parse(&format!("{AREAS}[need]\ndeprivation_wieght = 1.0\n"))
        .expect_err("unknown key");
    assert!(e.contains("deprivation_wieght"), "{e}");
}

#[test]
fn simd_percent_rates_and_blank_cells_parse() {
    let f = Fixture::new();
    f.write(
        "ind.csv",
        "code,income_rate,Attainment,crime_count\nA1,8%,5.88,11\nA2,,4.9,\nA3,12%,,1\nA4, 0% ,6,3\n",
    );
    let a = f.load_ok(&format!(
        "{AREAS}[[indicators]]\npath = \"ind.csv\"\nkey = \"code\"\n"
    ));
    assert!(!a.report.has_errors(), "{}", a.report);
    let get = |code: &str, col: &str| {
        a.area_by_code(code)
            .expect("area")
            .numbers
            .get(col)
            .copied()
    };
    assert_eq!(get("A1", "income_rate"), Some(8.0));
    assert_eq!(get("A1", "Attainment"), Some(5.88));
    assert_eq!(get("A2", "income_rate"), None, "a blank cell is missing");
    assert_eq!(get("A2", "crime_count"), None);
    assert_eq!(get("A3", "Attainment"), None);
    assert_eq!(get("A4", "income_rate"), Some(0.0));
    assert!(a.indicator_columns.iter().any(|c| c == "income_rate"));
}

/// Garbage where GeoJSON should be: an error naming the file, not a panic.
#[test]
fn malformed_geojson_is_an_error() {
    let f = Fixture::new();
    f.write(
        "areas.geojson",
        "{\"type\": \"FeatureCollection\", \"features\": [",
    );
    let r = f.load_err(AREAS);
    expect_diag(
        &r,
        Severity::Error,
        "areas.geojson",
        None,
        &["not valid GeoJSON"],
    );
}

/// A one-unit boundary set covering the fixture, as a Shapefile in British
/// National Grid, with or without its `.prj`.
fn write_team_shapefile(f: &Fixture, with_prj: bool) {
    use needmap::spatial::crs::wgs84_to_bng;
    use shapefile::dbase::{FieldName, FieldValue, Record, TableWriterBuilder};
    let (x0, y0) = wgs84_to_bng(LON0 - STEP, LAT0 - STEP).expect("in grid");
    let (x1, y1) = wgs84_to_bng(LON0 + 3.0 * STEP, LAT0 + 3.0 * STEP).expect("in grid");
    let table = TableWriterBuilder::new()
        .add_character_field(FieldName::try_from("team").expect("field name"), 8);
    let mut w = shapefile::Writer::from_path(f.path("teams.shp"), table).expect("writer");
    // Outer rings run clockwise in a Shapefile.
    let ring: Vec<shapefile::Point> = [(x0, y0), (x0, y1), (x1, y1), (x1, y0), (x0, y0)]
        .iter()
        .map(|&(x, y)| shapefile::Point::new(x, y))
        .collect();
    let shape = shapefile::Polygon::new(shapefile::PolygonRing::Outer(ring));
    let mut rec = Record::default();
    rec.insert("team".into(), FieldValue::Character(Some("T1".into())));
    w.write_shape_and_record(&shape, &rec).expect("write shape");
    drop(w);
    let prj = f.path("teams.prj");
    if with_prj {
        std::fs::write(
            &prj,
            r#"PROJCS["British_National_Grid",GEOGCS["GCS_OSGB_1936",DATUM["D_OSGB_1936",SPHEROID["Airy_1830",6377563.396,299.3249646]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",400000.0],PARAMETER["False_Northing",-100000.0],PARAMETER["Central_Meridian",-2.0],PARAMETER["Scale_Factor",0.9996012717],PARAMETER["Latitude_Of_Origin",49.0],UNIT["Meter",1.0]]"#,
        )
        .expect("write prj");
    } else if prj.exists() {
        std::fs::remove_file(&prj).expect("remove prj");
    }
}

const TEAMS: &str = "[[boundaries]]\nname = \"teams\"\npath = \"teams.shp\"\nid = \"team\"\n";

#[test]
fn shapefile_crs_comes_from_its_prj() {
    let f = Fixture::new();
    write_team_shapefile(&f, true);
    let a = f.load_ok(&format!("{AREAS}{TEAMS}"));
    assert_eq!(a.boundary_sets[0].units.len(), 1);
    assert_eq!(a.boundary_sets[0].units[0].code, "T1");
}

#[test]
fn shapefile_without_prj_is_an_error_unless_the_workspace_gives_its_crs() {
    let f = Fixture::new();
    write_team_shapefile(&f, false);
    let r = f.load_err(&format!("{AREAS}{TEAMS}"));
    expect_diag(&r, Severity::Error, "teams.shp", None, &[".prj", "crs"]);

    // The remedy the message offers works: crs in the workspace file.
    let a = f.load_ok(&format!("{AREAS}{TEAMS}crs = \"EPSG:27700\"\n"));
    assert_eq!(a.boundary_sets[0].units.len(), 1);
}

/// A document nested deeper than any GeoJSON: an error naming the file,
/// with memory and stack bounded (no recursion to the bottom).
#[test]
fn deeply_nested_geojson_is_an_error() {
    let f = Fixture::new();
    let deep = format!(
        "{{\"type\": \"FeatureCollection\", \"features\": {}{}}}",
        "[".repeat(200_000),
        "]".repeat(200_000)
    );
    f.write("areas.geojson", &deep);
    let r = f.load_err(AREAS);
    expect_diag(
        &r,
        Severity::Error,
        "areas.geojson",
        None,
        &["not valid GeoJSON"],
    );
}

/// Features whose geometry is null or has no coordinates: each named by
/// record, never a panic.
#[test]
fn empty_geometries_are_named_by_record() {
    for (what, geometry) in [
        ("null", serde_json::Value::Null),
        (
            "no rings",
            serde_json::json!({"type": "Polygon", "coordinates": []}),
        ),
        (
            "empty multipolygon",
            serde_json::json!({"type": "MultiPolygon", "coordinates": []}),
        ),
        (
            "empty ring",
            serde_json::json!({"type": "Polygon", "coordinates": [[]]}),
        ),
    ] {
        let f = Fixture::new();
        let mut features = base_features();
        let mut extra = feature("EMPTY1", serde_json::json!([]));
        extra["geometry"] = geometry;
        features.push(extra);
        f.write("areas.geojson", &collection(features));
        let r = f.load_err(AREAS);
        let text = r.to_string();
        assert!(
            text.contains("areas.geojson")
                && (text.contains("EMPTY1")
                    || text.contains("feature 6")
                    || text.contains("record")),
            "{what}: {text}"
        );
    }
}
