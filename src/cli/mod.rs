//! The command line: `validate`, `need`, `equity`, `rollup`, `demo`, `serve`
//! and `bench-assign`. Thin: parse flags, load, call analyses, write.

mod boundaries;
mod export;
mod hours;
mod scenario;
mod siting;
mod trends;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use clap::{Args, Parser, Subcommand};

use crate::analysis::need::NeedMap;
use crate::analysis::{equity_table, need_map, rollup_by_column, rollup_to_boundaries};
use crate::config::Config;
use crate::demo::{write_demo, DemoSpec};
use crate::io::publish::{public_release, PublicRelease};
use crate::io::workspace::{load_workspace, Atlas, LoadOptions};
use crate::io::writers;
use crate::privacy::Disclosure;
use crate::privacy::Role;

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
/// What `needmap scenario` does.
#[derive(Subcommand)]
enum ScenarioAction {
    /// List saved scenarios.
    List {
        #[command(flatten)]
        ws: WorkspaceArgs,
    },
    /// Save a scenario from a JSON file of edits (checked first; written atomically).
    Save {
        #[command(flatten)]
        ws: WorkspaceArgs,
        #[arg(long)]
        name: String,
        /// JSON: an array of edits, or {"description": ..., "edits": [...]}.
        #[arg(long)]
        edits: PathBuf,
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete a saved scenario.
    Delete {
        #[command(flatten)]
        ws: WorkspaceArgs,
        #[arg(long)]
        name: String,
    },
    /// Compare two scenarios (or one with `baseline`) for one kind of premises.
    Compare {
        #[command(flatten)]
        ws: WorkspaceArgs,
        #[arg(long, default_value = "baseline")]
        a: String,
        #[arg(long)]
        b: String,
        #[arg(long)]
        kind: String,
        #[arg(long, default_value_t = 15.0)]
        threshold_min: f64,
        /// CSV output (default: print the table).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        /// Exact hours-gap shares (planner use only).
        #[arg(long)]
        exact: bool,
    },
}

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
    /// Upload a referral extract (CSV), a premises layer or a boundary set
    /// (GeoJSON) to the workspace store, validated in full first; running
    /// servers sharing the store pick it up within `[store] refresh_s`.
    Upload {
        #[command(flatten)]
        ws: WorkspaceArgs,
        /// The file: a CSV extract with the columns the workspace's [referrals]
        /// names, or GeoJSON for --premises / --boundaries.
        file: PathBuf,
        /// Replace this premises layer (its file name without extension) instead of the referrals.
        #[arg(long, conflicts_with = "boundaries")]
        premises: Option<String>,
        /// Replace this boundary set (its name in [[boundaries]]) instead of the referrals.
        #[arg(long)]
        boundaries: Option<String>,
        /// A key that makes a retried upload store nothing twice (default: the file's SHA-256).
        #[arg(long)]
        key: Option<String>,
    },
    /// Export results. `--gpkg FILE`: the need map, premises, boundary sets and
    /// the equity table as layers of a GeoPackage (British National Grid).
    /// `--result PATH` or `--layer NAME` with `--out FILE`: any API result as CSV,
    /// GeoJSON or GeoPackage, run in-process exactly as the server would answer it
    /// (public unless `--exact`).
    Export {
        #[command(flatten)]
        ws: WorkspaceArgs,
        /// The GeoPackage to write the workspace's layers to (layers of the same name are replaced).
        #[arg(long, conflicts_with_all = ["result", "layer"])]
        gpkg: Option<PathBuf>,
        /// An API result to export, e.g. '/api/hours/gap?kind=gp' (add table=NAME for another of its tables).
        #[arg(long, conflicts_with = "layer")]
        result: Option<String>,
        /// A layer to export: areas, premises, equity or a boundary set's name.
        #[arg(long)]
        layer: Option<String>,
        /// csv, geojson or gpkg (default: from the --out extension).
        #[arg(long)]
        format: Option<String>,
        /// The file to write (with --result or --layer).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        /// Exact counts (planner use only): run as a planner.
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
        /// Requests handled at once; more get an immediate 503 (load shedding).
        #[arg(long, default_value_t = 1024)]
        max_in_flight: usize,
        /// Requests a second per client address, sustained (0: no limit); over it, 429.
        #[arg(long, default_value_t = 100.0)]
        client_rate: f64,
        /// Requests one client may send at once before the rate applies.
        #[arg(long, default_value_t = 400.0)]
        client_burst: f64,
        /// Address of a reverse proxy whose X-Forwarded-For names the client
        /// (forwarding headers from anyone else are ignored).
        #[arg(long)]
        trusted_proxy: Option<std::net::IpAddr>,
    },
    /// Access to premises of one kind: population within distance bands by SIMD
    /// quintile, and per area the nearest premises, provider choice and 2SFCA/E2SFCA.
    Access {
        #[command(flatten)]
        ws: WorkspaceArgs,
        /// Premises kind (for example school, health_centre).
        #[arg(long)]
        kind: String,
        /// Straight-line distance bands in metres.
        #[arg(long, value_delimiter = ',', default_value = "1000,2000")]
        bands_m: Vec<f64>,
        /// Travel-time threshold in minutes for provider choice and the catchments of 2SFCA.
        #[arg(long, default_value_t = 15.0)]
        threshold_min: f64,
        /// Fewer providers than this within the threshold makes a choice desert.
        #[arg(long, default_value_t = 2)]
        desert_below: usize,
        /// Circuity factor for straight-line travel when no road network is configured
        /// (default: `[network] circuity`, 1.3).
        #[arg(long)]
        circuity: Option<f64>,
        /// Speed for straight-line travel, km/h (default: `[network] fallback_speed_kmh`, 30).
        #[arg(long)]
        speed_kmh: Option<f64>,
        /// Demand in 2SFCA/E2SFCA: population, or need (population × need score / 100).
        #[arg(long, default_value = "population")]
        demand: String,
        /// Decay of the enhanced score: e2sfca | step:600=1,1200=0.68,... | linear:S | exponential:S | gaussian:S
        #[arg(long, default_value = "e2sfca")]
        decay: String,
        /// Per-area CSV output.
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
    },
    /// Per premises of a kind: residents, need-weighted residents and referrals within
    /// travel-time bands, and the SIMD profile of its nearest-premises catchment.
    Reach {
        #[command(flatten)]
        ws: WorkspaceArgs,
        /// Premises kind.
        #[arg(long)]
        kind: String,
        /// Cumulative travel-time bands in minutes.
        #[arg(long, value_delimiter = ',', default_value = "10,20,30")]
        bands_min: Vec<f64>,
        /// CSV output (default: print a table).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        /// Exact referral counts (planner use only).
        #[arg(long)]
        exact: bool,
    },
    /// Areas beyond a travel-time threshold of every premises of a kind, ranked by need.
    Gaps {
        #[command(flatten)]
        ws: WorkspaceArgs,
        /// Premises kind.
        #[arg(long)]
        kind: String,
        /// Threshold in minutes.
        #[arg(long, default_value_t = 15.0)]
        threshold_min: f64,
        /// CSV output (default: print a table).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        /// Exact referral counts (planner use only).
        #[arg(long)]
        exact: bool,
    },
    /// The hours gap: per area, the share of its referrals that arrived when no
    /// premises of a kind within reach was open; per premises, the share of its
    /// catchment's referrals that arrived while it was closed.
    HoursGap {
        #[command(flatten)]
        ws: WorkspaceArgs,
        /// Premises kind.
        #[arg(long)]
        kind: String,
        /// Travel-time reach in minutes.
        #[arg(long, default_value_t = 15.0)]
        threshold_min: f64,
        /// Per-area CSV output (default: print the worst areas).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        /// Per-premises CSV output.
        #[arg(long)]
        premises_out: Option<PathBuf>,
        /// Per-area GeoJSON output (WGS84 polygons with the same columns).
        #[arg(long)]
        geojson: Option<PathBuf>,
        /// Only referrals of this client group.
        #[arg(long)]
        group: Option<String>,
        /// Exact counts (planner use only).
        #[arg(long)]
        exact: bool,
    },
    /// Hours-aware accessibility: E2SFCA (or the decay given) for each of the
    /// 168 hours of a typical week, counting only premises open in that hour;
    /// with the hours in which nothing is open within reach.
    HoursAccess {
        #[command(flatten)]
        ws: WorkspaceArgs,
        /// Premises kind.
        #[arg(long)]
        kind: String,
        /// Travel-time reach in minutes (for "open within reach").
        #[arg(long, default_value_t = 15.0)]
        threshold_min: f64,
        /// none | e2sfca | step:600=1,1200=0.68,... | linear:SECONDS | exponential:SECONDS | gaussian:SECONDS
        #[arg(long, default_value = "e2sfca")]
        decay: String,
        /// CSV output: one row per area, a summary then one column per hour of the week.
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        /// GeoJSON output: areas with the weekly summary.
        #[arg(long)]
        geojson: Option<PathBuf>,
    },
    /// Recommended extensions of opening hours: the extra hours, at which
    /// premises, that would meet the most referrals now arriving when nothing
    /// in reach is open, per extra hour opened; ranked across the region.
    HoursExtend {
        #[command(flatten)]
        ws: WorkspaceArgs,
        /// Premises kind.
        #[arg(long)]
        kind: String,
        /// Travel-time reach in minutes.
        #[arg(long, default_value_t = 15.0)]
        threshold_min: f64,
        /// Only referrals of this client group.
        #[arg(long)]
        group: Option<String>,
        /// Length of the ranked list.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// CSV output of the ranked list (default: print it).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        /// CSV of each premises' best three extensions on their own.
        #[arg(long)]
        premises_out: Option<PathBuf>,
        /// Exact counts (planner use only).
        #[arg(long)]
        exact: bool,
    },
    /// Trends per area: referrals per complete period, a Mann-Kendall or
    /// Poisson trend test per area, Benjamini-Hochberg FDR across areas, and
    /// the fastest-rising areas ranked.
    Trends(trends::TrendsArgs),
    /// Hot spots: Getis-Ord Gi* and local Moran's I of the referral rate (or
    /// a count or indicator) over rook, queen or distance-band weights; with
    /// --emerging, emerging (space-time) hot spots of the per-period rates.
    Hotspots(trends::HotspotsArgs),
    /// Projected referrals per area for the next periods (Poisson trend,
    /// damped or level; optional population projection) with prediction
    /// intervals; --backtest K checks the model on the last K periods.
    Project(trends::ProjectArgs),
    /// Early warning: areas crossing rate, growth and hot spot thresholds,
    /// with their projected demand (and the demand vector for other analyses).
    EarlyWarning(trends::EarlyWarningArgs),
    /// Floating-catchment accessibility (2SFCA / E2SFCA) from CSV tables of
    /// demand (`id,value`), supply (`id,value`) and costs (`origin,dest,cost_s`).
    Fca {
        /// Demand table: id,value.
        #[arg(long)]
        demand: PathBuf,
        /// Supply table: id,value (capacity).
        #[arg(long)]
        supply: PathBuf,
        /// Costs: origin (demand id), dest (supply id), cost_s.
        #[arg(long)]
        costs: PathBuf,
        /// Pairs with cost >= this many seconds are not counted.
        #[arg(long)]
        max_cost_s: Option<f64>,
        /// none | e2sfca | step:600=1,1200=0.68,... | linear:SECONDS | exponential:SECONDS | gaussian:SECONDS
        #[arg(long, default_value = "none")]
        decay: String,
    },
    /// Benchmark: one-to-all travel times from N sources over a road network
    /// (GeoJSON lines with `road_function`); writes the graph as CSV for peers.
    BenchNetwork {
        /// Road lines (GeoJSON or Shapefile).
        #[arg(long)]
        roads: PathBuf,
        /// Number of sources (seeded, spread over the nodes).
        #[arg(long, default_value_t = 500)]
        sources: usize,
        /// Timed repetitions.
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        /// Threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Write the graph (`from,to,time_s`) and the source nodes here for peer tools.
        #[arg(long)]
        export: Option<PathBuf>,
    },
    /// Benchmark: nearest site (CSV with x, y columns, metres) for points (raw f64 x,y pairs).
    /// Location-allocation: choose sites among premises of the candidate kinds
    /// (mclp: most demand within the threshold; p_median: least weighted travel
    /// time; p_center: shortest longest trip; lscp: fewest sites covering all),
    /// with the optimality gap from a Lagrangian bound.
    Site {
        #[command(flatten)]
        ws: WorkspaceArgs,
        /// mclp | p_median | p_center | lscp
        #[arg(long, default_value = "mclp")]
        model: String,
        /// Candidate premises kinds, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        candidates: Vec<String>,
        /// Sites to open (not used by lscp).
        #[arg(long, default_value_t = 5)]
        p: usize,
        #[arg(long, default_value_t = 15.0)]
        threshold_min: f64,
        /// population | need | deprivation | referrals
        #[arg(long, default_value = "population")]
        weight: String,
        /// Premises ids that must stay open, comma-separated.
        #[arg(long, value_delimiter = ',')]
        keep: Vec<String>,
        /// A premises kind already providing the service (for "newly covered").
        #[arg(long)]
        baseline: Option<String>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// GeoJSON of the chosen sites.
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        /// CSV per area: serving site, travel time, covered, newly covered, weight.
        #[arg(long)]
        areas_out: Option<PathBuf>,
        /// MCLP with each site serving at most its premises' capacity (in the
        /// weight's units; unknown capacity = unlimited).
        #[arg(long)]
        capacitated: bool,
        /// Exact referral weights (planner use only).
        #[arg(long)]
        exact: bool,
    },
    /// Scenarios: the premises plus edits (add, close, move, hours, capacity),
    /// saved in the workspace's `scenarios/` folder, and compared side by side.
    Scenario {
        #[command(subcommand)]
        action: ScenarioAction,
    },
    /// Co-terminosity of two layers (boundary sets, or `areas`): intersection
    /// matrix by surface and population, per-unit index, splits, fragmentation,
    /// and a best-fit lookup of every small area.
    Coterminosity {
        #[command(flatten)]
        ws: WorkspaceArgs,
        #[arg(long)]
        a: String,
        #[arg(long)]
        b: String,
        /// Pieces holding less than this share of a unit's population are not splits.
        #[arg(long, default_value_t = 0.01)]
        split_share: f64,
        /// CSV of every unit of both layers (default: print the least co-terminous of A).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        #[arg(long)]
        splits: Option<PathBuf>,
        #[arg(long)]
        matrix: Option<PathBuf>,
        /// CSV: each small area's best-fit unit in A and in B.
        #[arg(long)]
        lookup: Option<PathBuf>,
    },
    /// Boundary designer: units of whole small areas nesting in a parent code,
    /// contiguous, balanced within a tolerance, as co-terminous as possible with
    /// a target layer; GeoJSON of the dissolved units and a lookup CSV.
    Design {
        #[command(flatten)]
        ws: WorkspaceArgs,
        /// Parent code column the units nest in (e.g. ca_code).
        #[arg(long)]
        parent: String,
        /// Layer to align with (a boundary set).
        #[arg(long)]
        target: String,
        /// The set the proposal would replace (for co-terminosity before).
        #[arg(long)]
        current: Option<String>,
        /// Allowed deviation from the parent's mean unit weight (0.1 = ±10 %).
        #[arg(long, default_value_t = 0.1)]
        tolerance: f64,
        /// Balance on population (default) or referrals (caseload).
        #[arg(long, default_value = "population")]
        balance: String,
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        #[arg(long)]
        lookup: Option<PathBuf>,
        /// Exact caseloads (planner use only).
        #[arg(long)]
        exact: bool,
    },
    /// Print the Argon2 hash of a bearer token read from standard input, for
    /// `[[auth.users]] token_hash` in the workspace file.
    TokenHash,
    /// Verify the hash chain of an audit log (a JSON-lines file), or with
    /// --config of the workspace store's audit trail (every upload, edit and
    /// scenario change); exits non-zero naming the first bad record.
    AuditVerify {
        /// The audit log (JSON lines).
        #[arg(required_unless_present = "config")]
        log: Option<PathBuf>,
        /// The workspace file whose store's trail to verify (and list with --list).
        #[arg(long, short = 'c', conflicts_with = "log")]
        config: Option<PathBuf>,
        /// Print the store trail's records, one JSON line each.
        #[arg(long, requires = "config")]
        list: bool,
    },
    /// Benchmark: MCLP and p-median on a demand CSV (x, y, weight) and a
    /// sites CSV (x, y) with Euclidean kilometres; one JSON line per run.
    BenchSiting {
        #[arg(long)]
        demand: PathBuf,
        #[arg(long)]
        sites: PathBuf,
        #[arg(long, default_value_t = 5.0)]
        radius_km: f64,
        /// Values of p, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "10,25,50")]
        p: Vec<usize>,
        /// File of demand row numbers (0-based) for p-median (default: all rows).
        #[arg(long)]
        pm_rows: Option<PathBuf>,
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
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
    /// Benchmark: write a zones layer (GeoJSON in British National Grid) to a
    /// GeoPackage `repeat` times, as `export` writes layers; one JSON line.
    BenchExport {
        /// Zones GeoJSON.
        #[arg(long)]
        zones: PathBuf,
        /// The GeoPackage to write (replaced each time).
        #[arg(long)]
        out: PathBuf,
        /// Timed repetitions.
        #[arg(long, default_value_t = 5)]
        repeat: usize,
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

/// The need map and disclosure to write with: exact, or the public release's.
fn disclose<'a>(
    exact: &'a NeedMap,
    public: Option<&'a PublicRelease>,
) -> (&'a NeedMap, Disclosure<'a>) {
    match public {
        Some(p) => (&p.need, Disclosure::Public(&p.counts)),
        None => (exact, Disclosure::Exact),
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
    match load_workspace(
        &cfg,
        &LoadOptions {
            progress: true,
            ..LoadOptions::default()
        },
    ) {
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
            let result = load_workspace(
                &cfg,
                &LoadOptions {
                    progress: !json,
                    ..LoadOptions::default()
                },
            );
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
        Command::Upload {
            ws,
            file,
            premises,
            boundaries,
            key,
        } => {
            use crate::io::store::Target;
            let target = match (premises, boundaries) {
                (Some(p), _) => Target::Premises(p),
                (None, Some(b)) => Target::Boundaries(b),
                (None, None) => Target::Referrals,
            };
            let cfg = load_config(&ws)?;
            let body =
                std::fs::read(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let key =
                key.unwrap_or_else(|| format!("sha256:{}", crate::io::store::sha256_hex(&body)));
            let user = scenario::cli_user();
            match crate::io::store::upload(&cfg, &target, Some(&key), &body, &user) {
                Ok(crate::io::store::Uploaded::Stored(u, _)) => {
                    let what = match &target {
                        Target::Referrals => "referrals",
                        Target::Premises(_) => "premises",
                        Target::Boundaries(_) => "units",
                    };
                    let place = match &cfg.store.url {
                        Some(_) => "the store database".to_string(),
                        None => cfg.store_path().display().to_string(),
                    };
                    eprintln!(
                        "stored upload #{} ({}: {} {what}, sha256 {}) in {place}",
                        u.id, u.kind, u.rows, u.sha256
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Ok(crate::io::store::Uploaded::Replayed(u)) => {
                    eprintln!(
                        "already stored as upload #{} (key {key:?}); nothing done",
                        u.id
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(crate::io::store::UploadError::Invalid(p)) => {
                    for line in p {
                        eprintln!("{}: {line}", file.display());
                    }
                    bail!("{} was not stored", file.display())
                }
                Err(
                    crate::io::store::UploadError::KeyReused(m)
                    | crate::io::store::UploadError::Store(m),
                ) => bail!(m),
            }
        }
        Command::Export {
            ws,
            gpkg,
            result,
            layer,
            format,
            out,
            exact,
        } => {
            let Some(gpkg) = gpkg else {
                let plan = export::Plan::new(
                    result.as_deref(),
                    layer.as_deref(),
                    format.as_deref(),
                    out,
                    exact,
                )?;
                return plan.run(load(&ws)?);
            };
            let atlas = load(&ws)?;
            let exact_need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
            let public = (!exact).then(|| public_release(&atlas, &exact_need));
            let (need, d) = disclose(&exact_need, public.as_ref());
            let written = crate::io::gpkg::export_workspace(&gpkg, &atlas, need, d)?;
            for (name, n) in written {
                eprintln!("{}: {name} ({n} rows)", gpkg.display());
            }
            if !exact {
                eprintln!(
                    "counts are protected for publication; --exact gives planners exact counts"
                );
            }
            Ok(ExitCode::SUCCESS)
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
            let exact_need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
            let public = (!exact).then(|| public_release(&atlas, &exact_need));
            let (need, d) = disclose(&exact_need, public.as_ref());
            if let Some(p) = &out {
                writers::write_need_geojson(p, &atlas.areas, need, d)?;
                eprintln!("wrote {}", p.display());
            }
            if let Some(p) = &csv {
                writers::write_need_csv(p, &atlas.areas, need, d)?;
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
            let exact_need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
            let public = (!exact).then(|| public_release(&atlas, &exact_need));
            let (need, d) = disclose(&exact_need, public.as_ref());
            let table = equity_table(&atlas.areas, need);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&writers::equity_json(&table, d))?
                );
            } else {
                let (h, r) = writers::equity_rows(&table, d);
                print!("{}", writers::text_table(&h, &r));
            }
            if let Some(p) = &csv {
                writers::write_equity_csv(p, &table, d)?;
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
            let exact_need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
            let public = (!exact).then(|| public_release(&atlas, &exact_need));
            let (need, d) = disclose(&exact_need, public.as_ref());
            if let Some(p) = &public {
                if !p.counts.has_level(&to) && atlas.parent_columns.iter().all(|c| c != &to) {
                    bail!("{to:?} is not a published level (the parent columns {} and the boundary sets); --exact gives planners other columns", atlas.parent_columns.join(", "));
                }
            }
            let rollup = if let Some(set) = atlas.boundary_sets.iter().find(|b| b.name == to) {
                rollup_to_boundaries(&atlas.areas, need, set)
            } else if atlas.parent_columns.contains(&to)
                || atlas.areas.iter().any(|a| a.texts.contains_key(&to))
            {
                rollup_by_column(&atlas.areas, need, &to)
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
                writers::write_rollup_csv(p, &rollup, d)?;
                eprintln!("wrote {}", p.display());
            } else if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&writers::rollup_json(&rollup, d))?
                );
            } else {
                let (h, r) = writers::rollup_rows(&rollup, d);
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
            max_in_flight,
            client_rate,
            client_burst,
            trusted_proxy,
        } => {
            if !(client_rate.is_finite() && client_rate >= 0.0 && client_burst >= 1.0) {
                bail!("--client-rate must be 0 or more and --client-burst at least 1");
            }
            let opts = crate::server::ServeOptions {
                tile_cache_bytes: tile_cache_mb << 20,
                max_in_flight,
                client_rate_per_s: client_rate,
                client_burst,
                trusted_proxy,
            };
            crate::server::run_cli(config.as_deref(), &addr, &web, &opts)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Access {
            ws,
            kind,
            bands_m,
            threshold_min,
            desert_below,
            circuity,
            speed_kmh,
            demand,
            decay,
            out,
        } => {
            let decay = parse_decay(&decay)?;
            let demand = match demand.as_str() {
                "population" => crate::analysis::access::DemandMeasure::Population,
                "need" => crate::analysis::access::DemandMeasure::Need,
                other => bail!("--demand {other:?}: use population or need"),
            };
            let atlas = load(&ws)?;
            access_command(
                &atlas,
                &kind,
                &bands_m,
                (threshold_min, desert_below),
                (circuity, speed_kmh),
                (demand, decay),
                out.as_deref(),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Reach {
            ws,
            kind,
            bands_min,
            out,
            exact,
        } => {
            let atlas = load(&ws)?;
            reach_command(&atlas, &kind, &bands_min, out.as_deref(), role(exact))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Gaps {
            ws,
            kind,
            threshold_min,
            out,
            exact,
        } => {
            let atlas = load(&ws)?;
            gaps_command(&atlas, &kind, threshold_min, out.as_deref(), role(exact))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::HoursGap {
            ws,
            kind,
            threshold_min,
            out,
            premises_out,
            geojson,
            group,
            exact,
        } => {
            let atlas = load(&ws)?;
            hours::hours_gap(
                &atlas,
                &kind,
                threshold_min,
                group.as_deref(),
                hours::GapOutputs {
                    out: out.as_deref(),
                    premises_out: premises_out.as_deref(),
                    geojson: geojson.as_deref(),
                },
                role(exact),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Trends(a) => {
            trends::trends(&a)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Hotspots(a) => {
            trends::hotspots(&a)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Project(a) => {
            trends::project(&a)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::EarlyWarning(a) => {
            trends::early_warning(&a)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::HoursAccess {
            ws,
            kind,
            threshold_min,
            decay,
            out,
            geojson,
        } => {
            let atlas = load(&ws)?;
            hours::hours_access(
                &atlas,
                &kind,
                threshold_min,
                &decay,
                out.as_deref(),
                geojson.as_deref(),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::HoursExtend {
            ws,
            kind,
            threshold_min,
            group,
            limit,
            out,
            premises_out,
            exact,
        } => {
            let atlas = load(&ws)?;
            hours::hours_extend(
                &atlas,
                &hours::ExtendArgs {
                    kind: &kind,
                    threshold_min,
                    group: group.as_deref(),
                    limit,
                    out: out.as_deref(),
                    premises_out: premises_out.as_deref(),
                },
                role(exact),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Fca {
            demand,
            supply,
            costs,
            max_cost_s,
            decay,
        } => {
            fca(&demand, &supply, &costs, max_cost_s, &decay)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchNetwork {
            roads,
            sources,
            repeat,
            threads,
            export,
        } => {
            bench_network(&roads, sources, repeat, threads, export.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Site {
            ws,
            model,
            candidates,
            p,
            threshold_min,
            weight,
            keep,
            baseline,
            seed,
            out,
            areas_out,
            capacitated,
            exact,
        } => {
            if !(threshold_min.is_finite() && threshold_min > 0.0) {
                bail!("--threshold-min must be a positive number of minutes");
            }
            let req = crate::io::study::SitingRequest {
                model: model.parse().map_err(|e: String| anyhow!(e))?,
                candidates,
                p,
                threshold_s: threshold_min * 60.0,
                weight: weight.parse().map_err(|e: String| anyhow!(e))?,
                keep,
                baseline,
                seed,
                capacitated,
            };
            let atlas = load(&ws)?;
            siting::site(
                &atlas,
                &siting::SiteArgs {
                    req,
                    out: out.as_deref(),
                    areas_out: areas_out.as_deref(),
                },
                role(exact),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Scenario { action } => {
            match action {
                ScenarioAction::List { ws } => scenario::list(&load(&ws)?)?,
                ScenarioAction::Save {
                    ws,
                    name,
                    edits,
                    description,
                } => scenario::save(&load(&ws)?, &name, &edits, description)?,
                ScenarioAction::Delete { ws, name } => scenario::delete(&load(&ws)?, &name)?,
                ScenarioAction::Compare {
                    ws,
                    a,
                    b,
                    kind,
                    threshold_min,
                    out,
                    exact,
                } => scenario::compare(
                    &load(&ws)?,
                    &a,
                    &b,
                    &kind,
                    threshold_min,
                    out.as_deref(),
                    role(exact),
                )?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Coterminosity {
            ws,
            a,
            b,
            split_share,
            out,
            splits,
            matrix,
            lookup,
        } => {
            let atlas = load(&ws)?;
            boundaries::coterminosity(
                &atlas,
                &a,
                &b,
                split_share,
                boundaries::CotermOutputs {
                    units: out.as_deref(),
                    splits: splits.as_deref(),
                    matrix: matrix.as_deref(),
                    lookup: lookup.as_deref(),
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Design {
            ws,
            parent,
            target,
            current,
            tolerance,
            balance,
            out,
            lookup,
            exact,
        } => {
            let by_referrals = match balance.as_str() {
                "population" => false,
                "referrals" => true,
                other => bail!("--balance {other:?} is not population or referrals"),
            };
            let atlas = load(&ws)?;
            boundaries::design(
                &atlas,
                &boundaries::DesignArgs {
                    parent: &parent,
                    target: &target,
                    current: current.as_deref(),
                    tolerance,
                    by_referrals,
                    out: out.as_deref(),
                    lookup: lookup.as_deref(),
                    exact,
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::TokenHash => {
            let mut token = String::new();
            std::io::stdin()
                .read_line(&mut token)
                .context("reading the token from standard input")?;
            let h = crate::privacy::auth::hash_token(token.trim_end_matches(['\n', '\r']))
                .map_err(|e| anyhow!(e))?;
            println!("{h}");
            Ok(ExitCode::SUCCESS)
        }
        Command::AuditVerify {
            log: Some(log),
            config: None,
            ..
        } => match crate::privacy::audit::verify(&log) {
            Ok(v) => {
                println!(
                    "{}: {} records, chain intact, last hash {}",
                    log.display(),
                    v.records,
                    v.last_hash
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("{}: {e}", log.display());
                Ok(ExitCode::FAILURE)
            }
        },
        Command::AuditVerify { config, list, .. } => {
            let file = config.ok_or_else(|| anyhow::anyhow!("give an audit log or --config"))?;
            let cfg = crate::Config::load(&file)?;
            let place = match &cfg.store.url {
                Some(_) => "the store database".to_string(),
                None => cfg.store_path().display().to_string(),
            };
            let Some(mut store) = crate::io::store::open_store(&cfg, false)? else {
                println!("{place}: no store yet, so no trail");
                return Ok(ExitCode::SUCCESS);
            };
            let trail = store.audit_trail()?;
            if list {
                for r in &trail {
                    println!("{r}");
                }
            }
            match crate::privacy::audit::verify_records(trail) {
                Ok(v) => {
                    println!(
                        "{place}: {} records, chain intact, last hash {}",
                        v.records, v.last_hash
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{place}: audit trail {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::BenchSiting {
            demand,
            sites,
            radius_km,
            p,
            pm_rows,
            repeat,
        } => {
            siting::bench_siting(&demand, &sites, radius_km, &p, pm_rows.as_deref(), repeat)?;
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
        Command::BenchExport { zones, out, repeat } => {
            bench_export(&zones, &out, repeat)?;
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

#[allow(clippy::too_many_arguments)]
fn access_command(
    atlas: &Atlas,
    kind: &str,
    bands_m: &[f64],
    (threshold_min, desert_below): (f64, usize),
    (circuity, speed_kmh): (Option<f64>, Option<f64>),
    (demand, decay): (
        crate::analysis::access::DemandMeasure,
        crate::analysis::access::Decay,
    ),
    out: Option<&Path>,
) -> anyhow::Result<()> {
    use crate::analysis::access::{access_table_by, population_within_distance, AccessParams};
    let (travel, base) = atlas.travel();
    let circuity = circuity.unwrap_or(base.circuity);
    let speed_kmh = speed_kmh.unwrap_or(base.speed_kmh);
    let valid = circuity >= 1.0 && circuity.is_finite() && speed_kmh > 0.0 && speed_kmh.is_finite();
    if !valid {
        bail!("--circuity must be at least 1 and --speed-kmh positive");
    }
    let prem = premises_of_kind(atlas, kind)?;
    let sites: Vec<[f64; 2]> = prem.iter().map(|p| [p.x_m, p.y_m]).collect();
    // Coverage by SIMD quintile.
    let cov = population_within_distance(&atlas.areas, &sites, bands_m);
    let mut headers = vec!["simd_quintile".to_string()];
    for c in &cov {
        headers.push(format!("pop_within_{:.0}m", c.threshold_m));
        headers.push(format!("pct_within_{:.0}m", c.threshold_m));
    }
    headers.push("population".into());
    let mut rows = Vec::new();
    for slot in 0..6 {
        if cov.first().is_some_and(|c| c.population[slot] == 0.0) {
            continue;
        }
        let mut r = vec![if slot < 5 {
            (slot + 1).to_string()
        } else {
            "no SIMD".into()
        }];
        for c in &cov {
            r.push(format!("{:.0}", c.population_within[slot]));
            r.push(
                c.share(slot)
                    .map(|x| format!("{:.1}", x * 100.0))
                    .unwrap_or_default(),
            );
        }
        r.push(format!(
            "{:.0}",
            cov.first().map_or(0.0, |c| c.population[slot])
        ));
        rows.push(r);
    }
    let mut total = vec!["total".to_string()];
    for c in &cov {
        let (w, all) = c.total();
        total.push(format!("{w:.0}"));
        total.push(if all > 0.0 {
            format!("{:.1}", w / all * 100.0)
        } else {
            String::new()
        });
    }
    total.push(format!("{:.0}", cov.first().map_or(0.0, |c| c.total().1)));
    rows.push(total);
    println!(
        "population within a straight-line distance of a {kind} ({} premises), by SIMD quintile:",
        prem.len()
    );
    print!("{}", writers::text_table(&headers, &rows));

    // Per area: nearest, choice, 2SFCA and E2SFCA over straight-line travel times.
    let params = AccessParams {
        threshold_s: threshold_min * 60.0,
        desert_below,
        circuity,
        speed_kmh,
        demand,
        decay,
    };
    let need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
    let table = access_table_by(&atlas.areas, &prem, &params, travel, Some(&need));
    let mut desert_pop = [0.0f64; 6];
    for (a, t) in atlas.areas.iter().zip(&table) {
        if t.choice_desert {
            desert_pop[a.simd.map_or(5, |s| (s.quintile.clamp(1, 5) - 1) as usize)] +=
                a.population.unwrap_or(0.0);
        }
    }
    println!(
        "\nchoice deserts (fewer than {desert_below} providers within {threshold_min} min, {}): {} areas; population by SIMD quintile 1-5: {}",
        travel.describe(&params),
        table.iter().filter(|t| t.choice_desert).count(),
        desert_pop[..5].iter().map(|p| format!("{p:.0}")).collect::<Vec<_>>().join(", ")
    );
    if let Some(path) = out {
        let mut w =
            csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
        w.write_record([
            "area_id",
            "nearest",
            "distance_m",
            "travel_time_s",
            "providers_within",
            "choice_desert",
            "access_2sfca",
            "access_e2sfca",
        ])?;
        for (a, t) in atlas.areas.iter().zip(&table) {
            w.write_record([
                a.code.clone(),
                t.nearest
                    .map(|j| prem[j as usize].code.clone())
                    .unwrap_or_default(),
                t.distance_m.map(|d| format!("{d:.0}")).unwrap_or_default(),
                t.travel_time_s
                    .map(|d| format!("{d:.0}"))
                    .unwrap_or_default(),
                t.providers_within.to_string(),
                t.choice_desert.to_string(),
                t.access_2sfca
                    .map(|x| format!("{x:.6e}"))
                    .unwrap_or_default(),
                t.access_e2sfca
                    .map(|x| format!("{x:.6e}"))
                    .unwrap_or_default(),
            ])?;
        }
        w.flush()?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn premises_of_kind<'a>(
    atlas: &'a Atlas,
    kind: &str,
) -> anyhow::Result<Vec<&'a crate::model::Premises>> {
    atlas.check_kind(kind).map_err(|e| anyhow!(e))?;
    Ok(atlas.premises.iter().filter(|p| p.kind == kind).collect())
}

fn emit_table(
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            let mut w = csv::Writer::from_path(path)
                .with_context(|| format!("writing {}", path.display()))?;
            w.write_record(&headers)?;
            for r in &rows {
                w.write_record(r)?;
            }
            w.flush()?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{}", writers::text_table(&headers, &rows)),
    }
    Ok(())
}

fn reach_command(
    atlas: &Atlas,
    kind: &str,
    bands_min: &[f64],
    out: Option<&Path>,
    role: Role,
) -> anyhow::Result<()> {
    use crate::analysis::access::premises_reach;
    if bands_min.is_empty() || bands_min.iter().any(|b| !(b.is_finite() && *b >= 0.0)) {
        bail!("--bands-min must be minutes, 0 or more");
    }
    let prem = premises_of_kind(atlas, kind)?;
    let need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
    let mut bands: Vec<f64> = bands_min.iter().map(|b| b * 60.0).collect();
    bands.sort_by(f64::total_cmp);
    let (travel, params) = atlas.travel();
    let reach = premises_reach(&atlas.areas, &need, &prem, &bands, &params, travel);
    let policy = atlas.config.privacy.policy();
    let mut headers = vec!["premises_id".to_string(), "name".to_string()];
    for b in &bands {
        let m = b / 60.0;
        headers.push(format!("population_{m}min"));
        headers.push(format!("need_weighted_{m}min"));
        headers.push(format!("referrals_{m}min"));
    }
    headers.push("catchment_population".into());
    headers.extend((1..=5).map(|q| format!("catchment_simd_q{q}_pct")));
    let rows = reach
        .iter()
        .map(|r| {
            let p = prem[r.premises as usize];
            let mut row = vec![p.code.clone(), p.name.clone()];
            for b in 0..bands.len() {
                row.push(format!("{:.0}", r.population[b]));
                row.push(format!("{:.0}", r.need[b]));
                row.push(policy.count(r.referrals[b], role).to_string());
            }
            row.push(format!("{:.0}", r.catchment_population));
            row.extend(
                r.catchment_simd_share
                    .iter()
                    .map(|s| s.map(|x| format!("{:.1}", x * 100.0)).unwrap_or_default()),
            );
            row
        })
        .collect();
    emit_table(headers, rows, out)
}

fn gaps_command(
    atlas: &Atlas,
    kind: &str,
    threshold_min: f64,
    out: Option<&Path>,
    role: Role,
) -> anyhow::Result<()> {
    use crate::analysis::access::{access_table_by, coverage_gaps, AccessParams};
    if !(threshold_min.is_finite() && threshold_min > 0.0) {
        bail!("--threshold-min must be a positive number of minutes");
    }
    let prem = premises_of_kind(atlas, kind)?;
    let need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
    let (travel, base) = atlas.travel();
    let params = AccessParams {
        threshold_s: threshold_min * 60.0,
        ..base
    };
    let table = access_table_by(&atlas.areas, &prem, &params, travel, Some(&need));
    let gaps = coverage_gaps(&table, &need, params.threshold_s);
    let policy = atlas.config.privacy.policy();
    eprintln!(
        "{} areas ({:.0} residents) are more than {threshold_min} min from every {kind} ({})",
        gaps.len(),
        gaps.iter().filter_map(|g| g.population).sum::<f64>(),
        travel.describe(&params)
    );
    let headers = [
        "rank",
        "area_id",
        "name",
        "travel_time_min",
        "need_score",
        "population",
        "simd_quintile",
        "referrals",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows = gaps
        .iter()
        .enumerate()
        .map(|(k, g)| {
            let a = &atlas.areas[g.area as usize];
            vec![
                (k + 1).to_string(),
                a.code.clone(),
                a.name.clone().unwrap_or_default(),
                g.travel_time_s
                    .map(|t| format!("{:.1}", t / 60.0))
                    .unwrap_or_default(),
                g.need_score.map(|x| format!("{x:.2}")).unwrap_or_default(),
                g.population.map(|x| format!("{x:.0}")).unwrap_or_default(),
                a.simd.map(|s| s.quintile.to_string()).unwrap_or_default(),
                policy.count(g.referrals as f64, role).to_string(),
            ]
        })
        .collect();
    emit_table(headers, rows, out)
}

/// Parse a decay description (see `needmap fca --help`).
pub fn parse_decay(s: &str) -> anyhow::Result<crate::analysis::access::Decay> {
    crate::analysis::access::Decay::parse(s).map_err(|e| anyhow!(e))
}

fn read_id_values(path: &Path) -> anyhow::Result<(Vec<String>, Vec<f64>)> {
    let mut rdr =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let (mut ids, mut vals) = (Vec::new(), Vec::new());
    for (row, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), row + 1))?;
        let v: f64 = rec.get(1).unwrap_or("").trim().parse().with_context(|| {
            format!("{}: row {}: value is not a number", path.display(), row + 1)
        })?;
        ids.push(rec.get(0).unwrap_or("").to_string());
        vals.push(v);
    }
    Ok((ids, vals))
}

fn fca(
    demand: &Path,
    supply: &Path,
    costs: &Path,
    max_cost_s: Option<f64>,
    decay: &str,
) -> anyhow::Result<()> {
    use crate::analysis::access::{floating_catchment, CostMatrix};
    use std::collections::HashMap;
    let decay = parse_decay(decay)?;
    let (dids, dvals) = read_id_values(demand)?;
    let (sids, svals) = read_id_values(supply)?;
    let dix: HashMap<&str, usize> = dids
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let six: HashMap<&str, usize> = sids
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let mut rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); dids.len()];
    let mut rdr =
        csv::Reader::from_path(costs).with_context(|| format!("reading {}", costs.display()))?;
    for (row, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", costs.display(), row + 1))?;
        let at = |k: usize| rec.get(k).unwrap_or("").trim().to_string();
        let i = *dix.get(at(0).as_str()).ok_or_else(|| {
            anyhow!(
                "{}: row {}: unknown origin {:?}",
                costs.display(),
                row + 1,
                at(0)
            )
        })?;
        let j = *six.get(at(1).as_str()).ok_or_else(|| {
            anyhow!(
                "{}: row {}: unknown dest {:?}",
                costs.display(),
                row + 1,
                at(1)
            )
        })?;
        let c: f64 = at(2).parse().with_context(|| {
            format!("{}: row {}: cost is not a number", costs.display(), row + 1)
        })?;
        rows[i].push((j as u32, c));
    }
    for r in &mut rows {
        r.sort_by_key(|p| p.0);
    }
    let m = CostMatrix {
        n_supply: sids.len(),
        rows,
    };
    let a = floating_catchment(&dvals, &svals, &m, max_cost_s, &decay);
    println!("id,access");
    for (id, v) in dids.iter().zip(a) {
        match v {
            Some(v) => println!("{id},{v:.17e}"),
            None => println!("{id},"),
        }
    }
    Ok(())
}

fn bench_network(
    roads: &Path,
    sources: usize,
    repeat: usize,
    threads: Option<usize>,
    export: Option<&Path>,
) -> anyhow::Result<()> {
    use crate::config::NetworkConfig;
    use crate::io::report::Report;
    use rayon::prelude::*;
    let mut report = Report::new();
    let display = roads.display().to_string();
    let t0 = Instant::now();
    let net = crate::io::roads::load_road_network(
        roads,
        &display,
        &NetworkConfig::default(),
        &mut report,
    )
    .ok_or_else(|| anyhow!("{report}"))?;
    let build_s = t0.elapsed().as_secs_f64();
    let n = net.node_count();
    if n == 0 || sources == 0 {
        bail!("no nodes or no sources");
    }
    // Sources spread over the node ids by a fixed multiplicative step (deterministic).
    let srcs: Vec<u32> = (0..sources)
        .map(|k| ((k as u64 * 2_654_435_761) % n as u64) as u32)
        .collect();
    if let Some(dir) = export {
        std::fs::create_dir_all(dir)?;
        let mut w = csv::Writer::from_path(dir.join("edges.csv"))?;
        w.write_record(["from", "to", "time_s"])?;
        for e in net.edges() {
            w.write_record([
                e.from.to_string(),
                e.to.to_string(),
                format!("{:.17e}", e.travel_time_s),
            ])?;
        }
        w.flush()?;
        std::fs::write(
            dir.join("sources.txt"),
            srcs.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        )?;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()?;
    let mut times = Vec::new();
    let mut checksum = 0.0f64;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        checksum = pool.install(|| {
            srcs.par_iter()
                .map(|&s| {
                    net.one_to_all(&[(s, 0.0)], f64::INFINITY)
                        .iter()
                        .filter(|t| t.is_finite())
                        .map(|&t| f64::from(t))
                        .sum::<f64>()
                })
                .sum()
        });
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({"workload": "network one-to-all", "peer": "needmap", "threads": pool.current_num_threads(),
            "nodes": n, "edges": net.edge_count(), "sources": sources, "build_s": build_s,
            "median_s": times[times.len() / 2], "min_s": times[0], "sum_reached_s": checksum})
    );
    Ok(())
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

/// A zones GeoJSON for the benchmarks: the layer and each feature's polygons
/// in British National Grid (empty where a feature has none).
fn read_zones_bng(
    zones: &Path,
) -> anyhow::Result<(crate::io::vector::VectorLayer, Vec<geo::MultiPolygon<f64>>)> {
    use crate::io::report::Report;
    use crate::io::vector::{read_vector, RawGeometry};
    use crate::spatial::crs::{Crs, ToWorking};
    use rayon::prelude::*;
    let mut report = Report::new();
    let display = zones.display().to_string();
    let layer = read_vector(zones, &display, &mut report).ok_or_else(|| anyhow!("{report}"))?;
    let crs = layer.declared_crs.clone().unwrap_or(Crs::Wgs84);
    let tf = ToWorking::new(&crs)?;
    let geoms = layer
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
    Ok((layer, geoms))
}

fn bench_export(zones: &Path, out: &Path, repeat: usize) -> anyhow::Result<()> {
    use crate::io::export::{write_gpkg, Shape, Table};
    use crate::io::gpkg::Geometry;
    use crate::io::vector::PropValue;
    use geo::Area;

    let t0 = Instant::now();
    let (layer, geoms) = read_zones_bng(zones)?;
    let columns = layer.columns();
    let mut rows = Vec::with_capacity(layer.features.len());
    let mut shapes = Vec::with_capacity(layer.features.len());
    let mut area_m2 = 0.0;
    for (f, g) in layer.features.iter().zip(geoms) {
        area_m2 += g.unsigned_area();
        shapes.push(Some(Shape {
            bng: Geometry::MultiPolygon(g),
            wgs84: Geometry::MultiPolygon(geo::MultiPolygon(vec![])),
        }));
        rows.push(
            columns
                .iter()
                .map(|c| match f.properties.get(c) {
                    Some(PropValue::Num(x)) => serde_json::json!(x),
                    Some(PropValue::Text(t)) => serde_json::json!(t),
                    Some(PropValue::Bool(b)) => serde_json::json!(b),
                    _ => serde_json::Value::Null,
                })
                .collect(),
        );
    }
    let table = Table {
        name: "zones".into(),
        columns,
        rows,
        shapes: Some(shapes),
    };
    let load_s = t0.elapsed().as_secs_f64();
    let mut times = Vec::new();
    for _ in 0..repeat.max(1) {
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", out.display()));
        }
        let t = Instant::now();
        write_gpkg(&table, out)?;
        times.push(t.elapsed().as_secs_f64());
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    println!(
        "{}",
        serde_json::json!({
            "workload": "w6_gpkg_write", "peer": "needmap", "rows": table.rows.len(),
            "median_s": sorted[sorted.len() / 2], "min_s": sorted[0], "times_s": times,
            "load_s": load_s, "area_km2": area_m2 / 1e6, "bytes": bytes,
            "synchronous": "FULL", "journal": "DELETE", "spatial_index": false,
        })
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
    use crate::spatial::{AreaIndex, PreparedPolygon};
    use rayon::prelude::*;

    let t0 = Instant::now();
    let (layer, geoms) = read_zones_bng(zones)?;
    if !layer.columns().iter().any(|c| c == id) {
        bail!("{}: no property {id:?}", zones.display());
    }
    let (xs, ys) = read_points(points, n)?;
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
