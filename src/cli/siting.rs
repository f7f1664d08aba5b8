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
