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
//!   every run in milliseconds, and the checksums.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use geo::MultiPolygon;
use needmap::analysis::boundaries::{overlay, Overlay, OverlayOptions};
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
    if std::env::var_os("OVERLAY_PROFILE").is_some() {
        let t = Instant::now();
        let p = needmap::analysis::boundaries::validate_layer(&dz_geo);
        eprintln!(
            "validate dz: {:.1} ms ({} problems)",
            t.elapsed().as_secs_f64() * 1e3,
            p.len()
        );
        let t = Instant::now();
        let p = needmap::analysis::boundaries::validate_layer(&w_geo);
        eprintln!(
            "validate wards: {:.1} ms ({} problems)",
            t.elapsed().as_secs_f64() * 1e3,
            p.len()
        );
    }
    let o = overlay(&iz_geo, &w_geo, &opts);
    write_pieces(&out.join("iz_x_wards.csv"), &o, &iz_codes, &w_codes)?;
    eprintln!("IZ x wards: {} pieces, {:?}", o.pieces.len(), o.stats);

    // Timed: DZ x wards overlay with population apportioned (as W4: pop × piece / zone area).
    let mut runs_ms = Vec::new();
    let mut last = None;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let o = overlay(&dz_geo, &w_geo, &opts);
        let (per_ward, outside) = o.apportion(&pop);
        runs_ms.push(t.elapsed().as_secs_f64() * 1e3);
        last = Some((o, per_ward, outside));
    }
    let Some((o, per_ward, outside)) = last else {
        bail!("no run")
    };
    write_pieces(&out.join("dz_x_wards.csv"), &o, &dz_codes, &w_codes)?;
    let mut sorted = runs_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let area_km2: f64 = o.pieces.iter().map(|p| p.area_m2).sum::<f64>() / 1e6;
    let timing = json!({
        "workload": "DZ x wards overlay + population apportioned",
        "threads": rayon::current_num_threads(),
        "runs_ms": runs_ms,
        "median_ms": median,
        "min_ms": sorted[0],
        "pieces": o.pieces.len(),
        "slivers": o.pieces.iter().filter(|p| p.sliver).count(),
        "area_km2": area_km2,
        "pop_apportioned": per_ward.iter().sum::<f64>(),
        "pop_outside": outside,
        "stats": format!("{:?}", o.stats),
        "failures": o.failures.len(),
        "problems": o.a_problems.len() + o.b_problems.len(),
    });
    std::fs::write(
        out.join("timing.json"),
        serde_json::to_string_pretty(&timing)?,
    )?;
    println!("{timing}");
    Ok(())
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
