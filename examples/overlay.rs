//! Overlay the real data zones and intermediate zones on the multi-member
//! wards, for the geopandas cross-check and the side-by-side timing
//! (`scripts/crosscheck_overlay.py` runs it).
//!
//!     cargo run --release --example overlay -- <geodata dir> <out dir> [repeats]
//!
//! Writes to `<out dir>`:
//! - `dz_bng.geojson`, `iz_bng.geojson`, `wards_bng.geojson`: the polygons
//!   exactly as needmap projected them (British National Grid, full f64
//!   precision, property `code`), so that the peer overlays the same coordinates;
//! - `dz_x_wards.csv`, `iz_x_wards.csv`: `a,b,area_m2,sliver,method` per piece;
//! - `timing.json`: the DZ × wards overlay with population apportioned,
//!   every run in milliseconds on rayon's default pool and on one thread,
//!   the median time of each phase, and the checksums.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use geo::MultiPolygon;
use needmap::analysis::boundaries::{overlay, overlay_timed, Overlay, OverlayOptions};
use needmap::config::Config;
use needmap::io::workspace::{load_workspace, LoadOptions};
use serde_json::json;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        bail!("usage: overlay <geodata dir> <out dir> [repeats]");
    }
    let geo =
        std::fs::canonicalize(&args[0]).with_context(|| format!("geodata dir {}", args[0]))?;
    let out = PathBuf::from(&args[1]);
    let repeats: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(5);
    std::fs::create_dir_all(&out)?;
    let q = |p: &Path| format!("{:?}", p.display().to_string());
    let toml = format!(
        r#"region = "Scotland (overlay check)"
[areas]
path = {dz}
id = "dz11_code"
population = "Total_population"
[[indicators]]
path = {simd}
key = "Data_Zone"
[[boundaries]]
name = "iz"
path = {iz}
id = "iz11_code"
[[boundaries]]
name = "wards"
path = {wards}
id = "ward22_code"
"#,
        dz = q(&geo.join("dz2011_scotland.geojson")),
        simd = q(&geo.join("simd2020v2_withinds.csv")),
        iz = q(&geo.join("iz2011_scotland.geojson")),
        wards = q(&geo.join("mm_wards_2022.geojson")),
    );
    let cfg_path = out.join("needmap.toml");
    std::fs::write(&cfg_path, toml)?;
    let cfg = Config::load(&cfg_path).context("config")?;
    let atlas = match load_workspace(&cfg, &LoadOptions::default()) {
        Ok(a) => a,
        Err(r) => bail!("workspace does not load:\n{r}"),
    };
    let set = |name: &str| {
        atlas
            .boundary_sets
            .iter()
            .find(|s| s.name == name)
            .with_context(|| format!("boundary set {name}"))
    };
    let (iz, wards) = (set("iz")?, set("wards")?);
    let dz_codes: Vec<&str> = atlas.areas.iter().map(|a| a.code.as_str()).collect();
    let dz_geo: Vec<&MultiPolygon<f64>> = atlas.areas.iter().map(|a| &a.geometry).collect();
    let iz_codes: Vec<&str> = iz.units.iter().map(|u| u.code.as_str()).collect();
    let iz_geo: Vec<&MultiPolygon<f64>> = iz.units.iter().map(|u| &u.geometry).collect();
    let w_codes: Vec<&str> = wards.units.iter().map(|u| u.code.as_str()).collect();
    let w_geo: Vec<&MultiPolygon<f64>> = wards.units.iter().map(|u| &u.geometry).collect();
    let pop: Vec<f64> = atlas
        .areas
        .iter()
        .map(|a| a.population.unwrap_or(0.0))
        .collect();

    write_layer(&out.join("dz_bng.geojson"), &dz_codes, &dz_geo)?;
    write_layer(&out.join("iz_bng.geojson"), &iz_codes, &iz_geo)?;
    write_layer(&out.join("wards_bng.geojson"), &w_codes, &w_geo)?;

    let opts = OverlayOptions::default();
    let o = overlay(&iz_geo, &w_geo, &opts);
    write_pieces(&out.join("iz_x_wards.csv"), &o, &iz_codes, &w_codes)?;
    eprintln!("IZ x wards: {} pieces, {:?}", o.pieces.len(), o.stats);

    // Timed: DZ x wards overlay with population apportioned (as W4: pop × piece
    // / zone area), on rayon's default pool and on a pool of one thread.
    let run = || -> Result<Timed> {
        let mut t = Timed::default();
        for _ in 0..repeats.max(1) {
            let start = Instant::now();
            let (o, phases) = overlay_timed(&dz_geo, &w_geo, &opts);
            let mid = Instant::now();
            let (per_ward, outside) = o.apportion(&pop);
            let end = Instant::now();
            t.runs_ms.push((end - start).as_secs_f64() * 1e3);
            t.phases.push([
                phases.prepare_ms,
                phases.pairs_ms,
                phases.collect_ms,
                (end - mid).as_secs_f64() * 1e3,
            ]);
            t.last = Some((o, per_ward, outside));
        }
        Ok(t)
    };
    let all = run()?;
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()?
        .install(run)?;
    let Some((o, per_ward, outside)) = all.last.as_ref() else {
        bail!("no run")
    };
    write_pieces(&out.join("dz_x_wards.csv"), o, &dz_codes, &w_codes)?;
    let area_km2: f64 = o.pieces.iter().map(|p| p.area_m2).sum::<f64>() / 1e6;
    let timing = json!({
        "workload": "DZ x wards overlay + population apportioned",
        "threads": rayon::current_num_threads(),
        "runs_ms": all.runs_ms,
        "median_ms": all.median_ms(),
        "min_ms": all.min_ms(),
        "phases_median_ms": all.phases_json(),
        "one_thread": {
            "runs_ms": one.runs_ms,
            "median_ms": one.median_ms(),
            "min_ms": one.min_ms(),
            "phases_median_ms": one.phases_json(),
        },
        "pieces": o.pieces.len(),
        "slivers": o.pieces.iter().filter(|p| p.sliver).count(),
        "area_km2": area_km2,
        "pop_apportioned": per_ward.iter().sum::<f64>(),
        "pop_outside": outside,
        "stats": format!("{:?}", o.stats),
        "failures": o.failures.len(),
        "problems": o.a_problems.len() + o.b_problems.len(),
    });
    for (name, t) in [("default pool", &all), ("one thread", &one)] {
        eprintln!(
            "DZ x wards, {name}: median {:.1} ms (min {:.1}); phases {}",
            t.median_ms(),
            t.min_ms(),
            t.phases_json()
        );
    }
    std::fs::write(
        out.join("timing.json"),
        serde_json::to_string_pretty(&timing)?,
    )?;
    println!("{timing}");
    Ok(())
}

/// Runs of the timed workload: totals, phases and the last result.
#[derive(Default)]
struct Timed {
    runs_ms: Vec<f64>,
    /// Per run: prepare, pairs, collect, apportion.
    phases: Vec<[f64; 4]>,
    last: Option<(Overlay, Vec<f64>, f64)>,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
}

impl Timed {
    fn median_ms(&self) -> f64 {
        median(&self.runs_ms)
    }

    fn min_ms(&self) -> f64 {
        self.runs_ms.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// Median of each phase over the runs (validate + prepare, pairs, collect, apportion).
    fn phases_json(&self) -> serde_json::Value {
        let m = |k: usize| median(&self.phases.iter().map(|p| p[k]).collect::<Vec<_>>());
        json!({"validate_prepare": m(0), "pairs": m(1), "collect": m(2), "apportion": m(3)})
    }
}

fn write_layer(path: &Path, codes: &[&str], geoms: &[&MultiPolygon<f64>]) -> Result<()> {
    let features: Vec<serde_json::Value> = codes
        .iter()
        .zip(geoms)
        .map(|(c, g)| {
            let coords: Vec<Vec<Vec<[f64; 2]>>> =
                g.0.iter()
                    .map(|p| {
                        std::iter::once(p.exterior())
                            .chain(p.interiors())
                            .map(|r| r.0.iter().map(|c| [c.x, c.y]).collect())
                            .collect()
                    })
                    .collect();
            json!({"type": "Feature", "properties": {"code": c},
                   "geometry": {"type": "MultiPolygon", "coordinates": coords}})
        })
        .collect();
    let fc = json!({"type": "FeatureCollection", "features": features});
    std::fs::write(path, serde_json::to_string(&fc)?)?;
    Ok(())
}

fn write_pieces(path: &Path, o: &Overlay, a: &[&str], b: &[&str]) -> Result<()> {
    let mut s = String::from("a,b,area_m2,sliver,method\n");
    for p in &o.pieces {
        writeln!(
            s,
            "{},{},{:?},{},{:?}",
            a[p.a as usize], b[p.b as usize], p.area_m2, p.sliver, p.method
        )?;
    }
    std::fs::write(path, s)?;
    Ok(())
}
