//! The built binary, run in a temporary directory (ripgrep's `TestCommand`
//! style): deterministic demo output, validate exit codes, need and equity
//! outputs, and disclosure control on public outputs.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use tempfile::TempDir;

pub(crate) fn needmap(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_needmap"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run needmap")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(dir: &Path, args: &[&str]) -> Output {
    let o = needmap(dir, args);
    assert!(o.status.success(), "needmap {args:?} failed:\n{}", text(&o));
    o
}

const DEMO: [&str; 8] = [
    "--areas",
    "300",
    "--referrals",
    "5000",
    "--seed",
    "7",
    "--out",
    "D",
];

/// A temporary directory holding the demo workspace `D`.
fn demo_dir() -> TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["demo"];
    args.extend(DEMO);
    ok(t.path(), &args);
    t
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read file"),
            )
        })
        .collect()
}

#[test]
fn demo_is_deterministic_for_a_seed() {
    let t = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["demo"];
    args.extend(DEMO);
    ok(t.path(), &args);
    args[8] = "E";
    ok(t.path(), &args);
    let (d, e) = (files(&t.path().join("D")), files(&t.path().join("E")));
    let names: Vec<&String> = d.keys().collect();
    for want in [
        "needmap.toml",
        "areas.geojson",
        "indicators.csv",
        "referrals.csv",
        "premises.geojson",
        "localities.geojson",
        "teams.shp",
        "teams.shx",
        "teams.dbf",
        "teams.prj",
        "roads.geojson",
    ] {
        assert!(d.contains_key(want), "no {want} among {names:?}");
    }
    assert_eq!(d.keys().collect::<Vec<_>>(), e.keys().collect::<Vec<_>>());
    for (name, bytes) in &d {
        assert!(
            bytes == &e[name],
            "{name} differs between two runs with seed 7"
        );
    }
    // And a different seed gives different referrals.
    args[6] = "8";
    args[8] = "F";
    ok(t.path(), &args);
    let f = std::fs::read(t.path().join("F/referrals.csv")).expect("read");
    assert_ne!(f, d["referrals.csv"]);
}

#[test]
fn validate_passes_on_the_demo() {
    let dir = demo_dir();
    let o = ok(dir.path(), &["validate", "--config", "D/needmap.toml"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("300 areas"), "{}", text(&o));
    assert!(out.contains("0 error(s)"), "{}", text(&o));
}

#[test]
fn validate_fails_on_a_broken_workspace_and_names_file_and_problem() {
    let t = demo_dir();
    let src = t.path().join("D");
    let b = t.path().join("B");
    std::fs::create_dir(&b).expect("mkdir");
    for (name, bytes) in files(&src) {
        std::fs::write(b.join(name), bytes).expect("copy");
    }
    // Break a polygon: drop the closing position of the first ring.
    let path = b.join("areas.geojson");
    let mut fc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    let ring = fc["features"][4]["geometry"]["coordinates"][0]
        .as_array_mut()
        .expect("ring");
    ring.pop();
    let code = fc["features"][4]["properties"]["area_code"]
        .as_str()
        .expect("code")
        .to_string();
    std::fs::write(&path, fc.to_string()).expect("write");

    let o = needmap(t.path(), &["validate", "--config", "B/needmap.toml"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let all = text(&o);
    assert!(all.contains("areas.geojson"), "{all}");
    assert!(all.contains(&format!("feature 5 ({code})")), "{all}");
    assert!(all.contains("not closed"), "{all}");

    // A missing column: the file and the column are named, exit 1.
    let toml = std::fs::read_to_string(b.join("needmap.toml")).expect("read");
    std::fs::write(
        b.join("needmap.toml"),
        toml.replace("x = \"easting\"", "x = \"eastings\""),
    )
    .expect("write");
    let o = needmap(t.path(), &["validate", "--config", "B/needmap.toml"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let all = text(&o);
    assert!(all.contains("referrals.csv"), "{all}");
    assert!(all.contains("missing column \"eastings\""), "{all}");

    // A workspace file that does not exist.
    let o = needmap(t.path(), &["validate", "--config", "nothing/needmap.toml"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("nothing/needmap.toml"), "{}", text(&o));
}

/// A published count: `<10`, or a whole multiple of 5 of at least 10.
fn check_public_count(what: &str, v: &str) {
    if v == "<10" {
        return;
    }
    let n: f64 = v
        .parse()
        .unwrap_or_else(|_| panic!("{what}: {v:?} is not a count"));
    assert!(
        n >= 10.0 && n.fract() == 0.0 && (n as u64).is_multiple_of(5),
        "{what}: {v} is not protected"
    );
}

#[test]
fn need_writes_geojson_and_csv_with_protected_counts() {
    let t = demo_dir();
    let cfg = "D/needmap.toml";
    ok(
        t.path(),
        &[
            "need",
            "--config",
            cfg,
            "--out",
            "x.geojson",
            "--csv",
            "x.csv",
        ],
    );
    let gj = std::fs::read_to_string(t.path().join("x.geojson")).expect("GeoJSON written");
    let csv_text = std::fs::read_to_string(t.path().join("x.csv")).expect("CSV written");

    // GeoJSON: one polygon feature per area, public counts only.
    let fc: serde_json::Value = serde_json::from_str(&gj).expect("valid JSON");
    let features = fc["features"].as_array().expect("features");
    assert_eq!(features.len(), 300);
    let mut suppressed = 0;
    for f in features {
        let g = f["geometry"]["type"].as_str().expect("type");
        assert!(g == "Polygon" || g == "MultiPolygon", "{g}");
        for (k, v) in f["properties"].as_object().expect("properties") {
            assert!(
                ![
                    "x",
                    "y",
                    "lon",
                    "lat",
                    "longitude",
                    "latitude",
                    "easting",
                    "northing",
                    "case_ref",
                    "received_at",
                ]
                .contains(&k.as_str()),
                "a point attribute {k} was published"
            );
            if k.starts_with("referrals") {
                let s = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                suppressed += usize::from(s == "<10");
                check_public_count(k, &s);
            }
            if k == "rate_per_1000" && f["properties"]["referrals"] == "<10" {
                assert!(v.is_null(), "a rate was shown for a suppressed count");
            }
        }
    }
    assert!(suppressed > 0, "some small counts should be suppressed");
    // No referral position or id leaks into the output.
    let refs = std::fs::read_to_string(t.path().join("D/referrals.csv")).expect("read");
    for line in refs.lines().skip(1).take(200) {
        let cells: Vec<&str> = line.split(',').collect();
        assert!(
            !gj.contains(cells[0]),
            "case reference {} published",
            cells[0]
        );
        let pair = format!("{},{}", cells[1], cells[2]);
        assert!(
            !gj.contains(&pair) && !csv_text.contains(&pair),
            "point {pair} published"
        );
    }

    // CSV: the same protection on every count column (totals, groups, periods).
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = rdr.headers().expect("header").clone();
    let mut rows = 0;
    for rec in rdr.records() {
        let rec = rec.expect("row");
        rows += 1;
        for (h, v) in headers.iter().zip(rec.iter()) {
            if h.starts_with("referrals") {
                check_public_count(h, v);
            }
        }
    }
    assert_eq!(rows, 300);
    assert!(
        headers.iter().any(|h| h == "referrals_2023-01"),
        "{headers:?}"
    );
}

#[test]
fn exact_need_counts_add_up_for_planners() {
    let t = demo_dir();
    let cfg = "D/needmap.toml";
    ok(
        t.path(),
        &["need", "--config", cfg, "--csv", "x.csv", "--exact"],
    );
    let mut rdr = csv::Reader::from_path(t.path().join("x.csv")).expect("CSV");
    let headers = rdr.headers().expect("header").clone();
    let i = headers
        .iter()
        .position(|h| h == "referrals")
        .expect("column");
    let total: u64 = rdr
        .records()
        .map(|r| r.expect("row")[i].parse::<u64>().expect("exact count"))
        .sum();
    // The demo samples every referral inside an area; whole-metre rounding can
    // put a few on the region's outer edge.
    assert!((4_990..=5_000).contains(&total), "{total}");
}

#[test]
fn equity_prints_five_quintile_rows() {
    let t = demo_dir();
    let cfg = "D/needmap.toml";
    let o = ok(t.path(), &["equity", "--config", cfg]);
    let out = String::from_utf8_lossy(&o.stdout);
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().expect("header").split_whitespace().collect();
    assert_eq!(header[0], "simd_quintile", "{out}");
    let ri = header
        .iter()
        .position(|h| *h == "referrals")
        .expect("referrals column");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    let quintiles: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(quintiles, ["1", "2", "3", "4", "5", "total"], "{out}");
    for r in &rows {
        check_public_count("equity referrals", r[ri]);
    }
    let areas: usize = rows[..5]
        .iter()
        .map(|r| r[1].parse::<usize>().expect("areas"))
        .sum();
    assert_eq!(areas, 300);
}
