//! A deterministic synthetic region: a whole workspace (`needmap.toml` and its
//! files) with small areas whose population and deprivation cluster around
//! towns, referrals with weekday, daytime and evening patterns and client
//! groups, premises of several kinds with OSM opening hours, and two boundary
//! sets that do not line up with the areas or with each other (one written as
//! GeoJSON, one as an ESRI Shapefile), and a road network. The same seed gives
//! the same files.
//!
//! The areas are cells of a jittered grid in British National Grid (600 m
//! cells west of Edinburgh); shared edges carry the same jittered midpoints,
//! so the areas tile the region without gaps or overlaps.
//!
//! The roads (`roads.geojson`, OS Open Roads `road_function` classes) run
//! along the area edges, one link per edge from corner to corner, so links
//! meet exactly at their ends and the network is connected: Local Roads, with
//! every third grid line a Minor Road, every sixth a B Road, and two A Roads
//! crossing the region along its middle row and column.

pub mod rng;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use geo::{Coord, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::spatial::crs::{bng_to_wgs84, trim6};
use crate::spatial::PreparedPolygon;
use rng::{hash3, unit, Rng};

/// What to generate.
#[derive(Clone, Debug)]
pub struct DemoSpec {
    pub areas: usize,
    pub referrals: usize,
    pub seed: u64,
}

impl Default for DemoSpec {
    fn default() -> Self {
        DemoSpec {
            areas: 600,
            referrals: 30_000,
            seed: 42,
        }
    }
}

/// What was written.
#[derive(Clone, Debug)]
pub struct DemoSummary {
    pub config: PathBuf,
    pub areas: usize,
    pub referrals: usize,
    pub premises: usize,
    pub population: u64,
}

const ORIGIN_X: f64 = 290_000.0;
const ORIGIN_Y: f64 = 640_000.0;
const CELL_M: f64 = 600.0;

/// Client groups and their base shares.
const GROUPS: [(&str, f64); 5] = [
    ("children_families", 0.35),
    ("adults", 0.28),
    ("older_people", 0.20),
    ("mental_health", 0.11),
    ("justice", 0.06),
];

struct Layout {
    cols: usize,
    rows: usize,
    n: usize,
    seed: u64,
}

impl Layout {
    fn new(n: usize, seed: u64) -> Layout {
        let cols = ((n as f64 * 1.3).sqrt().ceil() as usize).max(1);
        let rows = n.div_ceil(cols);
        Layout {
            cols,
            rows,
            n,
            seed,
        }
    }

    /// Jittered grid vertex (i, j), i in 0..=cols, j in 0..=rows.
    fn vertex(&self, i: usize, j: usize) -> Coord<f64> {
        let h = hash3(self.seed, (i as u64) << 32 | j as u64, 1);
        let jx = (unit(h) - 0.5) * 0.36 * CELL_M;
        let jy = (unit(hash3(h, 2, 3)) - 0.5) * 0.36 * CELL_M;
        // Keep the outer edge straight so the region is a clean rectangle.
        let jx = if i == 0 || i == self.cols { 0.0 } else { jx };
        let jy = if j == 0 || j == self.rows { 0.0 } else { jy };
        Coord {
            x: ORIGIN_X + i as f64 * CELL_M + jx,
            y: ORIGIN_Y + j as f64 * CELL_M + jy,
        }
    }

    /// Midpoint of the edge from vertex a to vertex b, bent sideways by a hash of the edge.
    fn mid(&self, a: (usize, usize), b: (usize, usize)) -> Coord<f64> {
        // Orient by the canonical (sorted) end points so both neighbours bend the same way.
        let key = if a <= b { (a, b) } else { (b, a) };
        let (p, q) = (
            self.vertex(key.0 .0, key.0 .1),
            self.vertex(key.1 .0, key.1 .1),
        );
        let h = hash3(
            self.seed,
            ((key.0 .0 as u64) << 32) | key.0 .1 as u64,
            ((key.1 .0 as u64) << 32) | key.1 .1 as u64,
        );
        let on_border = (a.0 == b.0 && (a.0 == 0 || a.0 == self.cols))
            || (a.1 == b.1 && (a.1 == 0 || a.1 == self.rows));
        let bend = if on_border {
            0.0
        } else {
            (unit(h) - 0.5) * 0.3
        };
        let (dx, dy) = (q.x - p.x, q.y - p.y);
        Coord {
            x: (p.x + q.x) / 2.0 - dy * bend,
            y: (p.y + q.y) / 2.0 + dx * bend,
        }
    }

    fn cell(&self, k: usize) -> (usize, usize) {
        (k % self.cols, k / self.cols)
    }

    /// The polygon of area k (counter-clockwise, 8 vertices, closed).
    fn polygon(&self, k: usize) -> Polygon<f64> {
        let (i, j) = self.cell(k);
        let corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
        let mut pts = Vec::with_capacity(9);
        for c in 0..4 {
            let (a, b) = (corners[c], corners[(c + 1) % 4]);
            pts.push(self.vertex(a.0, a.1));
            pts.push(self.mid(a, b));
        }
        pts.push(pts[0]);
        Polygon::new(LineString(pts), vec![])
    }

    fn width_m(&self) -> f64 {
        self.cols as f64 * CELL_M
    }

    fn height_m(&self) -> f64 {
        self.rows as f64 * CELL_M
    }
}

struct DemoArea {
    code: String,
    name: String,
    iz: String,
    council: String,
    council_name: String,
    polygon: Polygon<f64>,
    population: u32,
    deprivation: f64,
    rank: u32,
    decile: u8,
}

fn to_wgs84_polygon(p: &Polygon<f64>) -> Result<Vec<Vec<[f64; 2]>>> {
    let ring = |ls: &LineString<f64>| -> Result<Vec<[f64; 2]>> {
        ls.0.iter()
            .map(|c| {
                bng_to_wgs84(c.x, c.y)
                    .map(|(lon, lat)| [trim6(lon), trim6(lat)])
                    .map_err(Error::from)
            })
            .collect()
    };
    let mut rings = vec![ring(p.exterior())?];
    for r in p.interiors() {
        rings.push(ring(r)?);
    }
    Ok(rings)
}

const COUNCILS: [&str; 6] = [
    "Westmuir",
    "Carronside",
    "Almond Vale",
    "Pentland",
    "Forthbank",
    "Linnhead",
];

fn build_areas(layout: &Layout, rng: &mut Rng) -> Vec<DemoArea> {
    let (w, h) = (layout.width_m(), layout.height_m());
    // Towns: centres with a deprived core of varying strength.
    let n_towns = (layout.n / 250).clamp(2, 40);
    let towns: Vec<(f64, f64, f64, f64)> = (0..n_towns)
        .map(|_| {
            let x = ORIGIN_X + rng.range(0.1, 0.9) * w;
            let y = ORIGIN_Y + rng.range(0.1, 0.9) * h;
            let sigma = rng.range(0.04, 0.12) * w.max(h);
            let strength = rng.range(0.4, 1.0);
            (x, y, sigma, strength)
        })
        .collect();
    let n_councils = (layout.cols / 8).clamp(1, COUNCILS.len());
    let iz_cols = layout.cols.div_ceil(2);
    let mut areas: Vec<DemoArea> = (0..layout.n)
        .map(|k| {
            let polygon = layout.polygon(k);
            let (i, j) = layout.cell(k);
            let cx = ORIGIN_X + (i as f64 + 0.5) * CELL_M;
            let cy = ORIGIN_Y + (j as f64 + 0.5) * CELL_M;
            let mut town = 0.0;
            let mut dep = 0.0;
            for &(tx, ty, s, st) in &towns {
                let d2 = (cx - tx).powi(2) + (cy - ty).powi(2);
                town += (-d2 / (2.0 * (2.0 * s).powi(2))).exp();
                dep += st * (-d2 / (2.0 * s * s)).exp();
            }
            let noise = unit(hash3(layout.seed, k as u64, 77)) - 0.5;
            let deprivation = dep + 0.35 * noise;
            let population =
                (420.0 + 380.0 * unit(hash3(layout.seed, k as u64, 78)) + 250.0 * town.min(1.5))
                    .round() as u32;
            let iz_index = (j / 3) * iz_cols + i / 2;
            // Councils are bands of columns aligned to intermediate zones.
            let band = ((i / 2) * 2 * n_councils / layout.cols.max(1)).min(n_councils - 1);
            DemoArea {
                code: format!("DZ{:06}", k + 1),
                name: format!("{} {:03}", COUNCILS[band], k + 1),
                iz: format!("IZ{:05}", iz_index + 1),
                council: format!("CA{:02}", band + 1),
                council_name: COUNCILS[band].to_string(),
                polygon,
                population,
                deprivation,
                rank: 0,
                decile: 0,
            }
        })
        .collect();
    // Rank 1 = most deprived.
    let mut order: Vec<usize> = (0..areas.len()).collect();
    order.sort_by(|&a, &b| {
        areas[b]
            .deprivation
            .total_cmp(&areas[a].deprivation)
            .then(a.cmp(&b))
    });
    let n = areas.len();
    for (r, &k) in order.iter().enumerate() {
        areas[k].rank = r as u32 + 1;
        areas[k].decile = ((r * 10 / n) + 1).min(10) as u8;
    }
    areas
}

struct PremisesKind {
    kind: &'static str,
    per_areas: usize,
    services: &'static [&'static str],
    hours: &'static [&'static str],
    capacity: (f64, f64),
    /// Who it serves, in words (signposting); taken in turn.
    eligibility: &'static [&'static str],
}

const KINDS: [PremisesKind; 6] = [
    PremisesKind {
        kind: "school",
        per_areas: 7,
        services: &["education", "school_nurse", "family_support"],
        hours: &[
            "Mo-Fr 08:30-15:30; PH off",
            "Mo-Th 08:45-15:15; Fr 08:45-12:30; PH off",
        ],
        capacity: (150.0, 900.0),
        eligibility: &["Pupils of the school and their families; school nurse drop-in for pupils"],
    },
    PremisesKind {
        kind: "nursery",
        per_areas: 9,
        services: &["early_learning", "family_support"],
        hours: &[
            "Mo-Fr 08:00-18:00; PH off",
            "Mo-Fr 07:30-18:00; PH off",
            "Mo-Fr 09:00-15:00; PH off",
        ],
        capacity: (30.0, 120.0),
        eligibility: &["Children aged 3 and 4, and eligible 2-year-olds; 1,140 funded hours a year", "Children aged 0 to 5; funded places for 3 and 4 year olds"],
    },
    PremisesKind {
        kind: "health_centre",
        per_areas: 25,
        services: &["gp", "health_visiting", "district_nursing", "mental_health"],
        hours: &[
            "Mo-Fr 08:00-18:30; PH off",
            "Mo-Fr 08:00-18:00; Sa 09:00-12:00; PH off",
            "Mo,Tu,Th,Fr 08:00-18:00; We 08:00-20:00; PH off",
        ],
        capacity: (3000.0, 12000.0),
        eligibility: &["Patients registered with the practice; anyone in the area for urgent care", "Residents of the practice area; health visiting for families with children under 5"],
    },
    PremisesKind {
        kind: "leisure_centre",
        per_areas: 60,
        services: &["sport", "community_space", "youth_work"],
        hours: &[
            "Mo-Fr 06:30-22:00; Sa,Su 08:00-20:00",
            "Mo-Fr 07:00-21:00; Sa 09:00-17:00; Su 10:00-16:00",
        ],
        capacity: (200.0, 800.0),
        eligibility: &["Everyone; free under-18 and over-60 sessions; youth work drop-in for ages 11 to 18"],
    },
    PremisesKind {
        kind: "social_work_office",
        per_areas: 120,
        services: &[
            "children_families",
            "adults",
            "older_people",
            "justice",
            "mental_health",
        ],
        hours: &[
            "Mo-Th 09:00-17:00; Fr 09:00-16:00; PH off",
            "Mo-Fr 08:45-16:45; PH off",
        ],
        capacity: (20.0, 80.0),
        eligibility: &["Anyone living in the council area: children and families, adults, older people; duty social worker on the day", "Residents of the council area by referral or self-referral; duty team for urgent concerns"],
    },
    PremisesKind {
        kind: "care_provider",
        per_areas: 35,
        services: &["care_at_home", "respite", "day_care"],
        hours: &[
            "24/7",
            "Mo-Su 07:00-22:00",
            "Mo-Fr 08:00-20:00; Sa,Su 09:00-17:00",
        ],
        capacity: (10.0, 60.0),
        eligibility: &["Adults assessed by the council as needing care; self-funded clients welcome", "Adults and older people with a care package from the council or a direct payment"],
    },
];

const NURSERY_PROVIDERS: [&str; 5] = [
    "Council",
    "Council",
    "Little Acorns Nurseries",
    "Bright Start Childcare",
    "Forthside Family Trust",
];

const PROVIDERS: [&str; 7] = [
    "Council",
    "Council",
    "Caledonia Care",
    "Thistle Support",
    "Forth Valley Trust",
    "Kinship Cooperative",
    "Harbour Homecare",
];

/// A point inside the area, rounded to whole metres (as written), at least a
/// metre clear of the area's edges so that rounding and the round trip through
/// WGS84 cannot move it into a neighbour or out of the region.
fn point_in(prep: &PreparedPolygon, rng: &mut Rng) -> (f64, f64) {
    let b = prep.bbox();
    for _ in 0..1000 {
        let x = rng.range(b[0], b[2]).round();
        let y = rng.range(b[1], b[3]).round();
        let clear = [(0.0, 0.0), (1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)]
            .iter()
            .all(|(dx, dy)| prep.contains(x + dx, y + dy));
        if clear {
            return (x, y);
        }
    }
    (((b[0] + b[2]) / 2.0).round(), ((b[1] + b[3]) / 2.0).round())
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// ESRI WKT for British National Grid, written beside the Shapefile.
const BNG_PRJ: &str = r#"PROJCS["British_National_Grid",GEOGCS["GCS_OSGB_1936",DATUM["D_OSGB_1936",SPHEROID["Airy_1830",6377563.396,299.3249646]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",400000.0],PARAMETER["False_Northing",-100000.0],PARAMETER["Central_Meridian",-2.0],PARAMETER["Scale_Factor",0.9996012717],PARAMETER["Latitude_Of_Origin",49.0],UNIT["Meter",1.0]]"#;

/// Rectangular units of `size` cells offset by `offset` cells, clipped to the region.
fn block_units(layout: &Layout, size: (f64, f64), offset: (f64, f64)) -> Vec<Polygon<f64>> {
    let (w, h) = (layout.width_m(), layout.height_m());
    let (bw, bh) = (size.0 * CELL_M, size.1 * CELL_M);
    let (ox, oy) = (offset.0 * CELL_M, offset.1 * CELL_M);
    let mut out = Vec::new();
    let mut y = -oy;
    while y < h {
        let mut x = -ox;
        while x < w {
            let (x0, y0) = ((x).max(0.0), (y).max(0.0));
            let (x1, y1) = ((x + bw).min(w), (y + bh).min(h));
            if x1 > x0 && y1 > y0 {
                let c = |x: f64, y: f64| Coord {
                    x: ORIGIN_X + x,
                    y: ORIGIN_Y + y,
                };
                out.push(Polygon::new(
                    LineString(vec![c(x0, y0), c(x1, y0), c(x1, y1), c(x0, y1), c(x0, y0)]),
                    vec![],
                ));
            }
            x += bw;
        }
        y += bh;
    }
    out
}

/// Write a demo workspace into `dir` (created if needed).
pub fn write_demo(dir: &Path, spec: &DemoSpec) -> Result<DemoSummary> {
    if spec.areas == 0 {
        return Err(Error::BadInput("the demo needs at least one area".into()));
    }
    if spec.areas > 200_000 || spec.referrals > 50_000_000 {
        return Err(Error::BadInput(
            "the demo is limited to 200,000 areas and 50,000,000 referrals".into(),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let layout = Layout::new(spec.areas, spec.seed);
    let mut rng = Rng::stream(spec.seed, 1);
    let areas = build_areas(&layout, &mut rng);

    // Areas GeoJSON (WGS84).
    let features: Vec<Value> = areas
        .par_iter()
        .map(|a| -> Result<Value> {
            Ok(json!({
                "type": "Feature",
                "properties": {"area_code": a.code, "area_name": a.name, "iz_code": a.iz, "council_code": a.council, "council_name": a.council_name},
                "geometry": {"type": "Polygon", "coordinates": to_wgs84_polygon(&a.polygon)?},
            }))
        })
        .collect::<Result<_>>()?;
    let fc = json!({"type": "FeatureCollection", "features": features});
    write(&dir.join("areas.geojson"), fc.to_string().as_bytes())?;

    // Indicator table, SIMD-like.
    let mut csv =
        String::from("area_code,population,simd_rank,simd_decile,income_rate,employment_rate\n");
    for a in &areas {
        let dep01 = 1.0 - (a.rank as f64 - 1.0) / (areas.len().max(2) as f64 - 1.0);
        let income = (4.0 + 30.0 * dep01 * dep01).round();
        let employment = (3.0 + 22.0 * dep01 * dep01).round();
        let _ = writeln!(
            csv,
            "{},{},{},{},{}%,{}%",
            a.code, a.population, a.rank, a.decile, income, employment
        );
    }
    write(&dir.join("indicators.csv"), csv.as_bytes())?;

    // Referrals: area ∝ population × deprivation weight, point uniform within the area.
    let n = areas.len();
    let preps: Vec<PreparedPolygon> = areas
        .par_iter()
        .map(|a| PreparedPolygon::new(&MultiPolygon(vec![a.polygon.clone()])))
        .collect();
    let mut cumulative = Vec::with_capacity(n);
    let mut acc = 0.0;
    for a in &areas {
        let dep01 = 1.0 - (a.rank as f64 - 1.0) / (n.max(2) as f64 - 1.0);
        acc += a.population as f64 * (0.25 + 3.0 * dep01.powi(3));
        cumulative.push(acc);
    }
    let start = chrono::NaiveDate::from_ymd_opt(2023, 1, 2).and_then(|d| d.and_hms_opt(0, 0, 0));
    let start = start.ok_or_else(|| Error::BadInput("bad demo start date".into()))?;
    const CHUNK: usize = 50_000;
    let n_chunks = spec.referrals.div_ceil(CHUNK);
    let path = dir.join("referrals.csv");
    let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    out.write_all(b"case_ref,easting,northing,received_at,client_group\n")
        .map_err(|e| Error::io(&path, e))?;
    // Generate chunks in parallel (each from its own stream), write in order.
    for batch in (0..n_chunks).collect::<Vec<_>>().chunks(16) {
        let texts: Vec<String> = batch
            .par_iter()
            .map(|&c| {
                let mut r = Rng::stream(spec.seed, 1000 + c as u64);
                let mut s = String::with_capacity(CHUNK * 60);
                let lo = c * CHUNK;
                let hi = ((c + 1) * CHUNK).min(spec.referrals);
                for i in lo..hi {
                    let k = r.pick_cumulative(&cumulative);
                    let (x, y) = point_in(&preps[k], &mut r);
                    let dep01 = 1.0 - (areas[k].rank as f64 - 1.0) / (n.max(2) as f64 - 1.0);
                    // Day: two years, weekdays five times as likely as weekend days.
                    let day = loop {
                        let d = r.below(730);
                        let weekday = d % 7; // start is a Monday
                        if weekday < 5 || r.f64() < 0.2 {
                            break d;
                        }
                    };
                    let u = r.f64();
                    let minute_of_day = if u < 0.74 {
                        ((12.5 + 2.3 * r.normal()).clamp(8.0, 17.99) * 60.0) as i64
                    } else if u < 0.95 {
                        (r.range(17.0, 23.0) * 60.0) as i64
                    } else {
                        (r.range(0.0, 8.0) * 60.0) as i64
                    };
                    let t = start
                        + chrono::Duration::days(day as i64)
                        + chrono::Duration::minutes(minute_of_day);
                    // Groups: children and families weigh more in deprived areas.
                    let mut wsum = 0.0;
                    let weights: Vec<f64> = GROUPS
                        .iter()
                        .enumerate()
                        .map(|(g, (_, w))| {
                            let w = if g == 0 { w * (0.6 + 0.8 * dep01) } else { *w };
                            wsum += w;
                            wsum
                        })
                        .collect();
                    let g = r.pick_cumulative(&weights);
                    let _ = writeln!(
                        s,
                        "R{:08},{:.0},{:.0},{},{}",
                        i + 1,
                        x,
                        y,
                        t.format("%Y-%m-%dT%H:%M:00"),
                        GROUPS[g].0
                    );
                }
                s
            })
            .collect();
        for t in texts {
            out.write_all(t.as_bytes())
                .map_err(|e| Error::io(&path, e))?;
        }
    }
    out.flush().map_err(|e| Error::io(&path, e))?;

    // Premises.
    let mut prem = Vec::new();
    let pop_cum: Vec<f64> = areas
        .iter()
        .scan(0.0, |s, a| {
            *s += a.population as f64;
            Some(*s)
        })
        .collect();
    let mut prng = Rng::stream(spec.seed, 2);
    for kind in &KINDS {
        let count = (n / kind.per_areas).max(1);
        for i in 0..count {
            let k = prng.pick_cumulative(&pop_cum);
            let (x, y) = point_in(&preps[k], &mut prng);
            let (lon, lat) = bng_to_wgs84(x, y)?;
            let hours = kind.hours[prng.below(kind.hours.len())];
            // Care is commissioned from several providers; nurseries are council or
            // partner-provider settings; the rest are run by the council.
            let provider = match kind.kind {
                "care_provider" => PROVIDERS[2 + prng.below(PROVIDERS.len() - 2)],
                "nursery" => NURSERY_PROVIDERS[prng.below(NURSERY_PROVIDERS.len())],
                _ => PROVIDERS[0],
            };
            let n_services = 1 + prng.below(kind.services.len());
            let services = kind.services[..n_services].join(";");
            let capacity = prng.range(kind.capacity.0, kind.capacity.1).round();
            let label = kind.kind.replace('_', " ");
            prem.push(json!({
                "type": "Feature",
                "properties": {
                    "premises_id": format!("{}-{:04}", &kind.kind[..3].to_uppercase(), i + 1),
                    "name": format!("{} {}", areas[k].council_name, label_title(&label, i + 1)),
                    "kind": kind.kind,
                    "services": services,
                    "capacity": capacity,
                    "provider": provider,
                    "opening_hours": hours,
                    "eligibility": kind.eligibility[i % kind.eligibility.len()],
                },
                "geometry": {"type": "Point", "coordinates": [trim6(lon), trim6(lat)]},
            }));
        }
    }
    let n_premises = prem.len();
    let fc = json!({"type": "FeatureCollection", "features": prem});
    write(&dir.join("premises.geojson"), fc.to_string().as_bytes())?;

    // Boundary sets: localities (GeoJSON) and social work teams (Shapefile), neither aligned to the areas.
    let localities = block_units(&layout, (7.0, 5.0), (3.3, 2.4));
    let feats: Vec<Value> = localities
        .iter()
        .enumerate()
        .map(|(i, p)| -> Result<Value> {
            Ok(json!({
                "type": "Feature",
                "properties": {"locality_code": format!("LOC{:03}", i + 1), "locality_name": format!("Locality {}", i + 1)},
                "geometry": {"type": "Polygon", "coordinates": to_wgs84_polygon(p)?},
            }))
        })
        .collect::<Result<_>>()?;
    write(
        &dir.join("localities.geojson"),
        json!({"type": "FeatureCollection", "features": feats})
            .to_string()
            .as_bytes(),
    )?;
    let teams = block_units(&layout, (5.0, 8.0), (1.6, 4.5));
    write_teams_shapefile(&dir.join("teams.shp"), &teams)?;
    write(&dir.join("teams.prj"), BNG_PRJ.as_bytes())?;

    write_roads(&dir.join("roads.geojson"), &layout)?;

    let config = format!(
        r#"# needmap workspace: synthetic demo region (seed {seed}, {n} areas, {m} referrals).
# Every value here is made up by `needmap demo`; nothing describes real people.
region = "Demo region (synthetic, seed {seed})"
attribution = "Synthetic data generated by needmap demo"

[areas]
path = "areas.geojson"
id = "area_code"
name = "area_name"
population = "population"
simd_rank = "simd_rank"
simd_decile = "simd_decile"
parents = ["iz_code", "council_code"]

[[indicators]]
path = "indicators.csv"
key = "area_code"

[referrals]
path = "referrals.csv"
x = "easting"
y = "northing"
crs = "EPSG:27700"
time = "received_at"
group = "client_group"

[[premises]]
path = "premises.geojson"

[[boundaries]]
name = "localities"
path = "localities.geojson"
id = "locality_code"
label = "locality_name"

[[boundaries]]
name = "teams"
path = "teams.shp"
id = "team_code"
label = "team_name"

[network]
path = "roads.geojson"
class = "road_function"

[need]
deprivation_weight = 0.5
referral_rate_weight = 0.5
period = "month"
"#,
        seed = spec.seed,
        n = n,
        m = spec.referrals
    );
    let config_path = dir.join("needmap.toml");
    write(&config_path, config.as_bytes())?;
    Ok(DemoSummary {
        config: config_path,
        areas: n,
        referrals: spec.referrals,
        premises: n_premises,
        population: areas.iter().map(|a| a.population as u64).sum(),
    })
}

/// The road class of a grid line (`index` of `count` lines across the region).
fn road_class(index: usize, count: usize) -> &'static str {
    if index == count / 2 {
        "A Road"
    } else if index % 6 == 3 {
        "B Road"
    } else if index.is_multiple_of(3) {
        "Minor Road"
    } else {
        "Local Road"
    }
}

/// Road links along the area edges (see the module documentation), as WGS84 GeoJSON.
fn write_roads(path: &Path, layout: &Layout) -> Result<()> {
    let exists = |i: usize, j: usize| i < layout.cols && j * layout.cols + i < layout.n;
    // Each link: end vertices (grid indices) and the class of its grid line.
    type Link = ((usize, usize), (usize, usize), &'static str);
    let mut links: Vec<Link> = Vec::new();
    for j in 0..=layout.rows {
        for i in 0..layout.cols {
            // Along the south edge of cell (i, j): a cell above or below it.
            if exists(i, j) || (j > 0 && exists(i, j - 1)) {
                links.push(((i, j), (i + 1, j), road_class(j, layout.rows)));
            }
        }
    }
    for i in 0..=layout.cols {
        for j in 0..layout.rows {
            // Along the west edge of cell (i, j): a cell to its east or west.
            if exists(i, j) || (i > 0 && exists(i - 1, j)) {
                links.push(((i, j), (i, j + 1), road_class(i, layout.cols)));
            }
        }
    }
    let features: Vec<Value> = links
        .par_iter()
        .map(|&(a, b, class)| -> Result<Value> {
            let pts = [
                layout.vertex(a.0, a.1),
                layout.mid(a, b),
                layout.vertex(b.0, b.1),
            ];
            let coords = pts
                .iter()
                .map(|c| {
                    bng_to_wgs84(c.x, c.y)
                        .map(|(lon, lat)| [trim6(lon), trim6(lat)])
                        .map_err(Error::from)
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(json!({
                "type": "Feature",
                "properties": {"road_function": class},
                "geometry": {"type": "LineString", "coordinates": coords},
            }))
        })
        .collect::<Result<_>>()?;
    write(
        path,
        json!({"type": "FeatureCollection", "features": features})
            .to_string()
            .as_bytes(),
    )
}

fn label_title(label: &str, i: usize) -> String {
    let mut t: String = label
        .split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let _ = write!(t, " {i}");
    t
}

fn write_teams_shapefile(path: &Path, polys: &[Polygon<f64>]) -> Result<()> {
    use shapefile::dbase::{FieldName, FieldValue, Record, TableWriterBuilder};
    let name = |s: &str| FieldName::try_from(s).map_err(|e| Error::BadInput(format!("{e:?}")));
    let table = TableWriterBuilder::new()
        .add_character_field(name("team_code")?, 12)
        .add_character_field(name("team_name")?, 40);
    let mut w = shapefile::Writer::from_path(path, table)
        .map_err(|e| Error::BadInput(format!("{}: {e}", path.display())))?;
    for (i, p) in polys.iter().enumerate() {
        // Shapefile outer rings run clockwise.
        let mut pts: Vec<shapefile::Point> = p
            .exterior()
            .0
            .iter()
            .map(|c| shapefile::Point::new(c.x, c.y))
            .collect();
        pts.reverse();
        let shape = shapefile::Polygon::new(shapefile::PolygonRing::Outer(pts));
        let mut rec = Record::default();
        rec.insert(
            "team_code".into(),
            FieldValue::Character(Some(format!("T{:03}", i + 1))),
        );
        rec.insert(
            "team_name".into(),
            FieldValue::Character(Some(format!("Team {}", i + 1))),
        );
        w.write_shape_and_record(&shape, &rec)
            .map_err(|e| Error::BadInput(format!("{}: {e}", path.display())))?;
    }
    drop(w);
    // The dBase header records the day the file was written (bytes 1-3: years
    // since 1900, month, day). Fix it to the demo's start date so that the same
    // seed gives byte-identical files on any day.
    let dbf = path.with_extension("dbf");
    let mut bytes = std::fs::read(&dbf).map_err(|e| Error::io(&dbf, e))?;
    if bytes.len() > 4 {
        bytes[1..4].copy_from_slice(&[123, 1, 2]);
        write(&dbf, &bytes)?;
    }
    Ok(())
}
