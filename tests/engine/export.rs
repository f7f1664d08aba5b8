//! `needmap export --result / --layer`: the built binary writes the same file
//! the API gives for the same role (public, or a planner with `--exact`), in
//! each format; bad requests are clear errors with a non-zero exit; and CSV
//! quoting survives a name holding a comma, a quote and a newline.

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use serde_json::Value;

use needmap::io::gpkg::GeoPackage;
use needmap::server::{router, Prepared};

use super::cli::needmap;

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(dir: &Path, args: &[&str]) {
    let o = needmap(dir, args);
    assert!(o.status.success(), "needmap {args:?} failed:\n{}", text(&o));
}

/// A demo workspace in `D`, with the first premises renamed to `name`.
fn demo(name: &str) -> (tempfile::TempDir, String) {
    let t = tempfile::tempdir().expect("tempdir");
    ok(
        t.path(),
        &[
            "demo",
            "--areas",
            "100",
            "--referrals",
            "2500",
            "--seed",
            "5",
            "--out",
            "D",
        ],
    );
    let p = t.path().join("D/premises.geojson");
    let mut fc: Value = serde_json::from_str(&std::fs::read_to_string(&p).expect("read"))
        .expect("premises GeoJSON");
    fc["features"][0]["properties"]["name"] = Value::from(name);
    let id = fc["features"][0]["properties"]["premises_id"]
        .as_str()
        .expect("id")
        .to_string();
    std::fs::write(&p, fc.to_string()).expect("write");
    (t, id)
}

/// The API's answer (bytes) for a URI on the same workspace, as the public.
async fn api(dir: &Path, uri: &str) -> Vec<u8> {
    let cfg = needmap::Config::load(&dir.join("D/needmap.toml")).expect("config");
    let atlas = needmap::io::workspace::load_workspace(&cfg, &Default::default())
        .unwrap_or_else(|r| panic!("{r}"));
    let app = router(Arc::new(Prepared::new(atlas)), None);
    let (status, _, body) = crate::api::send_get(&app, uri, None).await;
    assert!(status.is_success(), "{uri}: {status}");
    body
}

fn csv_rows(b: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(b);
    let h = r.headers().expect("h").iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.expect("record").iter().map(str::to_string).collect())
        .collect();
    (h, rows)
}

#[tokio::test]
async fn cli_exports_what_the_api_answers_in_each_format() {
    let (t, _) = demo("Plain Name");
    let d = t.path();
    let cfg = "D/needmap.toml";
    let gap = "/api/hours/gap?kind=social_work_office";
    ok(
        d,
        &[
            "export", "--config", cfg, "--result", gap, "--out", "gaps.csv",
        ],
    );
    let cli = std::fs::read(d.join("gaps.csv")).expect("gaps.csv");
    assert_eq!(
        cli,
        api(d, &format!("{gap}&format=csv")).await,
        "CLI and API differ"
    );
    let json: Value = serde_json::from_slice(&api(d, gap).await).expect("json");
    let (_, rows) = csv_rows(&cli);
    assert_eq!(rows.len(), json["areas"].as_array().expect("areas").len());

    // Format from the extension, a boundary set by --layer, without /api.
    ok(
        d,
        &[
            "export",
            "-c",
            cfg,
            "--layer",
            "teams",
            "--out",
            "teams.geojson",
        ],
    );
    let v: Value = serde_json::from_slice(&std::fs::read(d.join("teams.geojson")).expect("read"))
        .expect("geojson");
    let teams: Value =
        serde_json::from_slice(&api(d, "/api/boundaries/teams").await).expect("json");
    assert_eq!(
        v["features"].as_array().map(Vec::len),
        teams["features"].as_array().map(Vec::len)
    );
    for (a, b) in v["features"]
        .as_array()
        .expect("f")
        .iter()
        .zip(teams["features"].as_array().expect("f"))
    {
        assert_eq!(a["geometry"], b["geometry"]);
        assert_eq!(a["properties"], b["properties"]);
    }

    // --format over the extension, and a GeoPackage in British National Grid.
    ok(
        d,
        &[
            "export",
            "-c",
            cfg,
            "--result",
            "/trends",
            "--format",
            "gpkg",
            "--out",
            "trends.dat",
        ],
    );
    let gp = GeoPackage::open(&d.join("trends.dat")).expect("gpkg");
    let contents = gp.contents().expect("contents");
    assert_eq!(contents.len(), 1);
    assert_eq!(contents[0].0, "trends_areas");
    assert_eq!(contents[0].2, Some(27700));

    // Public counts are protected; --exact gives a planner's exact ones.
    ok(
        d,
        &[
            "export",
            "-c",
            cfg,
            "--layer",
            "areas",
            "--out",
            "public.csv",
        ],
    );
    ok(
        d,
        &[
            "export",
            "-c",
            cfg,
            "--layer",
            "areas",
            "--out",
            "exact.csv",
            "--exact",
        ],
    );
    let col = |file: &str| {
        let (h, rows) = csv_rows(&std::fs::read(d.join(file)).expect("read"));
        let k = h
            .iter()
            .position(|c| c == "referrals")
            .expect("referrals column");
        rows.into_iter().map(|r| r[k].clone()).collect::<Vec<_>>()
    };
    let (public, exact) = (col("public.csv"), col("exact.csv"));
    assert_eq!(public.len(), exact.len());
    assert!(
        public.iter().any(|c| c == "<10"),
        "the demo has small counts"
    );
    for (p, e) in public.iter().zip(&exact) {
        let e: u64 = e.parse().expect("planners see exact numbers");
        if e < 10 {
            assert!(p == "<10" || p == "[c]", "public {p} for exact {e}");
        } else {
            assert!(
                p == "[c]" || p.parse::<u64>().is_ok_and(|n| n % 5 == 0),
                "public {p}"
            );
        }
    }
}

#[test]
fn cli_export_mistakes_are_clear_errors() {
    let (t, _) = demo("Plain Name");
    let d = t.path();
    let cfg = "D/needmap.toml";
    for (args, wanted) in [
        (
            vec!["--result", "/api/no/such/thing", "--out", "x.csv"],
            "/api/no/such/thing",
        ),
        (vec!["--result", "/api/meta", "--out", "x.csv"], "no table"),
        (vec!["--result", "/api/areas", "--out", "x.txt"], "--format"),
        (
            vec![
                "--result",
                "/api/areas",
                "--format",
                "xlsx",
                "--out",
                "x.csv",
            ],
            "xlsx",
        ),
        (vec!["--result", "areas", "--out", "x.csv"], "API path"),
        (vec!["--result", "/api/areas"], "--out"),
        (vec!["--layer", "nope", "--out", "x.csv"], "nope"),
        (
            vec![
                "--result",
                "/api/referrals?bbox=-9,54,0,61",
                "--out",
                "x.csv",
                "--exact",
            ],
            "referral",
        ),
    ] {
        let mut a = vec!["export", "--config", cfg];
        a.extend(&args);
        let o = needmap(d, &a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(err.contains(wanted), "{args:?}: {wanted:?} not in:\n{err}");
        assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
        assert!(
            !d.join("x.csv").exists() && !d.join("x.txt").exists(),
            "{args:?} wrote a file"
        );
    }
}

#[test]
fn a_name_with_comma_quote_and_newline_survives_every_format() {
    let name = "Smith, \"The Hub\"\nUpper floor";
    let (t, id) = demo(name);
    let d = t.path();
    let cfg = "D/needmap.toml";
    ok(
        d,
        &["export", "-c", cfg, "--layer", "premises", "--out", "p.csv"],
    );
    let (h, rows) = csv_rows(&std::fs::read(d.join("p.csv")).expect("read"));
    let (ki, kn) = (
        h.iter().position(|c| c == "premises_id").expect("id"),
        h.iter().position(|c| c == "name").expect("name"),
    );
    let row = rows.iter().find(|r| r[ki] == id).expect("the premises");
    assert_eq!(row[kn], name);

    ok(
        d,
        &[
            "export",
            "-c",
            cfg,
            "--layer",
            "premises",
            "--out",
            "p.geojson",
        ],
    );
    let v: Value =
        serde_json::from_slice(&std::fs::read(d.join("p.geojson")).expect("read")).expect("json");
    assert!(v["features"]
        .as_array()
        .expect("features")
        .iter()
        .any(|f| f["properties"]["premises_id"] == id.as_str() && f["properties"]["name"] == name));

    ok(
        d,
        &[
            "export", "-c", cfg, "--layer", "premises", "--out", "p.gpkg",
        ],
    );
    let gp = GeoPackage::open(&d.join("p.gpkg")).expect("gpkg");
    let layer = gp
        .read_layer("premises", &["premises_id", "name"])
        .expect("layer");
    assert!(layer
        .iter()
        .any(|(_, v)| v[0].as_deref() == Some(id.as_str()) && v[1].as_deref() == Some(name)));
}
