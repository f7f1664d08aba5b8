//! Seeded mutation fuzzing on stable Rust: valid inputs of each reader
//! (GeoJSON, referral and indicator CSV files, Shapefiles, opening hours,
//! the workspace file, referral times)
//! are cut, spliced and bit-flipped thousands of times; every result must be
//! a value or a reported error, never a panic. Inputs that once crashed a
//! reader are kept in `REGRESSIONS` below.

use needmap::analysis::hours::{holiday_calendar, Hours};
use needmap::io::geojson::parse_geojson;
use needmap::io::referrals::parse_time;
use needmap::io::report::Report;
use needmap::io::table::parse_number;
use needmap::Config;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One random mutation of `seed` bytes (kept valid UTF-8 by lossy decoding).
fn mutate(rng: &mut Rng, seed: &str, pieces: &[&str]) -> String {
    let mut b = seed.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        if b.is_empty() {
            b.extend_from_slice(pieces[rng.below(pieces.len())].as_bytes());
            continue;
        }
        let at = rng.below(b.len());
        match rng.below(6) {
            0 => b.truncate(at),
            1 => {
                b.remove(at);
            }
            2 => b[at] ^= 1 << rng.below(8),
            3 => {
                let p = pieces[rng.below(pieces.len())].as_bytes();
                b.splice(at..at, p.iter().copied());
            }
            4 => {
                let end = (at + 1 + rng.below(16)).min(b.len());
                let chunk: Vec<u8> = b[at..end].to_vec();
                b.splice(at..at, chunk);
            }
            _ => {
                let end = (at + rng.below(8)).min(b.len());
                b.drain(at..end);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

const GEOJSON: &str = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"A1","pop":"8%","n":3},"geometry":{"type":"Polygon","coordinates":[[[-3.2,55.9],[-3.1,55.9],[-3.1,56.0],[-3.2,56.0],[-3.2,55.9]]]}},{"type":"Feature","properties":{"code":"P1"},"geometry":{"type":"Point","coordinates":[-3.15,55.95]}},{"type":"Feature","properties":{},"geometry":{"type":"MultiPolygon","coordinates":[[[[-3.0,55.0],[-2.9,55.0],[-2.9,55.1],[-3.0,55.0]]]]}}]}"#;

const PIECES: &[&str] = &[
    "NaN",
    "Infinity",
    "-1e309",
    "null",
    "[[",
    "]]",
    "{",
    "}",
    ",",
    "\"",
    "\\u0000",
    "1e999",
    "\"coordinates\":[]",
    "\"type\":\"Point\"",
    "-0",
    "9007199254740993",
    "\u{feff}",
    "true",
];

/// Inputs that crashed a reader once (none found yet; add them here with the fix).
const REGRESSIONS: &[&str] = &[];

#[test]
fn geojson_reader_never_panics() {
    let mut rng = Rng(1);
    let mut accepted = 0;
    for k in 0..4000 {
        let text = mutate(&mut rng, GEOJSON, PIECES);
        let r = std::panic::catch_unwind(|| {
            let mut report = Report::new();
            parse_geojson(&text, "fuzz.geojson", &mut report).map(|l| l.features.len())
        });
        assert!(r.is_ok(), "case {k} panicked on {text:?}");
        if r.ok().flatten().is_some() {
            accepted += 1;
        }
    }
    for text in REGRESSIONS {
        let mut report = Report::new();
        let _ = parse_geojson(text, "regression.geojson", &mut report);
    }
    // Some mutations leave the document valid; most do not.
    assert!(accepted > 0 && accepted < 4000, "{accepted}");
}

#[test]
fn opening_hours_times_and_numbers_never_panic() {
    let cal = holiday_calendar(2020, 2030, &[]);
    let seeds = [
        "Mo-Fr 09:00-17:00; PH off",
        "24/7",
        "Mo 09:00-12:00,13:30-17:00",
        "Fr 22:00-02:00; Sa,Su 10:00-16:00",
        "Jan-Mar Mo-Fr 08:00-18:00; Dec 25 off",
    ];
    let pieces = &[
        "; ", ",", "-", ":", "PH", "off", "24", "99:99", "Mo-", "+", "week", "\u{0}",
    ];
    let mut rng = Rng(2);
    for k in 0..3000 {
        let text = mutate(&mut rng, seeds[k % seeds.len()], pieces);
        let r = std::panic::catch_unwind(|| {
            if let Ok(h) = Hours::parse(&text, &cal) {
                let monday = chrono::NaiveDate::from_ymd_opt(2024, 8, 12).expect("date");
                let p = h.week_profile(monday);
                assert!(p.iter().all(|x| (0.0..=1.0).contains(x)), "{text}: {p:?}");
            }
        });
        assert!(r.is_ok(), "opening hours case {k} panicked on {text:?}");
        let t = mutate(
            &mut rng,
            "2024-03-31T01:30:00+01:00",
            &["Z", "T", "+25:00", "99"],
        );
        assert!(
            std::panic::catch_unwind(|| parse_time(&t)).is_ok(),
            "time {t:?}"
        );
        let n = mutate(&mut rng, "1,234.5%", &["%", "e9999", "NaN", "-", "inf"]);
        if let Some(v) = parse_number(&n) {
            assert!(v.is_finite(), "{n:?} read as {v}");
        }
    }
}

#[test]
fn workspace_files_never_panic() {
    let seed = r#"region = "Fuzz"
[areas]
path = "areas.geojson"
id = "code"
[[premises]]
path = "premises.geojson"
kind = "school"
[hours]
extra_public_holidays = ["2023-05-08"]
[need]
deprivation_weight = 0.5
referral_rate_weight = 0.5
[auth]
users = [{ name = "a", role = "planner", token_hash = "x" }]
"#;
    let mut rng = Rng(3);
    for k in 0..3000 {
        let text = mutate(
            &mut rng,
            seed,
            &["[", "]]", "=", "\"", "nan", "-inf", "\n[areas]\n", "1e400"],
        );
        assert!(
            std::panic::catch_unwind(|| Config::parse(&text)).is_ok(),
            "workspace case {k} panicked on {text:?}"
        );
    }
}

const REFERRALS_CSV: &str = "case_ref,easting,northing,received_at,client_group\nR1,326000,673000,2024-03-31T00:30:00,adults\nR2,326100.5,673010,2024-10-27 01:30,children\nR3,,673010,,\nR4,326200,673020,31/12/2024 23:59,adults\n";

#[test]
fn referral_and_indicator_csv_readers_never_panic() {
    use needmap::io::referrals::read_referrals;
    use needmap::io::table::read_table;
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("fuzz.csv");
    let cfg: needmap::config::ReferralsConfig = toml::from_str(
        "path = \"fuzz.csv\"\nx = \"easting\"\ny = \"northing\"\ncrs = \"EPSG:27700\"\ntime = \"received_at\"\ngroup = \"client_group\"\n",
    )
    .expect("referrals config");
    let mut rng = Rng(5);
    let pieces = &[
        ",", "\"", "\n", "\r\n", "NaN", "-inf", "1e400", "\u{feff}", "\"\"\"", ",,,,",
    ];
    let (mut ok, mut rejected) = (0, 0);
    for k in 0..1500 {
        let text = mutate(&mut rng, REFERRALS_CSV, pieces);
        std::fs::write(&path, &text).expect("write");
        let r = std::panic::catch_unwind(|| {
            let mut report = Report::new();
            let a = read_referrals(&path, "fuzz.csv", &cfg, None, &mut report)
                .map(|r| r.referrals.len());
            let mut report = Report::new();
            let b = read_table(&path, "fuzz.csv", &mut report).map(|t| t.rows.len());
            (a, b)
        });
        let (a, _) = r.unwrap_or_else(|_| panic!("case {k} panicked on {text:?}"));
        if a.is_some() {
            ok += 1;
        } else {
            rejected += 1;
        }
    }
    assert!(ok > 0 && rejected > 0, "{ok} read, {rejected} rejected");
}

#[test]
fn shapefile_reader_never_panics() {
    use needmap::io::shapefile::read_shapefile;
    let dir = tempfile::tempdir().expect("tmp");
    let shp = dir.path().join("fuzz.shp");
    {
        let table = shapefile::dbase::TableWriterBuilder::new().add_character_field(
            shapefile::dbase::FieldName::try_from("team").expect("field"),
            8,
        );
        let mut w = shapefile::Writer::from_path(&shp, table).expect("writer");
        for (i, x0) in [300_000.0, 301_000.0, 302_000.0].iter().enumerate() {
            let ring: Vec<shapefile::Point> = [
                (0.0, 0.0),
                (0.0, 900.0),
                (900.0, 900.0),
                (900.0, 0.0),
                (0.0, 0.0),
            ]
            .iter()
            .map(|&(x, y)| shapefile::Point::new(x0 + x, 670_000.0 + y))
            .collect();
            let shape = shapefile::Polygon::new(shapefile::PolygonRing::Outer(ring));
            let mut rec = shapefile::dbase::Record::default();
            rec.insert(
                "team".into(),
                shapefile::dbase::FieldValue::Character(Some(format!("T{i}"))),
            );
            w.write_shape_and_record(&shape, &rec).expect("write");
        }
    }
    std::fs::write(
        dir.path().join("fuzz.prj"),
        r#"PROJCS["British_National_Grid",GEOGCS["GCS_OSGB_1936",DATUM["D_OSGB_1936",SPHEROID["Airy_1830",6377563.396,299.3249646]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",400000.0],PARAMETER["False_Northing",-100000.0],PARAMETER["Central_Meridian",-2.0],PARAMETER["Scale_Factor",0.9996012717],PARAMETER["Latitude_Of_Origin",49.0],UNIT["Meter",1.0]]"#,
    )
    .expect("prj");
    let files: Vec<(std::path::PathBuf, Vec<u8>)> = ["shp", "shx", "dbf"]
        .iter()
        .map(|e| {
            let p = dir.path().join(format!("fuzz.{e}"));
            let b = std::fs::read(&p).expect("read");
            (p, b)
        })
        .collect();
    {
        let mut report = Report::new();
        let layer =
            read_shapefile(&shp, "fuzz.shp", &mut report).expect("the unmutated file reads");
        assert_eq!(layer.features.len(), 3);
    }
    let mut rng = Rng(7);
    for k in 0..1500 {
        // Damage one of the three files: flip bits, cut, or overwrite a run of bytes.
        let (path, orig) = &files[rng.below(3)];
        let mut b = orig.clone();
        for _ in 0..1 + rng.below(4) {
            if b.is_empty() {
                break;
            }
            let at = rng.below(b.len());
            match rng.below(4) {
                0 => b[at] ^= 1 << rng.below(8),
                1 => b.truncate(at),
                2 => {
                    let v = (rng.next() & 0xff) as u8;
                    let end = (at + 1 + rng.below(8)).min(b.len());
                    b[at..end].iter_mut().for_each(|x| *x = v);
                }
                _ => {
                    let end = (at + 4).min(b.len());
                    b[at..end].copy_from_slice(&[0xff, 0xff, 0xff, 0x7f][..end - at]);
                }
            }
        }
        std::fs::write(path, &b).expect("write");
        let r = std::panic::catch_unwind(|| {
            let mut report = Report::new();
            read_shapefile(&shp, "fuzz.shp", &mut report).map(|l| l.features.len())
        });
        assert!(r.is_ok(), "case {k}: damaged {} panicked", path.display());
        std::fs::write(path, orig).expect("restore");
    }
}
