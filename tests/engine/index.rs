//! Point location: the indexed answer equals a brute-force loop over every
//! area with `geo::Contains` (rstar's seeded oracle tests, STYLE B4.2).

use geo::{BoundingRect, Contains, Point};
use needmap::io::workspace::Atlas;
use needmap::model::AreaId;
use needmap::spatial::crs::wgs84_to_bng;

use super::{demo_atlas, geodata, real_data, Prng};

/// The first area, in id order, whose geometry contains the point: every area
/// is tried (the bounding-box test only skips areas that cannot contain it).
fn brute_force(atlas: &Atlas, boxes: &[[f64; 4]], x: f64, y: f64) -> Option<AreaId> {
    let p = Point::new(x, y);
    atlas
        .areas
        .iter()
        .zip(boxes)
        .find(|(a, b)| x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3] && a.geometry.contains(&p))
        .map(|(a, _)| a.id)
}

fn boxes(atlas: &Atlas) -> Vec<[f64; 4]> {
    atlas
        .areas
        .iter()
        .map(|a| {
            let r = a.geometry.bounding_rect().expect("areas are not empty");
            [r.min().x, r.min().y, r.max().x, r.max().y]
        })
        .collect()
}

/// Half the points uniform over the union bounding box, half uniform over the
/// bounding boxes of random areas (so that many land near boundaries).
fn seeded_points(atlas: &Atlas, boxes: &[[f64; 4]], n: usize, seed: u64) -> Vec<(f64, f64)> {
    let mut u = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for b in boxes {
        u = [
            u[0].min(b[0]),
            u[1].min(b[1]),
            u[2].max(b[2]),
            u[3].max(b[3]),
        ];
    }
    let mut rng = Prng::new(seed);
    (0..n)
        .map(|i| {
            let b = if i % 2 == 0 {
                u
            } else {
                boxes[rng.below(atlas.areas.len())]
            };
            (rng.range(b[0], b[2]), rng.range(b[1], b[3]))
        })
        .collect()
}

fn check_oracle(atlas: &Atlas, n: usize, seed: u64) {
    let boxes = boxes(atlas);
    let points = seeded_points(atlas, &boxes, n, seed);
    let xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    let bulk = atlas.index.locate_all(&xs, &ys);
    let mut mismatches = Vec::new();
    let mut inside = 0usize;
    for (i, &(x, y)) in points.iter().enumerate() {
        let expected = brute_force(atlas, &boxes, x, y);
        let grid = atlas.index.locate(x, y);
        let rtree = atlas.index.locate_rtree(x, y);
        inside += usize::from(expected.is_some());
        if grid != expected || rtree != expected || bulk[i] != expected {
            mismatches.push(format!(
                "({x}, {y}): brute force {expected:?}, locate {grid:?}, locate_rtree {rtree:?}, locate_all {:?}",
                bulk[i]
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {n} points disagree, for example:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(10)].join("\n")
    );
    // The test only means something when both answers occur often.
    assert!(
        inside > n / 10 && inside < n,
        "{inside} of {n} points inside an area"
    );
}

#[test]
fn locate_equals_brute_force_on_demo_region() {
    check_oracle(demo_atlas(), 20_000, 7);
}

#[test]
fn locate_equals_brute_force_on_real_data_zones() {
    let Some(real) = real_data() else { return };
    check_oracle(&real.atlas, 20_000, 2011);
}

/// The geodata README (section dz2011_centroids.geojson, "Check") says 6,960 of
/// the 6,976 simd.scot centroids lie inside their own generalised data zone
/// and 1 lies outside every polygon; so 15 lie in another zone.
#[test]
fn data_zone_centroids_land_in_their_own_zones() {
    let Some(geo) = geodata() else { return };
    let Some(real) = real_data() else { return };
    let atlas = &real.atlas;
    let text =
        std::fs::read_to_string(geo.join("dz2011_centroids.geojson")).expect("read centroids");
    let fc: serde_json::Value = serde_json::from_str(&text).expect("centroids parse");
    let features = fc["features"].as_array().expect("features");
    assert_eq!(features.len(), 6976);
    let (mut own, mut outside, mut other) = (0usize, Vec::new(), Vec::new());
    for f in features {
        let code = f["properties"]["dz11_code"].as_str().expect("code");
        let c = &f["geometry"]["coordinates"];
        let (lon, lat) = (c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"));
        let (x, y) = wgs84_to_bng(lon, lat).expect("inside the grid");
        match atlas.index.locate(x, y) {
            Some(id) if atlas.areas[id.index()].code == code => own += 1,
            Some(id) => other.push(format!("{code} in {}", atlas.areas[id.index()].code)),
            None => outside.push(format!("{code} ({lon}, {lat})")),
        }
    }
    let listing = format!(
        "own zone: {own}\noutside every zone ({}): {}\nin another zone ({}): {}",
        outside.len(),
        outside.join(", "),
        other.len(),
        other.join(", ")
    );
    eprintln!("{listing}");
    assert_eq!(own, 6960, "{listing}");
    assert_eq!(outside.len(), 1, "{listing}");
    assert_eq!(other.len(), 15, "{listing}");
}

/// Every synthetic referral was sampled inside a data zone; after the lon/lat
/// round trip (7 decimals, about 1 cm) it is placed in that zone, except
/// where generalised zones overlap and a lower id claims the point first.
#[test]
fn referrals_are_placed_in_the_zone_they_were_sampled_in() {
    let Some(real) = real_data() else { return };
    let atlas = &real.atlas;
    assert_eq!(atlas.referrals.referrals.len(), real.written);
    let mut wrong = Vec::new();
    for r in &atlas.referrals.referrals {
        let want = &real.sampled_in[r.row - 1];
        match r.area {
            Some(a) if &atlas.areas[a.index()].code == want => {}
            Some(a) => {
                // Allowed only when the sampled zone also contains the point.
                let sampled = atlas.area_by_code(want).expect("sampled zone exists");
                let inside_sampled = atlas.index.prepared(sampled.id).contains(r.x_m, r.y_m);
                if !(inside_sampled && a < sampled.id) {
                    wrong.push(format!(
                        "row {}: sampled in {want}, placed in {}",
                        r.row,
                        atlas.areas[a.index()].code
                    ));
                }
            }
            None => wrong.push(format!("row {}: sampled in {want}, placed nowhere", r.row)),
        }
    }
    // A point within a centimetre of a boundary may cross it in the round trip.
    assert!(
        wrong.len() <= real.written / 1000,
        "{} misplaced:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(20)].join("\n")
    );
}
