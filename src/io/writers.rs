//! Writers: need maps, equity tables and roll-ups as GeoJSON (WGS84, 6
//! decimals), CSV and text, after disclosure control for the given role.

use std::io::Write;
use std::path::Path;

use geo::MultiPolygon;
use serde_json::{json, Map, Value};

use crate::analysis::{AreaNeed, EquityRow, EquityTable, NeedMap, Rollup, RollupUnit};
use crate::error::{Error, Result};
use crate::io::publish::{equity_unit, EQUITY_LEVEL, EQUITY_TOTAL};
use crate::model::Area;
use crate::privacy::sdc::WITHHELD;
use crate::privacy::{Count, Disclosure};
use crate::spatial::crs::trim6;

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn count_value(c: Count) -> Value {
    match c {
        Count::Value(v) if v.fract() == 0.0 => json!(v as i64),
        Count::Value(v) => json!(v),
        Count::Suppressed(s) => json!(s),
    }
}

/// A count the release always publishes (totals); withheld if it were ever missing.
fn shown(c: Option<Count>) -> Count {
    c.unwrap_or_else(|| Count::Suppressed(WITHHELD.into()))
}

/// GeoJSON geometry of a WGS84 multipolygon, coordinates trimmed to 6 decimals.
pub fn multipolygon_json(mp: &MultiPolygon<f64>) -> Value {
    let polys: Vec<Value> =
        mp.0.iter()
            .map(|p| {
                let rings: Vec<Value> = std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(|r| {
                        Value::Array(
                            r.0.iter()
                                .map(|c| json!([trim6(c.x), trim6(c.y)]))
                                .collect(),
                        )
                    })
                    .collect();
                Value::Array(rings)
            })
            .collect();
    if polys.len() == 1 {
        json!({"type": "Polygon", "coordinates": polys[0]})
    } else {
        json!({"type": "MultiPolygon", "coordinates": polys})
    }
}

/// A British National Grid multipolygon in WGS84 (OSTN15).
pub fn to_wgs84(mp: &MultiPolygon<f64>) -> Result<MultiPolygon<f64>> {
    use geo::{Coord, LineString, Polygon};
    let ring = |ls: &LineString<f64>| -> Result<LineString<f64>> {
        ls.0.iter()
            .map(|c| {
                crate::spatial::crs::bng_to_wgs84(c.x, c.y)
                    .map(|(x, y)| Coord { x, y })
                    .map_err(Error::from)
            })
            .collect::<Result<Vec<_>>>()
            .map(LineString)
    };
    mp.0.iter()
        .map(|p| {
            Ok(Polygon::new(
                ring(p.exterior())?,
                p.interiors().iter().map(ring).collect::<Result<Vec<_>>>()?,
            ))
        })
        .collect::<Result<Vec<_>>>()
        .map(MultiPolygon)
}

/// The published properties of one area.
pub fn area_properties(
    area: &Area,
    n: &AreaNeed,
    need: &NeedMap,
    d: Disclosure,
) -> Map<String, Value> {
    let i = n.area.index();
    let mut m = Map::new();
    m.insert("area_id".into(), json!(area.code));
    m.insert("name".into(), json!(area.name));
    m.insert("population".into(), json!(area.population));
    let c = shown(d.count(n.referrals as f64, |r| Some(r.area(i))));
    m.insert(
        "rate_per_1000".into(),
        json!(d.rate_per_1000(&c, n.population, n.rate_per_1000)),
    );
    m.insert("referrals".into(), count_value(c));
    m.insert("need_score".into(), json!(n.need_score.map(round2)));
    m.insert("simd_rank".into(), json!(area.simd.map(|s| s.rank)));
    m.insert("simd_decile".into(), json!(area.simd.map(|s| s.decile)));
    m.insert("simd_quintile".into(), json!(area.simd.map(|s| s.quintile)));
    for (g, name) in need.groups.iter().enumerate() {
        if let Some(c) = d.count(n.by_group[g] as f64, |r| r.area_group(i, g)) {
            m.insert(format!("referrals_{name}"), count_value(c));
        }
    }
    m
}

/// The need map as a GeoJSON FeatureCollection.
pub fn need_geojson(areas: &[Area], need: &NeedMap, d: Disclosure) -> Value {
    let features: Vec<Value> = areas
        .iter()
        .zip(&need.areas)
        .enumerate()
        .map(|(i, (a, n))| {
            json!({
                "type": "Feature",
                "id": i,
                "properties": area_properties(a, n, need, d),
                "geometry": multipolygon_json(&a.geometry_wgs84),
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// Write a file whole: to a temporary file beside it, synced, then renamed.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_file(path, bytes)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    // Write to a temporary file beside the target, then rename: never a half-written output.
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("out")
    ));
    let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Write the need map as GeoJSON.
pub fn write_need_geojson(
    path: &Path,
    areas: &[Area],
    need: &NeedMap,
    d: Disclosure,
) -> Result<()> {
    let v = need_geojson(areas, need, d);
    let bytes = serde_json::to_vec(&v).map_err(|e| Error::BadInput(e.to_string()))?;
    write_file(path, &bytes)
}

/// Write the areas as GeoJSON with the properties given, one map per area in order.
pub fn write_areas_geojson(
    path: &Path,
    areas: &[Area],
    properties: Vec<serde_json::Map<String, Value>>,
) -> Result<()> {
    let features: Vec<Value> = areas
        .iter()
        .zip(properties)
        .enumerate()
        .map(|(i, (a, p))| {
            json!({
                "type": "Feature",
                "id": i,
                "properties": p,
                "geometry": multipolygon_json(&a.geometry_wgs84),
            })
        })
        .collect();
    let v = json!({"type": "FeatureCollection", "features": features});
    let bytes = serde_json::to_vec(&v).map_err(|e| Error::BadInput(e.to_string()))?;
    write_file(path, &bytes)
}

fn csv_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn csv_bytes(headers: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(headers)
        .map_err(|e| Error::BadInput(e.to_string()))?;
    for r in rows {
        w.write_record(r)
            .map_err(|e| Error::BadInput(e.to_string()))?;
    }
    w.into_inner().map_err(|e| Error::BadInput(e.to_string()))
}

/// Write the need map as CSV, one row per area, with per-group and per-period counts.
pub fn write_need_csv(path: &Path, areas: &[Area], need: &NeedMap, d: Disclosure) -> Result<()> {
    let mut headers: Vec<String> = [
        "area_id",
        "name",
        "population",
        "referrals",
        "rate_per_1000",
        "need_score",
        "simd_rank",
        "simd_decile",
        "simd_quintile",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let groups = d.area_groups();
    if groups {
        headers.extend(need.groups.iter().map(|g| format!("referrals_{g}")));
    }
    let fixed = headers.len();
    headers.extend(need.periods.iter().map(|p| format!("referrals_{p}")));
    let rows: Vec<Vec<String>> = areas
        .iter()
        .zip(&need.areas)
        .map(|(a, n)| {
            let i = n.area.index();
            let props = area_properties(a, n, need, d);
            let mut row: Vec<String> = headers[..fixed]
                .iter()
                .map(|h| props.get(h).map(csv_cell).unwrap_or_default())
                .collect();
            row.extend(
                n.by_period
                    .iter()
                    .enumerate()
                    .map(|(p, &c)| shown(d.count(c as f64, |r| r.area_period(i, p))).to_string()),
            );
            row
        })
        .collect();
    write_file(path, &csv_bytes(&headers, &rows)?)
}

fn equity_cells(r: &EquityRow, unit: usize, label: String, d: Disclosure) -> Vec<String> {
    let c = shown(d.count(r.referrals as f64, |x| x.unit(EQUITY_LEVEL, unit)));
    let rate = d.rate_per_1000(&c, Some(r.population), r.rate_per_1000);
    let mut v = vec![
        label,
        r.areas.to_string(),
        format!("{:.0}", r.population),
        c.to_string(),
        rate.map(|x| format!("{x:.2}")).unwrap_or_default(),
        r.share_of_population
            .map(|x| format!("{:.1}", x * 100.0))
            .unwrap_or_default(),
    ];
    v.extend(r.by_group.iter().enumerate().map(|(g, &n)| {
        shown(d.count(n as f64, |x| x.unit_group(EQUITY_LEVEL, unit, g))).to_string()
    }));
    v
}

/// The equity table as rows of text cells (header first).
pub fn equity_rows(t: &EquityTable, d: Disclosure) -> (Vec<String>, Vec<Vec<String>>) {
    let mut headers: Vec<String> = [
        "simd_quintile",
        "areas",
        "population",
        "referrals",
        "rate_per_1000",
        "population_pct",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    headers.extend(t.groups.iter().map(|g| format!("referrals_{g}")));
    let mut rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| {
            let label = r
                .simd_quintile
                .map(|q| q.to_string())
                .unwrap_or_else(|| "no SIMD".into());
            equity_cells(r, equity_unit(r.simd_quintile), label, d)
        })
        .collect();
    rows.push(equity_cells(&t.total, EQUITY_TOTAL, "total".into(), d));
    (headers, rows)
}

/// The equity table as JSON.
pub fn equity_json(t: &EquityTable, d: Disclosure) -> Value {
    let row = |r: &EquityRow, unit: usize| {
        let mut m = Map::new();
        m.insert("simd_quintile".into(), json!(r.simd_quintile));
        m.insert("areas".into(), json!(r.areas));
        m.insert("population".into(), json!(r.population.round()));
        let c = shown(d.count(r.referrals as f64, |x| x.unit(EQUITY_LEVEL, unit)));
        m.insert(
            "rate_per_1000".into(),
            json!(d.rate_per_1000(&c, Some(r.population), r.rate_per_1000)),
        );
        m.insert("referrals".into(), count_value(c));
        m.insert(
            "population_share".into(),
            json!(r.share_of_population.map(|x| (x * 1e4).round() / 1e4)),
        );
        let groups: Map<String, Value> = t
            .groups
            .iter()
            .zip(&r.by_group)
            .enumerate()
            .filter_map(|(g, (name, &n))| {
                let c = d.count(n as f64, |x| x.unit_group(EQUITY_LEVEL, unit, g))?;
                Some((name.clone(), count_value(c)))
            })
            .collect();
        m.insert("referrals_by_group".into(), Value::Object(groups));
        Value::Object(m)
    };
    json!({
        "rows": t.rows.iter().map(|r| row(r, equity_unit(r.simd_quintile))).collect::<Vec<_>>(),
        "total": row(&t.total, EQUITY_TOTAL),
    })
}

/// Write the equity table as CSV.
pub fn write_equity_csv(path: &Path, t: &EquityTable, d: Disclosure) -> Result<()> {
    let (h, r) = equity_rows(t, d);
    write_file(path, &csv_bytes(&h, &r)?)
}

/// Plain-text table for the terminal.
pub fn text_table(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = line(headers);
    out.push('\n');
    for r in rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    out
}

fn rollup_cells(u: &RollupUnit, level: &str, unit: usize, d: Disclosure) -> Vec<String> {
    let c = shown(d.count(u.referrals, |x| x.unit(level, unit)));
    let mut v = vec![
        u.code.clone(),
        u.name.clone().unwrap_or_default(),
        format!("{:.2}", u.areas),
        format!("{:.0}", u.population),
        c.to_string(),
        d.rate_per_1000(&c, Some(u.population), u.rate_per_1000)
            .map(|x| format!("{x:.2}"))
            .unwrap_or_default(),
        u.need_score.map(|x| format!("{x:.2}")).unwrap_or_default(),
        u.share_simd_q1
            .map(|x| format!("{:.1}", x * 100.0))
            .unwrap_or_default(),
    ];
    if d.level_groups(level) {
        v.extend(
            u.by_group
                .iter()
                .enumerate()
                .map(|(g, &n)| shown(d.count(n, |x| x.unit_group(level, unit, g))).to_string()),
        );
    }
    v
}

/// A roll-up as rows of text cells (header first); the unassigned row last when it has areas.
pub fn rollup_rows(r: &Rollup, d: Disclosure) -> (Vec<String>, Vec<Vec<String>>) {
    let mut headers: Vec<String> = [
        "code",
        "name",
        "areas",
        "population",
        "referrals",
        "rate_per_1000",
        "need_score",
        "simd_q1_pct",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if d.level_groups(&r.level) {
        headers.extend(r.groups.iter().map(|g| format!("referrals_{g}")));
    }
    let mut rows: Vec<Vec<String>> = r
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| rollup_cells(u, &r.level, i, d))
        .collect();
    if r.unassigned.areas > 0.0 {
        rows.push(rollup_cells(&r.unassigned, &r.level, r.units.len(), d));
    }
    (headers, rows)
}

/// A roll-up as JSON.
pub fn rollup_json(r: &Rollup, d: Disclosure) -> Value {
    let unit = |u: &RollupUnit, i: usize| {
        let c = shown(d.count(u.referrals, |x| x.unit(&r.level, i)));
        json!({
            "code": u.code,
            "name": u.name,
            "areas": round2(u.areas),
            "population": u.population.round(),
            "rate_per_1000": d.rate_per_1000(&c, Some(u.population), u.rate_per_1000),
            "referrals": count_value(c),
            "need_score": u.need_score.map(round2),
            "simd_q1_share": u.share_simd_q1.map(|x| (x * 1e4).round() / 1e4),
        })
    };
    json!({
        "level": r.level,
        "units": r.units.iter().enumerate().map(|(i, u)| unit(u, i)).collect::<Vec<_>>(),
        "unassigned": unit(&r.unassigned, r.units.len()),
    })
}

/// Write a roll-up as CSV.
pub fn write_rollup_csv(path: &Path, r: &Rollup, d: Disclosure) -> Result<()> {
    let (h, rows) = rollup_rows(r, d);
    write_file(path, &csv_bytes(&h, &rows)?)
}
