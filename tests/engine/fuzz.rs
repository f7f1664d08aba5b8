//! Seeded mutation fuzzing on stable Rust: valid inputs of each reader
//! (GeoJSON, CSV tables, opening hours, the workspace file, referral times)
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
