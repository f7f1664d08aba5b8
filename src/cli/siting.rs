//! `needmap bench-siting`: location-allocation on the shared benchmark
//! instance (demand points with weights, candidate sites, Euclidean km), for
//! the side-by-side run against spopt in `scripts/bench`.

use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, Context};

use crate::analysis::siting::{mclp, p_median, Coverage, DenseCosts, SolveOptions};

fn read_xy(path: &Path, weight: Option<&str>) -> anyhow::Result<(Vec<[f64; 2]>, Vec<f64>)> {
    let mut rdr =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = rdr.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| anyhow!("{}: no {name} column", path.display()))
    };
    let (xi, yi) = (col("x")?, col("y")?);
    let wi = weight.map(col).transpose()?;
    let (mut pts, mut w) = (Vec::new(), Vec::new());
    for (row, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), row + 1))?;
        let num = |k: usize| -> anyhow::Result<f64> {
            rec[k]
                .trim()
                .parse::<f64>()
                .with_context(|| format!("{}: row {}: not a number", path.display(), row + 1))
        };
        pts.push([num(xi)?, num(yi)?]);
        w.push(wi.map(num).transpose()?.unwrap_or(1.0));
    }
    Ok((pts, w))
}

/// Run MCLP for each p and p-median for each p on the (sub)sampled rows;
/// print one JSON line per run.
pub fn bench_siting(
    demand: &Path,
    sites: &Path,
    radius_km: f64,
    ps: &[usize],
    pm_rows: Option<&Path>,
    repeat: usize,
) -> anyhow::Result<()> {
    let (dem, w) = read_xy(demand, Some("weight"))?;
    let (fac, _) = read_xy(sites, None)?;
    let (n, m) = (dem.len(), fac.len());
    let km =
        |a: [f64; 2], b: [f64; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt() / 1000.0;
    let opts = SolveOptions::default();
    let time = |f: &mut dyn FnMut()| {
        let mut ts = Vec::new();
        for _ in 0..repeat.max(1) {
            let t = Instant::now();
            f();
            ts.push(t.elapsed().as_secs_f64());
        }
        ts.sort_by(f64::total_cmp);
        ts[ts.len() / 2]
    };
    for &p in ps {
        // MCLP: coverage lists built inside the timed region, as spopt builds its model.
        let mut sol = None;
        let secs = time(&mut || {
            let covers: Vec<Vec<u32>> = dem
                .iter()
                .map(|&d| {
                    (0..m as u32)
                        .filter(|&j| km(d, fac[j as usize]) <= radius_km)
                        .collect()
                })
                .collect();
            let cov = Coverage::new(w.clone(), m, covers);
            sol = mclp(&cov, p, &[], &opts).ok();
        });
        let s = sol.ok_or_else(|| anyhow!("mclp p={p} failed"))?;
        println!(
            "{}",
            serde_json::json!({"model": "mclp", "n": n, "m": m, "p": p, "seconds": secs,
                "objective": s.objective, "bound": s.bound, "gap": s.gap,
                "covered_pct": 100.0 * s.objective / w.iter().sum::<f64>(), "sites": s.sites})
        );
    }
    let rows: Vec<usize> = match pm_rows {
        Some(p) => std::fs::read_to_string(p)
            .with_context(|| format!("reading {}", p.display()))?
            .split_whitespace()
            .map(|t| {
                t.parse::<usize>()
                    .with_context(|| format!("{}: {t:?}", p.display()))
            })
            .collect::<anyhow::Result<_>>()?,
        None => (0..n).collect(),
    };
    if let Some(&bad) = rows.iter().find(|&&r| r >= n) {
        return Err(anyhow!("row {bad} is beyond the {n} demand points"));
    }
    for &p in ps {
        let mut sol = None;
        let secs = time(&mut || {
            let costs: Vec<f64> = rows
                .iter()
                .flat_map(|&i| fac.iter().map(move |&f| (i, f)))
                .map(|(i, f)| km(dem[i], f))
                .collect();
            let wk: Vec<f64> = rows.iter().map(|&i| w[i]).collect();
            if let Ok(d) = DenseCosts::new(rows.len(), m, costs) {
                sol = p_median(&d, &wk, p, &[], &opts).ok();
            }
        });
        let s = sol.ok_or_else(|| anyhow!("p-median p={p} failed"))?;
        println!(
            "{}",
            serde_json::json!({"model": "pmedian", "n": rows.len(), "m": m, "p": p, "seconds": secs,
                "objective": s.objective, "bound": s.bound, "gap": s.gap, "sites": s.sites})
        );
    }
    Ok(())
}

/// Settings of `needmap site`.
pub struct SiteArgs<'a> {
    pub req: crate::io::study::SitingRequest,
    pub out: Option<&'a Path>,
    pub areas_out: Option<&'a Path>,
}

/// `needmap site`: location-allocation on a workspace.
pub fn site(
    atlas: &crate::io::workspace::Atlas,
    a: &SiteArgs<'_>,
    role: crate::privacy::Role,
) -> anyhow::Result<()> {
    use crate::io::study::{SitingModel, SitingWeight};
    use serde_json::json;
    let r = atlas.site(&a.req).map_err(|e| anyhow!(e))?;
    let policy = atlas.config.privacy.policy();
    let protect = a.req.weight == SitingWeight::Referrals;
    let shown = |v: f64| -> String {
        if protect {
            policy.count(v, role).to_string()
        } else {
            format!("{v:.0}")
        }
    };
    let sol = &r.solution;
    let what = match a.req.model {
        SitingModel::Mclp => format!(
            "demand within {} min: {} of {} ({:.1} %)",
            a.req.threshold_s / 60.0,
            shown(sol.objective),
            shown(r.total_weight),
            100.0 * sol.objective / r.total_weight.max(1e-9)
        ),
        SitingModel::Lscp => format!(
            "{} sites cover every area that can be covered",
            sol.objective
        ),
        SitingModel::PMedian => format!(
            "mean travel {:.1} min per unit of demand",
            sol.objective / r.total_weight.max(1e-9) / 60.0
        ),
        SitingModel::PCenter => format!("farthest area {:.1} min away", sol.objective / 60.0),
    };
    eprintln!(
        "{:?} with {} sites among {} ({}); {what}; optimality gap at most {:.3} %{}",
        a.req.model,
        r.sites.len(),
        a.req.candidates.join(", "),
        r.method,
        sol.gap * 100.0,
        if sol.gap <= 1e-9 {
            " (proven optimal)"
        } else {
            ""
        }
    );
    let headers: Vec<String> = [
        "premises_id",
        "name",
        "kind",
        "areas_served",
        "weight_served",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows = r
        .sites
        .iter()
        .map(|c| {
            let p = &atlas.premises[c.premises];
            vec![
                p.code.clone(),
                p.name.clone(),
                p.kind.clone(),
                c.areas_served.to_string(),
                shown(c.weight_served),
            ]
        })
        .collect();
    super::emit_table(headers, rows, None)?;
    let e = &r.equity;
    eprintln!("coverage by SIMD quintile (1 = most deprived): before -> after");
    for q in 0..5 {
        if e.demand[q] > 0.0 {
            eprintln!(
                "  Q{}: {:.1} % -> {:.1} %",
                q + 1,
                100.0 * e.covered_before[q] / e.demand[q],
                100.0 * e.covered_after[q] / e.demand[q]
            );
        }
    }
    if let Some(p) = a.out {
        let feats: Vec<serde_json::Value> = r
            .sites
            .iter()
            .map(|c| {
                let pr = &atlas.premises[c.premises];
                json!({"type": "Feature", "properties": {"premises_id": pr.code, "name": pr.name, "kind": pr.kind,
                    "areas_served": c.areas_served, "weight_served": if protect { json!(shown(c.weight_served)) } else { json!(c.weight_served) }},
                    "geometry": {"type": "Point", "coordinates": [crate::spatial::crs::trim6(pr.lon), crate::spatial::crs::trim6(pr.lat)]}})
            })
            .collect();
        let v = json!({"type": "FeatureCollection", "model": a.req.model, "gap": sol.gap, "features": feats});
        std::fs::write(p, v.to_string()).with_context(|| format!("writing {}", p.display()))?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = a.areas_out {
        let headers: Vec<String> = [
            "area_id",
            "site",
            "travel_time_min",
            "covered",
            "covered_before",
            "newly_covered",
            "weight",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let rows = atlas
            .areas
            .iter()
            .zip(&r.areas)
            .zip(&r.weights)
            .map(|((ar, (site, cost, within, before)), w)| {
                vec![
                    ar.code.clone(),
                    site.map(|j| atlas.premises[j].code.clone())
                        .unwrap_or_default(),
                    cost.map(|c| format!("{:.1}", c / 60.0)).unwrap_or_default(),
                    within.to_string(),
                    before.to_string(),
                    (*within && !before).to_string(),
                    shown(*w),
                ]
            })
            .collect();
        super::emit_table(headers, rows, Some(p))?;
    }
    Ok(())
}
