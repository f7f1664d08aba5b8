//! The command line: `validate`, `need`, `equity`, `rollup`, `demo`, `serve`
//! and `bench-assign`. Thin: parse flags, load, call analyses, write.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use clap::{Args, Parser, Subcommand};

use crate::analysis::{equity_table, need_map, rollup_by_column, rollup_to_boundaries};
use crate::config::Config;
use crate::demo::{write_demo, DemoSpec};
use crate::io::workspace::{load_workspace, Atlas, LoadOptions};
use crate::io::writers;
use crate::privacy::{Policy, Role};

#[derive(Parser)]
#[command(
    name = "needmap",
    version,
    about = "Map need and plan services: deprivation, referrals, premises and boundaries"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Which workspace to load, with optional overrides of its paths.
#[derive(Args, Clone)]
struct WorkspaceArgs {
    /// The workspace file (needmap.toml).
    #[arg(long, short = 'c')]
    config: PathBuf,
    /// Use this referral extract instead of the one in the workspace file.
    #[arg(long)]
    referrals: Option<PathBuf>,
    /// Use this areas file instead of the one in the workspace file.
    #[arg(long)]
    areas: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Check a workspace: report every problem; exit 1 if there is any error.
    Validate {
        #[command(flatten)]
        ws: WorkspaceArgs,
        /// Treat warnings as errors.
        #[arg(long)]
        strict: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write the need map (GeoJSON, and CSV with --csv).
    Need {
        #[command(flatten)]
        ws: WorkspaceArgs,
        /// GeoJSON output (WGS84).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        /// CSV output, one row per area.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Exact counts (planner use only). By default counts are protected for publication.
        #[arg(long)]
        exact: bool,
    },
    /// Print the equity table: referrals, population and rates by SIMD quintile.
    Equity {
        #[command(flatten)]
        ws: WorkspaceArgs,
        /// Also write it as CSV.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Exact counts (planner use only).
        #[arg(long)]
        exact: bool,
    },
    /// Roll the need map up to a parent code column or a boundary set.
    Rollup {
        #[command(flatten)]
        ws: WorkspaceArgs,
        /// A parent column (for example ca_code) or a boundary set name (for example wards).
        #[arg(long)]
        to: String,
        /// Write CSV here instead of printing a table.
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Exact counts (planner use only).
        #[arg(long)]
        exact: bool,
    },
    /// Write a synthetic demo workspace.
    Demo {
        /// Output directory.
        #[arg(long, short = 'o')]
        out: PathBuf,
        /// Number of small areas.
        #[arg(long, default_value_t = 600)]
        areas: usize,
        /// Number of referrals.
        #[arg(long, default_value_t = 30_000)]
        referrals: usize,
        /// Random seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Serve the web map and the API (the embedded demo region when no workspace is given).
    Serve {
        /// The workspace file; without it the embedded demo region is served.
        #[arg(long, short = 'c')]
        config: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Directory of the built web map.
        #[arg(long, default_value = "web/dist")]
        web: PathBuf,
        /// Megabytes of vector tiles kept in memory (0 disables the tile cache).
        #[arg(long, default_value_t = 512)]
        tile_cache_mb: usize,
    },
    /// Benchmark: nearest site (CSV with x, y columns, metres) for points (raw f64 x,y pairs).
    BenchNearest {
        /// Sites CSV with columns x and y.
        #[arg(long)]
        sites: PathBuf,
        /// Points file of f64 pairs.
        #[arg(long)]
        points: PathBuf,
        /// Number of points to use.
        #[arg(long, default_value_t = 1_000_000)]
        n: usize,
        /// Timed repetitions.
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        /// Threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Benchmark: assign points (raw little-endian f64 x,y pairs, BNG) to zones and count per zone.
    BenchAssign {
        /// Zones GeoJSON.
        #[arg(long)]
        zones: PathBuf,
        /// Zone id property.
        #[arg(long)]
        id: String,
        /// Points file of f64 pairs.
        #[arg(long)]
        points: PathBuf,
        /// Number of points to use.
        #[arg(long, default_value_t = 1_000_000)]
        n: usize,
        /// Timed repetitions.
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        /// Threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
}

/// Entry point for the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn role(exact: bool) -> Role {
    if exact {
        Role::Planner
    } else {
        Role::Public
    }
}

fn load_config(ws: &WorkspaceArgs) -> anyhow::Result<Config> {
    let mut cfg = Config::load(&ws.config)?;
    let cwd = std::env::current_dir().unwrap_or_default();
    if let Some(r) = &ws.referrals {
        let rc = cfg
            .referrals
            .as_mut()
            .ok_or_else(|| anyhow!("--referrals given but the workspace has no [referrals] section to say how to read it"))?;
        rc.path = cwd.join(r);
    }
    if let Some(a) = &ws.areas {
        cfg.areas.path = cwd.join(a);
    }
    Ok(cfg)
}

fn load(ws: &WorkspaceArgs) -> anyhow::Result<Atlas> {
    let cfg = load_config(ws)?;
    match load_workspace(&cfg, &LoadOptions { progress: true }) {
        Ok(atlas) => {
            if !atlas.report.diagnostics.is_empty() {
                eprintln!("{}", atlas.report);
            }
            Ok(atlas)
        }
        Err(report) => {
            eprintln!("{report}");
            bail!(
                "{}: the workspace has errors (listed above)",
                ws.config.display()
            )
        }
    }
}

fn summary(atlas: &Atlas) -> String {
    let pop: f64 = atlas.areas.iter().filter_map(|a| a.population).sum();
    let placed = atlas
        .referrals
        .referrals
        .iter()
        .filter(|r| r.area.is_some())
        .count();
    format!(
        "{} areas (population {:.0}), {} referrals ({} in an area), {} premises, {} boundary sets",
        atlas.areas.len(),
        pop,
        atlas.referrals.referrals.len(),
        placed,
        atlas.premises.len(),
        atlas.boundary_sets.len()
    )
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate { ws, strict, json } => {
            let cfg = load_config(&ws)?;
            let result = load_workspace(&cfg, &LoadOptions { progress: !json });
            let (report, ok_summary) = match &result {
                Ok(a) => (a.report.clone(), Some(summary(a))),
                Err(r) => (r.clone(), None),
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for d in &report.diagnostics {
                    println!("{d}");
                }
                if let Some(s) = &ok_summary {
                    println!("loaded {s}");
                }
                println!(
                    "{} error(s), {} warning(s)",
                    report.error_count(),
                    report.warning_count()
                );
            }
            let failed = report.has_errors() || (strict && report.warning_count() > 0);
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Need {
            ws,
            out,
            csv,
            exact,
        } => {
            if out.is_none() && csv.is_none() {
                bail!("give --out FILE.geojson and/or --csv FILE.csv");
            }
            let atlas = load(&ws)?;
            let need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
            let policy = Policy::default();
            if let Some(p) = &out {
                writers::write_need_geojson(p, &atlas.areas, &need, role(exact), &policy)?;
                eprintln!("wrote {}", p.display());
            }
            if let Some(p) = &csv {
                writers::write_need_csv(p, &atlas.areas, &need, role(exact), &policy)?;
                eprintln!("wrote {}", p.display());
            }
            eprintln!("{}", summary(&atlas));
            if !exact {
                eprintln!("counts are protected for publication (<10 suppressed, others rounded to 5); --exact gives planners exact counts");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Equity {
            ws,
            csv,
            json,
            exact,
        } => {
            let atlas = load(&ws)?;
            let need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
            let table = equity_table(&atlas.areas, &need);
            let policy = Policy::default();
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&writers::equity_json(
                        &table,
                        role(exact),
                        &policy
                    ))?
                );
            } else {
                let (h, r) = writers::equity_rows(&table, role(exact), &policy);
                print!("{}", writers::text_table(&h, &r));
            }
            if let Some(p) = &csv {
                writers::write_equity_csv(p, &table, role(exact), &policy)?;
                eprintln!("wrote {}", p.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rollup {
            ws,
            to,
            out,
            json,
            exact,
        } => {
            let atlas = load(&ws)?;
            let need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
            let rollup = if let Some(set) = atlas.boundary_sets.iter().find(|b| b.name == to) {
                rollup_to_boundaries(&atlas.areas, &need, set)
            } else if atlas.parent_columns.contains(&to)
                || atlas.areas.iter().any(|a| a.texts.contains_key(&to))
            {
                rollup_by_column(&atlas.areas, &need, &to)
            } else {
                let sets: Vec<&str> = atlas
                    .boundary_sets
                    .iter()
                    .map(|b| b.name.as_str())
                    .collect();
                bail!(
                    "{to:?} is neither a parent column ({}) nor a boundary set ({})",
                    atlas.parent_columns.join(", "),
                    sets.join(", ")
                );
            };
            let policy = Policy::default();
            if !rollup.partly_outside.is_empty() {
                eprintln!(
                    "note: {} areas lie partly outside every unit of {to}; their shares were spread over the units they meet",
                    rollup.partly_outside.len()
                );
            }
            if !rollup.overlay_fallbacks.is_empty() {
                eprintln!(
                    "warning: the overlay failed for {} areas, placed by an interior point: {}",
                    rollup.overlay_fallbacks.len(),
                    rollup.overlay_fallbacks.join(", ")
                );
            }
            if let Some(p) = &out {
                writers::write_rollup_csv(p, &rollup, role(exact), &policy)?;
                eprintln!("wrote {}", p.display());
            } else if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&writers::rollup_json(
                        &rollup,
                        role(exact),
                        &policy
                    ))?
                );
            } else {
                let (h, r) = writers::rollup_rows(&rollup, role(exact), &policy);
                print!("{}", writers::text_table(&h, &r));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo {
            out,
            areas,
            referrals,
            seed,
        } => {
            let t = Instant::now();
            let s = write_demo(
                &out,
                &DemoSpec {
                    areas,
                    referrals,
                    seed,
                },
            )?;
            eprintln!(
                "wrote {} ({} areas, population {}, {} referrals, {} premises) in {:.1} s",
                s.config.display(),
                s.areas,
                s.population,
                s.referrals,
                s.premises,
                t.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve {
            config,
            addr,
            web,
            tile_cache_mb,
        } => {
            let opts = crate::server::ServeOptions {
                tile_cache_bytes: tile_cache_mb << 20,
            };
            crate::server::run_cli(config.as_deref(), &addr, &web, &opts)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchNearest {
            sites,
            points,
            n,
            repeat,
            threads,
        } => {
            bench_nearest(&sites, &points, n, repeat, threads)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchAssign {
            zones,
            id,
            points,
            n,
            repeat,
            threads,
        } => {
            bench_assign(&zones, &id, &points, n, repeat, threads)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_points(points: &Path, n: usize) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let bytes = std::fs::read(points).with_context(|| format!("reading {}", points.display()))?;
    if bytes.len() < n * 16 {
        bail!(
            "{} holds {} points, fewer than {n}",
            points.display(),
            bytes.len() / 16
        );
    }
    let mut xs = Vec::with_capacity(n);
    let mut ys = Vec::with_capacity(n);
    for c in bytes[..n * 16].chunks_exact(16) {
        xs.push(f64::from_le_bytes(c[..8].try_into()?));
        ys.push(f64::from_le_bytes(c[8..].try_into()?));
    }
    Ok((xs, ys))
}

fn bench_nearest(
    sites: &Path,
    points: &Path,
    n: usize,
    repeat: usize,
    threads: Option<usize>,
) -> anyhow::Result<()> {
    use crate::analysis::access::NearestSites;
    let mut rdr =
        csv::Reader::from_path(sites).with_context(|| format!("reading {}", sites.display()))?;
    let headers = rdr.headers()?.clone();
    let xi = headers
        .iter()
        .position(|h| h == "x")
        .ok_or_else(|| anyhow!("{}: no x column", sites.display()))?;
    let yi = headers
        .iter()
        .position(|h| h == "y")
        .ok_or_else(|| anyhow!("{}: no y column", sites.display()))?;
    let mut pts = Vec::new();
    for rec in rdr.records() {
        let rec = rec?;
        pts.push([rec[xi].parse::<f64>()?, rec[yi].parse::<f64>()?]);
    }
    let (xs, ys) = read_points(points, n)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()?;
    let mut times = Vec::new();
    let mut last = Vec::new();
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        last = pool.install(|| NearestSites::new(&pts).nearest_all(&xs, &ys));
        times.push(t.elapsed().as_secs_f64());
    }
    let sum_km: f64 = last.iter().flatten().map(|(_, d)| d).sum::<f64>() / 1000.0;
    let mut counts = vec![0u64; pts.len()];
    for (i, _) in last.iter().flatten() {
        counts[*i as usize] += 1;
    }
    let busiest = counts
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
        .map(|(i, _)| i)
        .unwrap_or(0);
    times.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({"workload": "W2", "peer": "needmap", "threads": pool.current_num_threads(), "size": n,
            "median_s": times[times.len() / 2], "min_s": times[0], "sum_km": (sum_km * 1000.0).round() / 1000.0, "busiest": busiest})
    );
    Ok(())
}

fn bench_assign(
    zones: &Path,
    id: &str,
    points: &Path,
    n: usize,
    repeat: usize,
    threads: Option<usize>,
) -> anyhow::Result<()> {
    use crate::io::report::Report;
    use crate::io::vector::{read_vector, RawGeometry};
    use crate::spatial::crs::{Crs, ToWorking};
    use crate::spatial::{AreaIndex, PreparedPolygon};
    use rayon::prelude::*;

    let t0 = Instant::now();
    let mut report = Report::new();
    let display = zones.display().to_string();
    let layer = read_vector(zones, &display, &mut report).ok_or_else(|| anyhow!("{report}"))?;
    let crs = layer.declared_crs.clone().unwrap_or(Crs::Wgs84);
    let tf = ToWorking::new(&crs)?;
    if !layer.columns().iter().any(|c| c == id) {
        bail!("{display}: no property {id:?}");
    }
    let geoms: Vec<geo::MultiPolygon<f64>> = layer
        .features
        .par_iter()
        .map(|f| {
            let mut r = Report::new();
            match &f.geometry {
                Some(RawGeometry::Polygons(p)) => {
                    crate::io::vector::polygons_to_working(p, &tf, &display, "", &mut r)
                        .map(|g| g.0)
                        .unwrap_or_else(|| geo::MultiPolygon(vec![]))
                }
                _ => geo::MultiPolygon(vec![]),
            }
        })
        .collect();
    let bytes = std::fs::read(points).with_context(|| format!("reading {}", points.display()))?;
    if bytes.len() < n * 16 {
        bail!(
            "{} holds {} points, fewer than {n}",
            points.display(),
            bytes.len() / 16
        );
    }
    let mut xs = Vec::with_capacity(n);
    let mut ys = Vec::with_capacity(n);
    for c in bytes[..n * 16].chunks_exact(16) {
        let x = f64::from_le_bytes(c[..8].try_into()?);
        let y = f64::from_le_bytes(c[8..].try_into()?);
        xs.push(x);
        ys.push(y);
    }
    let load_s = t0.elapsed().as_secs_f64();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()?;
    let mut times = Vec::new();
    let mut build_times = Vec::new();
    let mut last: Vec<u64> = Vec::new();
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let counts = pool.install(|| {
            let polys: Vec<PreparedPolygon> = geoms.par_iter().map(PreparedPolygon::new).collect();
            let index = AreaIndex::from_prepared(polys);
            build_times.push(t.elapsed().as_secs_f64());
            let located = index.locate_all(&xs, &ys);
            let mut counts = vec![0u64; geoms.len()];
            for a in located.into_iter().flatten() {
                counts[a.index()] += 1;
            }
            counts
        });
        times.push(t.elapsed().as_secs_f64());
        last = counts;
    }
    let matched: u64 = last.iter().sum();
    let top = last
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
        .map(|(i, _)| i)
        .unwrap_or(0);
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let out = serde_json::json!({
        "workload": "W1", "peer": "needmap", "threads": pool.current_num_threads(), "size": n,
        "median_s": median, "min_s": sorted[0], "load_s": load_s,
        "build_s": build_times.iter().copied().fold(f64::INFINITY, f64::min), "matched": matched, "top": top,
    });
    println!("{out}");
    Ok(())
}
