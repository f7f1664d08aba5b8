//! WGS84 -> British National Grid against OSTN15 reference answers.

use needmap::spatial::crs::{bng_to_wgs84, wgs84_to_bng, Crs};

/// (place, lon, lat, easting, northing).
///
/// Reference eastings and northings computed with the PyPI package
/// `osgb==1.2.0` (Toby Thurston's OSTN15 implementation), call
/// `osgb.ll_to_grid(lat, lon, rounding=6)`, WGS84 treated as ETRS89. Cross-checked
/// with `convertbng==2.0.0` (`convertbng.cutil.convert_bng`), which agrees to the
/// millimetre for all six (it rounds to 1 mm).
const GB_POINTS: [(&str, f64, f64, f64, f64); 6] = [
    (
        "Edinburgh",
        -3.188267,
        55.953251,
        325_899.287712,
        673_996.251599,
    ),
    (
        "Glasgow",
        -4.251806,
        55.864237,
        259_174.648860,
        665_744.422456,
    ),
    (
        "Inverness",
        -4.224721,
        57.477773,
        266_698.781900,
        845_244.259884,
    ),
    (
        "Stornoway",
        -6.386640,
        58.209435,
        142_429.294060,
        932_911.180543,
    ),
    (
        "Lerwick",
        -1.145230,
        60.155388,
        447_554.490096,
        1_141_517.565923,
    ),
    (
        "Greenwich",
        -0.001475,
        51.477812,
        538_883.070591,
        177_321.605454,
    ),
];

/// Points at the edges of Scotland, outside the box `lonlat_bng` accepts
/// (west of 8.579°W or north of 60.84°N) except the first. Same source:
/// `osgb==1.2.0`, `ll_to_grid(lat, lon, rounding=6)`. `convertbng==2.0.0`
/// agrees for Village Bay (10088.512, 899342.059) and returns NaN for the others.
const EDGE_POINTS: [(&str, f64, f64, f64, f64); 4] = [
    (
        "Hirta, Village Bay",
        -8.5700,
        57.8130,
        10_088.511528,
        899_342.058739,
    ),
    (
        "Hirta, west side",
        -8.615374,
        57.828322,
        7_567.237551,
        901_305.951155,
    ),
    (
        "Unst, Hermaness",
        -0.87597,
        60.845732,
        461_189.773978,
        1_218_622.716757,
    ),
    (
        "Muckle Flugga",
        -0.8855,
        60.8553,
        460_653.770508,
        1_219_679.511996,
    ),
];

/// Tolerance of the issue: 5 mm.
const TOL_M: f64 = 0.005;

fn check_points(points: &[(&str, f64, f64, f64, f64)]) {
    let mut failures = Vec::new();
    for &(name, lon, lat, e, n) in points {
        match wgs84_to_bng(lon, lat) {
            Ok((x, y)) => {
                if (x - e).abs() > TOL_M || (y - n).abs() > TOL_M {
                    failures.push(format!(
                        "{name}: got ({x:.4}, {y:.4}), OSTN15 says ({e:.4}, {n:.4}); off by ({:.4}, {:.4}) m",
                        x - e,
                        y - n
                    ));
                }
            }
            Err(err) => failures.push(format!("{name}: {err}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn six_gb_points_match_ostn15_within_5mm() {
    check_points(&GB_POINTS);
}

#[test]
fn st_kilda_and_unst_transform_and_match_ostn15() {
    check_points(&EDGE_POINTS);
}

#[test]
fn bng_to_wgs84_round_trips_within_1e7_degrees() {
    let mut failures = Vec::new();
    for &(name, lon, lat, e, n) in GB_POINTS.iter().chain(EDGE_POINTS.iter()) {
        // From the reference grid position back to lon/lat.
        match bng_to_wgs84(e, n) {
            Ok((lo, la)) if (lo - lon).abs() <= 1e-7 && (la - lat).abs() <= 1e-7 => {}
            Ok((lo, la)) => failures.push(format!(
                "{name}: reference ({e}, {n}) -> ({lo:.9}, {la:.9}), expected ({lon}, {lat})"
            )),
            Err(err) => failures.push(format!("{name}: {err}")),
        }
        // And a full round trip through our own forward transform.
        if let Ok((x, y)) = wgs84_to_bng(lon, lat) {
            match bng_to_wgs84(x, y) {
                Ok((lo, la)) if (lo - lon).abs() <= 1e-7 && (la - lat).abs() <= 1e-7 => {}
                Ok((lo, la)) => failures.push(format!(
                    "{name}: round trip gives ({lo:.9}, {la:.9}), expected ({lon}, {lat})"
                )),
                Err(err) => failures.push(format!("{name}: round trip: {err}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn transforms_refuse_non_finite_and_far_away_points() {
    for (lon, lat) in [
        (f64::NAN, 55.0),
        (-3.0, f64::INFINITY),
        (40.0, 10.0),
        (-3.0, 30.0),
    ] {
        let e = wgs84_to_bng(lon, lat).expect_err("must be refused");
        assert!(
            e.to_string().contains("cannot be transformed"),
            "({lon}, {lat}): {e}"
        );
    }
    assert!(bng_to_wgs84(f64::NAN, 0.0).is_err());
}

#[test]
fn crs_names_parse_and_unknown_codes_are_named() {
    assert_eq!(Crs::parse("EPSG:4326"), Ok(Crs::Wgs84));
    assert_eq!(Crs::parse("urn:ogc:def:crs:OGC:1.3:CRS84"), Ok(Crs::Wgs84));
    assert_eq!(Crs::parse("urn:ogc:def:crs:EPSG::27700"), Ok(Crs::Bng));
    let e = Crs::parse("EPSG:99999").expect_err("unknown");
    assert!(e.to_string().contains("EPSG:99999"), "{e}");
}
