//! Postcode geocoding through the Scottish Postcode Directory: an extract
//! keyed by postcode gives the same need map as the same extract with the
//! directory's own coordinates, and bad postcodes are reported by row.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use needmap::analysis::need_map;
use needmap::io::postcodes::{display_form, normalise};
use needmap::io::report::Severity;
use needmap::io::workspace::Atlas;

use super::{expect_diag, geodata, load_toml, toml_path, Prng};

/// City of Edinburgh (council S12000036): a part of Scotland, to keep the loads quick.
const COUNCIL: &str = "S12000036";

/// The directory's coordinates by compact postcode, with the rule the lookup
/// documents: split postcodes (an extra `A`/`B`) fold into the plain form and
/// the first occurrence is kept. Only postcodes of [`COUNCIL`] are returned.
fn directory(geo: &Path) -> Vec<(String, String, String)> {
    let mut rdr = csv::Reader::from_path(geo.join("postcodes_scotland_spd2019.csv"))
        .expect("open the postcode directory");
    let headers = rdr.headers().expect("header").clone();
    let col = |n: &str| {
        headers
            .iter()
            .position(|h| h == n)
            .unwrap_or_else(|| panic!("no column {n}"))
    };
    let (pc, lat, lon, ca) = (
        col("postcode"),
        col("latitude"),
        col("longitude"),
        col("ca_code"),
    );
    let mut seen: HashMap<String, bool> = HashMap::new();
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.expect("row");
        let raw = rec[pc].trim();
        let key = normalise(raw).or_else(|| {
            (raw.ends_with('A') || raw.ends_with('B'))
                .then(|| normalise(&raw[..raw.len() - 1]))
                .flatten()
        });
        let Some(key) = key else { continue };
        if seen.insert(key.clone(), true).is_some() {
            continue;
        }
        if &rec[ca] == COUNCIL && !rec[lat].is_empty() && !rec[lon].is_empty() {
            out.push((key, rec[lon].to_string(), rec[lat].to_string()));
        }
    }
    out
}

/// The council's data zones as a GeoJSON file of their own.
fn write_council_zones(geo: &Path, out: &Path) -> usize {
    let text = std::fs::read_to_string(geo.join("dz2011_scotland.geojson")).expect("read zones");
    let mut fc: serde_json::Value = serde_json::from_str(&text).expect("zones parse");
    let features = fc["features"].as_array_mut().expect("features");
    features.retain(|f| f["properties"]["ca_code"] == COUNCIL);
    let n = features.len();
    std::fs::write(out, fc.to_string()).expect("write zones");
    n
}

/// Bad postcodes and the 1-based data rows they are written on.
const BAD: [(usize, &str, &str); 5] = [
    (3, "EH1", "malformed"),
    (50, "12345", "malformed"),
    (400, "", "malformed"),
    (1200, "ZZ9 9ZZ", "unknown"),
    (2500, "EH99 9ZZ", "unknown"),
];

const ROWS: usize = 3_000;

fn workspace(geo: &Path, zones: &Path, referrals: &Path, by_postcode: bool) -> String {
    let place = if by_postcode {
        format!(
            "postcode = \"postcode\"\n[postcodes]\npath = {}\n",
            toml_path(&geo.join("postcodes_scotland_spd2019.csv"))
        )
    } else {
        "x = \"lon\"\ny = \"lat\"\ncrs = \"EPSG:4326\"\n".to_string()
    };
    format!(
        "[areas]\npath = {}\nid = \"dz11_code\"\nname = \"dz11_name\"\npopulation = \"Total_population\"\n\
         [[indicators]]\npath = {}\nkey = \"Data_Zone\"\n\
         [referrals]\npath = {}\ntime = \"received_at\"\ngroup = \"client_group\"\n{place}",
        toml_path(zones),
        toml_path(&geo.join("simd2020v2_withinds.csv")),
        toml_path(referrals),
    )
}

fn load(dir: &Path, toml: &str) -> Atlas {
    match load_toml(dir, toml) {
        Ok(a) => a,
        Err(r) => panic!("workspace does not load:\n{r}"),
    }
}

#[test]
fn postcode_extract_gives_the_same_need_map_as_coordinates() {
    let Some(geo) = geodata() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let zones = dir.path().join("zones.geojson");
    let n_zones = write_council_zones(&geo, &zones);
    assert!(n_zones > 500, "{n_zones} Edinburgh zones");
    let directory = directory(&geo);
    assert!(directory.len() > 10_000, "{} postcodes", directory.len());

    // The same extract twice: by postcode (in assorted spellings), and by the
    // directory's own longitude and latitude.
    let mut rng = Prng::new(1707);
    let mut by_pc = String::from("case_ref,postcode,received_at,client_group\n");
    let mut by_xy = String::from("case_ref,lon,lat,received_at,client_group\n");
    let mut variants: HashMap<usize, String> = HashMap::new();
    for row in 1..=ROWS {
        let time = format!(
            "2024-{:02}-{:02}T09:00:00",
            1 + rng.below(12),
            1 + rng.below(28)
        );
        let group = ["adults", "children_families"][rng.below(2)];
        if let Some(&(_, bad, _)) = BAD.iter().find(|b| b.0 == row) {
            let _ = writeln!(by_pc, "C{row},{bad},{time},{group}");
            let _ = writeln!(by_xy, "C{row},,,{time},{group}");
            continue;
        }
        let (key, lon, lat) = &directory[rng.below(directory.len())];
        let shown = display_form(key);
        let written = match row % 4 {
            0 => shown,
            1 => key.to_ascii_lowercase(),
            2 => format!("  {}  ", shown.to_ascii_lowercase().replace(' ', "   ")),
            _ => key.clone(),
        };
        variants.insert(row, written.clone());
        let _ = writeln!(by_pc, "C{row},{written},{time},{group}");
        let _ = writeln!(by_xy, "C{row},{lon},{lat},{time},{group}");
    }
    let pc_path = dir.path().join("extract_postcodes.csv");
    let xy_path = dir.path().join("extract_coordinates.csv");
    std::fs::write(&pc_path, by_pc).expect("write");
    std::fs::write(&xy_path, by_xy).expect("write");

    let pc_dir = tempfile::tempdir_in(dir.path()).expect("tempdir");
    let xy_dir = tempfile::tempdir_in(dir.path()).expect("tempdir");
    let a = load(pc_dir.path(), &workspace(&geo, &zones, &pc_path, true));
    let b = load(xy_dir.path(), &workspace(&geo, &zones, &xy_path, false));
    assert_eq!(a.areas.len(), n_zones);

    // Every well-formed, known postcode is placed, whatever its case and spacing.
    let good = ROWS - BAD.len();
    assert_eq!(a.referrals.referrals.len(), good);
    assert_eq!(b.referrals.referrals.len(), good);
    let rows: Vec<usize> = a.referrals.referrals.iter().map(|r| r.row).collect();
    for row in [1usize, 2, 4, 6] {
        assert!(
            rows.contains(&row),
            "row {row} ({:?}) was not placed",
            variants[&row]
        );
    }
    for (ra, rb) in a.referrals.referrals.iter().zip(&b.referrals.referrals) {
        assert_eq!(ra.row, rb.row);
        assert_eq!((ra.x_m, ra.y_m), (rb.x_m, rb.y_m), "row {}", ra.row);
        assert_eq!(ra.area, rb.area, "row {}", ra.row);
    }

    // The same need map, exactly.
    let na = need_map(&a.areas, &a.referrals, &a.config.need);
    let nb = need_map(&b.areas, &b.referrals, &b.config.need);
    assert_eq!(na, nb);
    let placed: u64 = na.areas.iter().map(|x| x.referrals).sum();
    assert_eq!(placed + na.outside, good as u64);
    assert!(placed as usize > good * 9 / 10, "{placed} of {good} placed");

    // Malformed and unknown postcodes are reported by row, never guessed.
    let file = "extract_postcodes.csv";
    for (row, pc, kind) in BAD {
        let d = expect_diag(
            &a.report,
            Severity::Warning,
            file,
            None,
            &[kind, &format!("{pc:?}")],
        );
        let record = d.record.as_deref().unwrap_or_default();
        assert!(
            record.contains(&row.to_string()),
            "postcode {pc:?} on row {row}: reported as {d}"
        );
    }
}

#[test]
fn postcode_normalisation_accepts_case_and_spacing_and_rejects_malformed() {
    for (raw, want) in [
        ("eh11yz", Some("EH11YZ")),
        (" Eh1  1yZ ", Some("EH11YZ")),
        ("G2 3AB", Some("G23AB")),
        ("ZZ9 9ZZ", Some("ZZ99ZZ")),
        ("EH1", None),
        ("12345", None),
        ("", None),
        ("EH1 1Y", None),
        ("EH1 1YZZ", None),
    ] {
        assert_eq!(normalise(raw).as_deref(), want, "{raw:?}");
    }
}
