//! `needmap coterminosity` and `needmap design`: boundary harmonisation.

use std::path::Path;

use anyhow::{anyhow, Context};
use serde_json::json;

use crate::io::boundaries_study::coterminosity_json;
use crate::io::workspace::Atlas;

/// Outputs of `coterminosity`.
pub struct CotermOutputs<'a> {
    pub units: Option<&'a Path>,
    pub splits: Option<&'a Path>,
    pub matrix: Option<&'a Path>,
    pub lookup: Option<&'a Path>,
}

fn write_rows(path: &Path, headers: &[&str], rows: Vec<Vec<String>>) -> anyhow::Result<()> {
    super::emit_table(
        headers.iter().map(|s| s.to_string()).collect(),
        rows,
        Some(path),
    )
}

fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `needmap coterminosity`.
pub fn coterminosity(
    atlas: &Atlas,
    a: &str,
    b: &str,
    split_share: f64,
    outs: CotermOutputs<'_>,
) -> anyhow::Result<()> {
    let s = atlas
        .coterminosity_study(a, b, split_share)
        .map_err(|e| anyhow!(e))?;
    let codes: Vec<String> = atlas.areas.iter().map(|x| x.code.clone()).collect();
    let v = coterminosity_json(&s, Some(&codes));
    let r = &s.result;
    eprintln!(
        "{a} ({} units) against {b} ({} units): fragmentation {:.4} ({a} {:.4}, {b} {:.4}); \
         {} of {a} and {} of {b} split (>= {:.0} % of a unit's population, slivers apart); \
         {} slivers; {} geometry problems; {} overlay fallbacks",
        s.a.codes.len(),
        s.b.codes.len(),
        r.fragmentation,
        r.fragmentation_a,
        r.fragmentation_b,
        r.split_units_a,
        r.split_units_b,
        split_share * 100.0,
        r.slivers.len(),
        v["geometry_problems"],
        v["overlay_fallbacks"],
    );
    let unit_rows = |key: &str, side: &str| -> Vec<Vec<String>> {
        v[key]
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|u| {
                        let mut r = vec![side.to_string()];
                        for k in [
                            "code",
                            "name",
                            "population",
                            "area_km2",
                            "dominant",
                            "index",
                            "counterparts",
                        ] {
                            r.push(cell(&u[k]));
                        }
                        r
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let heads = [
        "layer",
        "code",
        "name",
        "population",
        "area_km2",
        "dominant",
        "index",
        "counterparts",
    ];
    match outs.units {
        Some(p) => {
            let mut rows = unit_rows("units_a", a);
            rows.extend(unit_rows("units_b", b));
            write_rows(p, &heads, rows)?;
        }
        None => {
            // The least co-terminous units of A.
            let mut rows = unit_rows("units_a", a);
            rows.sort_by(|x, y| {
                x[6].parse::<f64>()
                    .unwrap_or(1.0)
                    .total_cmp(&y[6].parse::<f64>().unwrap_or(1.0))
            });
            rows.truncate(15);
            super::emit_table(heads.iter().map(|s| s.to_string()).collect(), rows, None)?;
        }
    }
    let rows_of = |key: &str, cols: &[&str]| -> Vec<Vec<String>> {
        v[key]
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|x| cols.iter().map(|k| cell(&x[*k])).collect())
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(p) = outs.splits {
        let cols = [
            "side",
            "unit",
            "counterpart",
            "population",
            "area_km2",
            "share",
        ];
        write_rows(p, &cols, rows_of("splits", &cols))?;
    }
    if let Some(p) = outs.matrix {
        let cols = ["a", "b", "area_km2", "population", "sliver"];
        write_rows(p, &cols, rows_of("matrix", &cols))?;
    }
    if let Some(p) = outs.lookup {
        let cols = ["area_id", "a", "b"];
        write_rows(p, &cols, rows_of("lookup", &cols))?;
    }
    Ok(())
}

/// Settings of `needmap design`.
pub struct DesignArgs<'a> {
    pub parent: &'a str,
    pub target: &'a str,
    pub current: Option<&'a str>,
    pub tolerance: f64,
    pub by_referrals: bool,
    pub out: Option<&'a Path>,
    pub lookup: Option<&'a Path>,
    pub exact: bool,
}

/// `needmap design`.
pub fn design(atlas: &Atlas, a: &DesignArgs<'_>) -> anyhow::Result<()> {
    let d = atlas
        .design_study(a.parent, a.target, a.current, a.tolerance, a.by_referrals)
        .map_err(|e| anyhow!(e))?;
    let policy = atlas.config.privacy.policy();
    let role = if a.exact {
        crate::privacy::Role::Planner
    } else {
        crate::privacy::Role::Public
    };
    let weight = |w: f64| -> serde_json::Value {
        if a.by_referrals {
            json!(policy.count(w, role))
        } else {
            json!(w.round())
        }
    };
    eprintln!(
        "{} units nesting in {}, aligned with {} (±{:.0} % on {}): co-terminosity {}{:.4}; \
         best-fit ceiling {:.4}; {} infeasible; {} links across detached parts",
        d.design.units.len(),
        a.parent,
        d.target_name,
        a.tolerance * 100.0,
        if a.by_referrals {
            "referrals"
        } else {
            "population"
        },
        d.before
            .map(|b| format!("{b:.4} ({}) -> ", a.current.unwrap_or("")))
            .unwrap_or_default(),
        d.after,
        d.design.ceiling_coterminosity,
        d.design.infeasible.len(),
        d.design.bridges.len()
    );
    if let (Some(b), true) = (d.before, d.before.is_some_and(|b| d.after < b)) {
        eprintln!("warning: the proposal is less co-terminous than the current set ({b:.4})");
    }
    for inf in &d.design.infeasible {
        eprintln!("infeasible: {inf:?}");
    }
    let unit_id = |k: usize| format!("U{:03}", k + 1);
    if let Some(p) = a.out {
        let mut feats = Vec::new();
        for (k, (u, poly)) in d.design.units.iter().zip(&d.polygons).enumerate() {
            let wgs = crate::io::writers::to_wgs84(&poly.geometry).map_err(|e| anyhow!("{e}"))?;
            feats.push(json!({
                "type": "Feature",
                "properties": {
                    "unit_id": unit_id(k),
                    "parent": d.parent_codes[k],
                    "aligned_with": d.labels[k],
                    "areas": u.areas.len(),
                    "weight": weight(u.weight),
                    "band_low": u.band[0].round(),
                    "band_high": u.band[1].round(),
                    "within_tolerance": u.within_tolerance,
                    "dissolved": poly.dissolved,
                },
                "geometry": crate::io::writers::multipolygon_json(&wgs),
            }));
        }
        let v = json!({"type": "FeatureCollection", "before": d.before, "after": d.after, "features": feats});
        std::fs::write(p, v.to_string()).with_context(|| format!("writing {}", p.display()))?;
        eprintln!("wrote {}", p.display());
    }
    let rows: Vec<Vec<String>> = atlas
        .areas
        .iter()
        .zip(&d.design.unit_of_area)
        .map(|(ar, &u)| {
            vec![
                ar.code.clone(),
                unit_id(u as usize),
                d.parent_codes[u as usize].clone(),
                d.labels[u as usize].clone().unwrap_or_default(),
            ]
        })
        .collect();
    match a.lookup {
        Some(p) => write_rows(p, &["area_id", "unit_id", "parent", "aligned_with"], rows),
        None => Ok(()),
    }
}
