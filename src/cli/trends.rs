//! `needmap trends`, `hotspots`, `project` and `early-warning`: anticipatory
//! need as CSV and GeoJSON.
//!
//! Disclosure control: without `--exact` every referral count passes
//! through `Policy::default().count(n, Role::Public)` (0-9 as `<10`, others
//! rounded to 5) and rates are withheld where their count is. Statistics
//! computed from exact counts are published only where they cannot give a
//! small count back: classes, directions, ranks and p/q-values (to 3
//! decimals), and growth rounded to 5 % a year (withheld where the area's
//! total is withheld); z-scores, Gi* and Moran values, Mann-Kendall S and
//! exact slopes of referral-derived values are for `--exact` (planner) use
//! only, since with the weights they could be solved for the counts.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};
use chrono::NaiveDate;
use clap::Args;
use serde_json::{json, Map, Value};

use super::{emit_table, load, role, WorkspaceArgs};
use crate::analysis::early_warning::WarningRules;
use crate::analysis::hotspots::{EmergingOptions, HotspotOptions, Standardisation};
use crate::analysis::projection::{ProjectionOptions, TrendModel};
use crate::analysis::trends::{
    extract_range, parse_period, period_name, DateRange, TrendOptions, TrendTable, TrendTest,
};
use crate::io::trends_study::{
    published_growth_pct, read_population_projection, write_gal, EarlyWarningRequest,
    EmergingRequest, HotspotRequest, HotspotValue, ProjectionRequest, SeriesRequest, WeightsSpec,
};
use crate::io::workspace::Atlas;
use crate::io::writers;
use crate::privacy::{Count, Policy, Role};

/// Which referrals and periods.
#[derive(Args, Clone)]
pub struct SeriesArgs {
    /// Period of the series: month | quarter | year. Periods the extract covers
    /// only in part (the first and last, usually) are left out.
    #[arg(long, default_value = "month")]
    period: String,
    /// Only referrals of this client group.
    #[arg(long)]
    group: Option<String>,
    /// First day the extract covers (default: the day of its first timed referral).
    #[arg(long)]
    from: Option<NaiveDate>,
    /// Last day the extract covers (default: the day of its last timed referral).
    #[arg(long)]
    to: Option<NaiveDate>,
}

/// `needmap trends`.
#[derive(Args, Clone)]
pub struct TrendsArgs {
    #[command(flatten)]
    ws: WorkspaceArgs,
    #[command(flatten)]
    series: SeriesArgs,
    /// mann-kendall | poisson
    #[arg(long, default_value = "mann-kendall")]
    test: String,
    /// False discovery rate (Benjamini-Hochberg across areas) for rising/falling.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// One table per client group (a `group` column) instead of all referrals.
    #[arg(long)]
    by_group: bool,
    /// CSV output, one row per area (default: print the fastest-rising areas).
    #[arg(long, short = 'o')]
    out: Option<PathBuf>,
    /// GeoJSON output (WGS84) with direction, rank, p and q.
    #[arg(long)]
    geojson: Option<PathBuf>,
    /// Exact counts and statistics (planner use only).
    #[arg(long)]
    exact: bool,
}

/// `needmap hotspots`.
#[derive(Args, Clone)]
pub struct HotspotsArgs {
    #[command(flatten)]
    ws: WorkspaceArgs,
    #[command(flatten)]
    series: SeriesArgs,
    /// rate (referrals per 1,000 per year) | count | population | an indicator column.
    #[arg(long, default_value = "rate")]
    value: String,
    /// rook | queen | distance:METRES
    #[arg(long, default_value = "rook")]
    weights: String,
    /// Gi* weights: binary (classic Gi*, as ArcGIS) | row (esda's default).
    #[arg(long, default_value = "binary")]
    standardisation: String,
    /// Conditional permutations for local Moran's I pseudo p-values.
    #[arg(long, default_value_t = 999)]
    permutations: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Significance of a Moran cluster and (with --emerging) of a hot spot bin.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Classify by p-values instead of Benjamini-Hochberg q-values.
    #[arg(long)]
    no_fdr: bool,
    /// Emerging (space-time) hot spots of the per-period rates instead.
    #[arg(long)]
    emerging: bool,
    /// Significance of the Mann-Kendall trend of the Gi* z-scores (--emerging).
    #[arg(long, default_value_t = 0.05)]
    trend_alpha: f64,
    /// CSV output, one row per area (default: print the hot spots).
    #[arg(long, short = 'o')]
    out: Option<PathBuf>,
    /// GeoJSON output (WGS84).
    #[arg(long)]
    geojson: Option<PathBuf>,
    /// Write the weights used as a GAL neighbour list (area codes as ids).
    #[arg(long)]
    gal: Option<PathBuf>,
    /// Exact values and statistics (planner use only).
    #[arg(long)]
    exact: bool,
}

/// `needmap project`.
#[derive(Args, Clone)]
pub struct ProjectArgs {
    #[command(flatten)]
    ws: WorkspaceArgs,
    #[command(flatten)]
    series: SeriesArgs,
    /// Periods ahead to project.
    #[arg(long, default_value_t = 3)]
    horizon: usize,
    /// trend | damped:PHI (e.g. damped:0.9) | level
    #[arg(long, default_value = "trend")]
    model: String,
    /// Coverage of the prediction interval.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Simulation draws per area for the intervals.
    #[arg(long, default_value_t = 2000)]
    draws: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Use each area's own slope as fitted, not shrunk towards the regional slope.
    #[arg(long)]
    no_shrink: bool,
    /// Population projection CSV: code (area or parent code), year, population.
    #[arg(long)]
    population: Option<PathBuf>,
    /// Also backtest: hold back the last K complete periods, fit on the rest, report errors.
    #[arg(long)]
    backtest: Option<usize>,
    /// CSV output: one row per area and projected period, and the region total (`ALL`).
    #[arg(long, short = 'o')]
    out: Option<PathBuf>,
    /// Exact projections (planner use only).
    #[arg(long)]
    exact: bool,
}

/// `needmap early-warning`.
#[derive(Args, Clone)]
pub struct EarlyWarningArgs {
    #[command(flatten)]
    ws: WorkspaceArgs,
    #[command(flatten)]
    series: SeriesArgs,
    /// Flag a rate of at least this many referrals per 1,000 residents per year (recent year).
    #[arg(long)]
    rate_min: Option<f64>,
    /// Flag growth of at least this share a year (0.1 = 10 %); negative to turn off.
    #[arg(long, default_value_t = 0.10)]
    growth_min: f64,
    /// Count growth even where the trend is not significant after the FDR.
    #[arg(long)]
    any_growth: bool,
    /// Flag Gi* hot spots at this confidence or more: 90, 95, 99 (0 = off).
    #[arg(long, default_value_t = 95)]
    hotspot_confidence: u8,
    /// Do not flag emerging (new, consecutive, intensifying) hot spots.
    #[arg(long)]
    no_emerging: bool,
    /// How many of the rules an area must meet.
    #[arg(long, default_value_t = 1)]
    min_reasons: usize,
    /// mann-kendall | poisson (the trend test behind "rising").
    #[arg(long, default_value = "mann-kendall")]
    test: String,
    /// False discovery rate of trends and hot spot bins.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// rook | queen | distance:METRES
    #[arg(long, default_value = "rook")]
    weights: String,
    /// Periods ahead for the projected demand.
    #[arg(long, default_value_t = 3)]
    horizon: usize,
    /// trend | damped:PHI | level
    #[arg(long, default_value = "trend")]
    model: String,
    /// Population projection CSV: code, year, population.
    #[arg(long)]
    population: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// CSV of the flagged areas (default: print them).
    #[arg(long, short = 'o')]
    out: Option<PathBuf>,
    /// GeoJSON of every area with its reasons (WGS84).
    #[arg(long)]
    geojson: Option<PathBuf>,
    /// The demand vector as `id,value` (referrals per period; 0 where not
    /// flagged), the demand table `needmap fca` reads. Needs --exact.
    #[arg(long)]
    demand_out: Option<PathBuf>,
    /// Exact counts and projections (planner use only).
    #[arg(long)]
    exact: bool,
}

fn series(atlas: &Atlas, a: &SeriesArgs) -> anyhow::Result<SeriesRequest> {
    let period = parse_period(&a.period).map_err(|e| anyhow!(e))?;
    let range = match (a.from, a.to) {
        (None, None) => None,
        (f, t) => {
            let ext = extract_range(&atlas.referrals);
            let first = f
                .or(ext.map(|r| r.first))
                .ok_or_else(|| anyhow!("no timed referral: give both --from and --to"))?;
            let last = t
                .or(ext.map(|r| r.last))
                .ok_or_else(|| anyhow!("no timed referral: give both --from and --to"))?;
            if first > last {
                bail!("--from {first} is after --to {last}");
            }
            Some(DateRange { first, last })
        }
    };
    Ok(SeriesRequest {
        period,
        group: a.group.clone(),
        range,
    })
}

fn check_alpha(name: &str, v: f64) -> anyhow::Result<()> {
    if !(v > 0.0 && v < 1.0) {
        bail!("{name} must be between 0 and 1");
    }
    Ok(())
}

/// A p- or q-value: full precision for planners, 3 decimals (or `<0.001`) for the public.
fn fmt_p(p: Option<f64>, exact: bool) -> Value {
    match p {
        Some(p) if p.is_finite() => {
            if exact {
                json!(p)
            } else if p < 0.001 {
                json!("<0.001")
            } else {
                json!((p * 1000.0).round() / 1000.0)
            }
        }
        _ => Value::Null,
    }
}

fn num(v: Option<f64>) -> Value {
    match v {
        Some(v) if v.is_finite() => json!(v),
        _ => Value::Null,
    }
}

/// A published count: whole numbers as integers, `<10` as text.
fn count_json(c: Count) -> Value {
    match c {
        Count::Value(v) if v.fract() == 0.0 && v.abs() < 9e15 => json!(v as i64),
        Count::Value(v) => json!(v),
        Count::Suppressed(s) => json!(s),
    }
}

/// Growth per year in percent: exact, or rounded to 5 % and withheld with the count.
fn growth_pct(rate_ratio: Option<f64>, total: u64, role: Role, policy: &Policy) -> Value {
    num(published_growth_pct(
        rate_ratio,
        &policy.count(total as f64, role),
        role.exact(),
    ))
}

/// A rate per 1,000 per year as published: exact, or from the protected count.
fn rate_per_year(
    count: u64,
    population: Option<f64>,
    years: f64,
    role: Role,
    policy: &Policy,
) -> Value {
    let pop = population.filter(|p| *p > 0.0);
    let exact = pop.map(|p| count as f64 * 1000.0 / p / years);
    // The policy divides by the population it is given: pass population × years.
    num(policy.rate_per_1000(count as f64, pop.map(|p| p * years), exact, role))
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Write rows (headers, one `Value` per column) as CSV or a printed table,
/// and as area GeoJSON when asked.
struct Rows {
    headers: Vec<String>,
    rows: Vec<(usize, Vec<Value>)>,
}

impl Rows {
    fn new(headers: Vec<String>) -> Rows {
        Rows {
            headers,
            rows: Vec::new(),
        }
    }

    fn csv(&self, out: Option<&Path>) -> anyhow::Result<()> {
        let rows = self
            .rows
            .iter()
            .map(|(_, r)| r.iter().map(cell).collect())
            .collect();
        emit_table(self.headers.clone(), rows, out)
    }

    fn geojson(&self, atlas: &Atlas, path: &Path, columns: &[&str]) -> anyhow::Result<()> {
        let idx: Vec<usize> = columns
            .iter()
            .filter_map(|c| self.headers.iter().position(|h| h == c))
            .collect();
        let mut props: Vec<Map<String, Value>> = atlas
            .areas
            .iter()
            .map(|a| {
                let mut m = Map::new();
                m.insert("area_id".into(), json!(a.code));
                m.insert("name".into(), json!(a.name));
                m
            })
            .collect();
        for (i, r) in &self.rows {
            for &k in &idx {
                props[*i].insert(self.headers[k].clone(), r[k].clone());
            }
        }
        writers::write_areas_geojson(path, &atlas.areas, props)?;
        eprintln!("wrote {}", path.display());
        Ok(())
    }
}

fn trend_rows(atlas: &Atlas, tables: &[(Option<String>, TrendTable)], role: Role) -> Rows {
    let policy = atlas.config.privacy.policy();
    let exact = role.exact();
    let first = &tables[0].1;
    let mut headers: Vec<String> = vec!["area_id".into(), "name".into()];
    let grouped = tables.iter().any(|(g, _)| g.is_some());
    if grouped {
        headers.push("group".into());
    }
    headers.push("population".into());
    headers.extend(first.periods.iter().map(|p| p.label()));
    for h in [
        "total",
        "rate_per_1000_per_year",
        "growth_pct_per_year",
        "mk_s",
        "mk_z",
        "sen_slope_per_year",
        "sen_lower_per_year",
        "sen_upper_per_year",
        "poisson_z",
        "p",
        "q",
        "direction",
        "rank",
    ] {
        headers.push(h.into());
    }
    let mut rows = Rows::new(headers);
    let years =
        first.periods.len() as f64 / crate::analysis::trends::periods_per_year(first.period);
    for (group, table) in tables {
        for (i, t) in table.areas.iter().enumerate() {
            let a = &atlas.areas[i];
            let mut r = vec![json!(a.code), json!(a.name)];
            if grouped {
                r.push(json!(group));
            }
            r.push(num(t.population));
            r.extend(
                t.counts
                    .iter()
                    .map(|&c| count_json(policy.count(c as f64, role))),
            );
            r.push(count_json(policy.count(t.total as f64, role)));
            r.push(rate_per_year(t.total, t.population, years, role, &policy));
            r.push(growth_pct(t.rate_ratio_per_year, t.total, role, &policy));
            let only = |v: Option<f64>| if exact { num(v) } else { Value::Null };
            r.push(only(t.mann_kendall.map(|m| m.s as f64)));
            r.push(only(t.mann_kendall.map(|m| m.z)));
            r.push(only(t.sen_slope_per_year));
            r.push(only(t.sen_lower_per_year));
            r.push(only(t.sen_upper_per_year));
            r.push(only(t.poisson.map(|f| f.z_quasi())));
            r.push(fmt_p(t.p, exact));
            r.push(fmt_p(t.q, exact));
            r.push(json!(t.direction.name()));
            r.push(t.rank.map_or(Value::Null, |k| json!(k)));
            rows.rows.push((i, r));
        }
    }
    rows
}

/// `needmap trends`.
pub fn trends(a: &TrendsArgs) -> anyhow::Result<()> {
    check_alpha("--alpha", a.alpha)?;
    let test: TrendTest = a.test.parse().map_err(|e: String| anyhow!(e))?;
    if a.by_group && a.series.group.is_some() {
        bail!("give --group or --by-group, not both");
    }
    let atlas = load(&a.ws)?;
    let req = series(&atlas, &a.series)?;
    let opts = TrendOptions {
        test,
        alpha: a.alpha,
        ..TrendOptions::default()
    };
    let tables: Vec<(Option<String>, TrendTable)> = if a.by_group {
        atlas
            .trend_study_by_group(&req, &opts)
            .map_err(|e| anyhow!(e))?
            .into_iter()
            .map(|(g, t)| (Some(g), t))
            .collect()
    } else {
        vec![(
            req.group.clone(),
            atlas.trend_study(&req, &opts).map_err(|e| anyhow!(e))?,
        )]
    };
    if tables.is_empty() {
        bail!("the referrals have no client groups");
    }
    let role = role(a.exact);
    let first = &tables[0].1;
    eprintln!(
        "{} complete {}s {}..{}{}; test {:?}, Benjamini-Hochberg across areas at {}",
        first.periods.len(),
        period_name(first.period),
        first.periods.first().map(|p| p.label()).unwrap_or_default(),
        first.periods.last().map(|p| p.label()).unwrap_or_default(),
        if first.partial.is_empty() {
            String::new()
        } else {
            format!(
                " (left out as partly covered: {})",
                first
                    .partial
                    .iter()
                    .map(|p| p.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        test,
        a.alpha
    );
    for (g, t) in &tables {
        let rising = t.areas.iter().filter(|x| x.rank.is_some()).count();
        let falling = t
            .areas
            .iter()
            .filter(|x| x.direction == crate::analysis::trends::Direction::Falling)
            .count();
        eprintln!(
            "{}: {rising} areas rising, {falling} falling",
            g.as_deref().unwrap_or("all referrals")
        );
    }
    let mut rows = trend_rows(&atlas, &tables, role);
    if let Some(p) = &a.geojson {
        if a.by_group {
            bail!("--geojson takes one table: use --group instead of --by-group");
        }
        rows.geojson(
            &atlas,
            p,
            &[
                "total",
                "rate_per_1000_per_year",
                "growth_pct_per_year",
                "p",
                "q",
                "direction",
                "rank",
            ],
        )?;
    }
    if a.out.is_none() {
        // Print the ranked rising areas only.
        let rank_col = rows.headers.len() - 1;
        rows.rows.retain(|(_, r)| !r[rank_col].is_null());
        rows.rows.sort_by_key(|(_, r)| r[rank_col].as_u64());
        rows.rows.truncate(20);
        if rows.rows.is_empty() {
            eprintln!("no area is rising at this false discovery rate");
            return Ok(());
        }
    }
    if a.out.is_some() || a.geojson.is_none() {
        rows.csv(a.out.as_deref())?;
    }
    if !a.exact {
        eprintln!("public output: counts protected (<10 suppressed, others rounded to 5), p/q to 3 decimals, growth to 5 %; --exact gives planners the statistics");
    }
    Ok(())
}

/// `needmap hotspots`.
pub fn hotspots(a: &HotspotsArgs) -> anyhow::Result<()> {
    check_alpha("--alpha", a.alpha)?;
    check_alpha("--trend-alpha", a.trend_alpha)?;
    let weights: WeightsSpec = a.weights.parse().map_err(|e: String| anyhow!(e))?;
    let standardisation: Standardisation =
        a.standardisation.parse().map_err(|e: String| anyhow!(e))?;
    let value: HotspotValue = a.value.parse().map_err(|e: String| anyhow!(e))?;
    let atlas = load(&a.ws)?;
    let req = series(&atlas, &a.series)?;
    let role = role(a.exact);
    let policy = atlas.config.privacy.policy();
    let exact = a.exact;
    if a.emerging {
        if value != HotspotValue::Rate {
            bail!("--emerging works on the referral rate per period (leave out --value)");
        }
        let st = atlas
            .emerging_study(&EmergingRequest {
                series: req,
                weights,
                options: EmergingOptions {
                    alpha: a.alpha,
                    fdr: !a.no_fdr,
                    trend_alpha: a.trend_alpha,
                    standardisation,
                },
            })
            .map_err(|e| anyhow!(e))?;
        eprintln!("{}", st.description);
        let mut tally = std::collections::BTreeMap::new();
        for e in &st.result.areas {
            *tally.entry(e.category.name()).or_insert(0usize) += 1;
        }
        eprintln!(
            "{}",
            tally
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut headers: Vec<String> = [
            "area_id",
            "name",
            "category",
            "hot_periods",
            "cold_periods",
            "z_trend_tau",
            "z_trend_p",
            "bins",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if exact {
            headers.extend(st.counts.periods.iter().map(|p| format!("z_{}", p.label())));
        }
        let mut rows = Rows::new(headers);
        for (k, &i) in st.included.iter().enumerate() {
            let e = &st.result.areas[k];
            let area = &atlas.areas[i];
            let bins: String = e
                .bins
                .iter()
                .map(|b| match b {
                    1 => 'H',
                    -1 => 'C',
                    _ => '.',
                })
                .collect();
            let mut r = vec![
                json!(area.code),
                json!(area.name),
                json!(e.category.name()),
                json!(e.hot_periods),
                json!(e.cold_periods),
                num(e.trend.map(|m| {
                    if exact {
                        m.tau
                    } else {
                        (m.tau * 100.0).round() / 100.0
                    }
                })),
                fmt_p(e.trend.map(|m| m.p), exact),
                json!(bins),
            ];
            if exact {
                r.extend(e.z.iter().map(|&z| num(Some(z))));
            }
            rows.rows.push((i, r));
        }
        if let Some(p) = &a.geojson {
            rows.geojson(
                &atlas,
                p,
                &[
                    "category",
                    "hot_periods",
                    "cold_periods",
                    "z_trend_p",
                    "bins",
                ],
            )?;
        }
        if a.out.is_none() {
            rows.rows.retain(|(_, r)| r[2] != json!("no_pattern"));
        }
        if a.out.is_some() || a.geojson.is_none() {
            rows.csv(a.out.as_deref())?;
        }
        return Ok(());
    }
    let st = atlas
        .hotspot_study(&HotspotRequest {
            value: value.clone(),
            series: req,
            weights,
            options: HotspotOptions {
                standardisation,
                permutations: a.permutations,
                seed: a.seed,
                fdr: !a.no_fdr,
                alpha: a.alpha,
            },
        })
        .map_err(|e| anyhow!(e))?;
    eprintln!("{}", st.description);
    if let Some(p) = &a.gal {
        let codes: Vec<&str> = st
            .included
            .iter()
            .map(|&i| atlas.areas[i].code.as_str())
            .collect();
        write_gal(p, &st.weights, &codes, "areas", "area_id")?;
        eprintln!("wrote {}", p.display());
    }
    let from_referrals = st.counts.is_some();
    // z-scores and I of referral values could give counts back: planners only.
    let stat = |v: f64| {
        if exact || !from_referrals {
            num(Some(v))
        } else {
            Value::Null
        }
    };
    let years = st.series.as_ref().map_or(1.0, |c| {
        c.len() as f64 / crate::analysis::trends::periods_per_year(c.period)
    });
    let mut headers: Vec<String> = [
        "area_id",
        "name",
        "value",
        "referrals",
        "gi_z",
        "gi_p",
        "gi_q",
        "hot_spot",
        "gi_bin",
        "moran_i",
        "moran_z",
        "moran_p_sim",
        "moran_q",
        "quadrant",
        "cluster",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let detail = exact || !from_referrals;
    if detail {
        for h in [
            "gi_g",
            "gi_expected",
            "gi_variance",
            "moran_expected",
            "moran_variance",
            "moran_expected_conditional",
            "moran_variance_conditional",
            "moran_z_conditional",
        ] {
            headers.push(h.into());
        }
    }
    let mut rows = Rows::new(headers);
    let t = &st.table;
    for (k, &i) in st.included.iter().enumerate() {
        let area = &atlas.areas[i];
        let n = st.counts.as_ref().map(|c| c[i]);
        // Planners get the value analysed, to full precision.
        let value_cell = match (&value, n) {
            _ if exact => num(st.values[i]),
            (HotspotValue::Rate, Some(n)) => {
                rate_per_year(n, area.population, years, role, &policy)
            }
            (HotspotValue::Count, Some(n)) => count_json(policy.count(n as f64, role)),
            _ => num(st.values[i]),
        };
        let mut r = vec![
            json!(area.code),
            json!(area.name),
            value_cell,
            n.map_or(Value::Null, |n| count_json(policy.count(n as f64, role))),
            stat(t.gi.z[k]),
            fmt_p(Some(t.gi.p[k]), exact),
            fmt_p(Some(t.gi_q[k]), exact),
            json!(t.class[k].name()),
            json!(t.class[k].bin()),
            stat(t.moran.i[k]),
            stat(t.moran.z[k]),
            fmt_p(t.moran.p_sim.get(k).copied(), exact),
            fmt_p(Some(t.moran_q[k]), exact),
            json!(t.moran.quadrant[k].name()),
            json!(t.cluster[k].map_or("not_significant", |q| q.name())),
        ];
        if detail {
            for v in [
                t.gi.g[k],
                t.gi.expected[k],
                t.gi.variance[k],
                t.moran.expected[k],
                t.moran.variance[k],
                t.moran.expected_conditional[k],
                t.moran.variance_conditional[k],
                t.moran.z_conditional[k],
            ] {
                r.push(num(Some(v)));
            }
        }
        rows.rows.push((i, r));
    }
    let mut tally = std::collections::BTreeMap::new();
    for c in &t.class {
        *tally.entry(c.bin()).or_insert(0usize) += 1;
    }
    eprintln!(
        "Gi* classes: {}",
        tally
            .iter()
            .rev()
            .map(|(b, n)| format!("{b:+}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(p) = &a.geojson {
        rows.geojson(
            &atlas,
            p,
            &[
                "value",
                "referrals",
                "gi_z",
                "gi_p",
                "gi_q",
                "hot_spot",
                "gi_bin",
                "moran_p_sim",
                "quadrant",
                "cluster",
            ],
        )?;
    }
    if a.out.is_none() {
        rows.rows.retain(|(_, r)| r[7] != json!("not_significant"));
    }
    if a.out.is_some() || a.geojson.is_none() {
        rows.csv(a.out.as_deref())?;
    }
    Ok(())
}

fn parse_model(s: &str) -> anyhow::Result<TrendModel> {
    s.parse().map_err(|e: String| anyhow!(e))
}

/// `needmap project`.
pub fn project(a: &ProjectArgs) -> anyhow::Result<()> {
    let model = parse_model(&a.model)?;
    if a.horizon == 0 {
        bail!("--horizon must be at least 1");
    }
    check_alpha("--level", a.level)?;
    if a.draws < 100 {
        bail!("--draws must be at least 100");
    }
    let population = a
        .population
        .as_deref()
        .map(read_population_projection)
        .transpose()
        .map_err(|e| anyhow!(e))?;
    let atlas = load(&a.ws)?;
    let req = ProjectionRequest {
        series: series(&atlas, &a.series)?,
        options: ProjectionOptions {
            horizon: a.horizon,
            model,
            level: a.level,
            draws: a.draws,
            seed: a.seed,
            shrink: !a.no_shrink,
        },
        population,
    };
    let role = role(a.exact);
    let policy = atlas.config.privacy.policy();
    if let Some(k) = a.backtest {
        let bt = atlas.backtest_study(&req, k).map_err(|e| anyhow!(e))?;
        eprintln!(
            "backtest of model {}: fitted on {} complete periods, {} held back; {} areas",
            bt.model.label(),
            bt.fitted_periods,
            bt.holdout,
            bt.areas
        );
        let headers: Vec<String> = [
            "horizon",
            "period",
            "mae",
            "mape_pct",
            "wape_pct",
            "coverage",
            "total_actual",
            "total_projected",
            "total_lower",
            "total_upper",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let f2 = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_default();
        let mut rows: Vec<Vec<String>> = bt
            .by_horizon
            .iter()
            .map(|s| {
                vec![
                    s.horizon.to_string(),
                    s.period.label(),
                    f2(Some(s.mae)),
                    f2(s.mape_pct),
                    f2(s.wape_pct),
                    f2(Some(s.coverage)),
                    policy.count(s.total_actual as f64, role).to_string(),
                    policy.count(s.total_projected, role).to_string(),
                    policy.count(s.total_lower, role).to_string(),
                    policy.count(s.total_upper, role).to_string(),
                ]
            })
            .collect();
        rows.push(vec![
            "all".into(),
            String::new(),
            f2(Some(bt.mae)),
            f2(bt.mape_pct),
            f2(bt.wape_pct),
            f2(Some(bt.coverage)),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
        print!("{}", writers::text_table(&headers, &rows));
        println!(
            "per area: MAE {:.3} referrals (level model {:.3}), MAPE {} % over {} cells with referrals, WAPE {} %, {:.1} % of {} cells inside the {:.0} % interval; region total: MAE {:.1}, MAPE {} %, {:.0} % of periods inside",
            bt.mae,
            bt.baseline_mae,
            f2(bt.mape_pct),
            bt.mape_cells,
            f2(bt.wape_pct),
            bt.coverage * 100.0,
            bt.cells,
            bt.level * 100.0,
            bt.total_mae,
            f2(bt.total_mape_pct),
            bt.total_coverage * 100.0
        );
    }
    let st = atlas.projection_study(&req).map_err(|e| anyhow!(e))?;
    let p = &st.projection;
    eprintln!(
        "model {} fitted on {} complete periods {}..{}; {} periods projected; pooled dispersion {:.3}{}; {:.0} % intervals by simulation ({} draws, seed {}){}",
        model.label(),
        p.fitted.len(),
        p.fitted.first().map(|k| k.label()).unwrap_or_default(),
        p.fitted.last().map(|k| k.label()).unwrap_or_default(),
        p.periods.len(),
        p.dispersion,
        match (p.regional_slope_per_year, p.between_area_slope_variance) {
            (Some(b), Some(t2)) => format!(
                "; slopes shrunk towards the regional {:+.1} % a year (between-area variance {t2:.4})",
                (b.exp() - 1.0) * 100.0
            ),
            _ => String::new(),
        },
        a.level * 100.0,
        a.draws,
        a.seed,
        st.population_matched
            .map(|m| format!("; population projection matched {m} of {} areas", atlas.areas.len()))
            .unwrap_or_default()
    );
    let headers: Vec<String> = [
        "area_id",
        "name",
        "model",
        "growth_pct_per_year",
        "period",
        "projected",
        "lower",
        "upper",
        "population_factor",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let shown = |v: f64| -> String {
        if role.exact() {
            format!("{:.3}", v)
        } else {
            policy.count(v, role).to_string()
        }
    };
    let mut rows = Vec::new();
    let totals = st.counts.totals();
    for (i, ap) in p.areas.iter().enumerate() {
        let area = &atlas.areas[i];
        for s in &ap.steps {
            rows.push(vec![
                area.code.clone(),
                area.name.clone().unwrap_or_default(),
                ap.model.label(),
                cell(&growth_pct(
                    ap.rate_ratio_per_year,
                    totals[i],
                    role,
                    &policy,
                )),
                s.period.label(),
                shown(s.mean),
                shown(s.lower),
                shown(s.upper),
                format!("{:.4}", s.population_factor),
            ]);
        }
    }
    for s in &p.total {
        rows.push(vec![
            "ALL".into(),
            "region total".into(),
            model.label(),
            String::new(),
            s.period.label(),
            shown(s.mean),
            shown(s.lower),
            shown(s.upper),
            format!("{:.4}", s.population_factor),
        ]);
    }
    if a.out.is_none() {
        let n = rows.len();
        rows.drain(..n - p.total.len());
    }
    emit_table(headers, rows, a.out.as_deref())?;
    Ok(())
}

/// `needmap early-warning`.
pub fn early_warning(a: &EarlyWarningArgs) -> anyhow::Result<()> {
    check_alpha("--alpha", a.alpha)?;
    let test: TrendTest = a.test.parse().map_err(|e: String| anyhow!(e))?;
    let weights: WeightsSpec = a.weights.parse().map_err(|e: String| anyhow!(e))?;
    let model = parse_model(&a.model)?;
    if a.demand_out.is_some() && !a.exact {
        bail!("the demand vector is a planning input: add --exact (planner use) to write it");
    }
    let hotspot_confidence = match a.hotspot_confidence {
        0 => None,
        c @ (90 | 95 | 99) => Some(c),
        c => bail!("--hotspot-confidence {c}: use 90, 95, 99 or 0"),
    };
    let population = a
        .population
        .as_deref()
        .map(read_population_projection)
        .transpose()
        .map_err(|e| anyhow!(e))?;
    let atlas = load(&a.ws)?;
    let req = EarlyWarningRequest {
        series: series(&atlas, &a.series)?,
        trend: TrendOptions {
            test,
            alpha: a.alpha,
            ..TrendOptions::default()
        },
        weights,
        hotspot: HotspotOptions {
            permutations: 0,
            alpha: a.alpha,
            ..HotspotOptions::default()
        },
        emerging: EmergingOptions {
            alpha: a.alpha,
            ..EmergingOptions::default()
        },
        projection: ProjectionOptions {
            horizon: a.horizon,
            model,
            seed: a.seed,
            ..ProjectionOptions::default()
        },
        population,
        rules: WarningRules {
            rate_per_1000_min: a.rate_min,
            growth_per_year_min: (a.growth_min >= 0.0).then_some(a.growth_min),
            require_significant_growth: !a.any_growth,
            hotspot_confidence,
            emerging: !a.no_emerging,
            min_reasons: a.min_reasons.max(1),
        },
    };
    let st = atlas.early_warning_study(&req).map_err(|e| anyhow!(e))?;
    let role = role(a.exact);
    let policy = atlas.config.privacy.policy();
    let years = st.result.recent_periods as f64
        / crate::analysis::trends::periods_per_year(st.trends.period);
    eprintln!(
        "{} of {} areas flagged (rules: rate ≥ {}, growth ≥ {}{}, hot spot ≥ {}, emerging hot spots {}; at least {} reason(s)); demand is projected referrals per {} at {} periods ahead",
        st.result.warnings.len(),
        atlas.areas.len(),
        a.rate_min.map(|r| format!("{r}/1,000/yr")).unwrap_or_else(|| "off".into()),
        if a.growth_min >= 0.0 { format!("{:.0} %/yr", a.growth_min * 100.0) } else { "off".into() },
        if a.any_growth { "" } else { " and rising after FDR" },
        hotspot_confidence.map(|c| format!("{c} %")).unwrap_or_else(|| "off".into()),
        if a.no_emerging { "off" } else { "on" },
        a.min_reasons.max(1),
        period_name(st.trends.period),
        a.horizon
    );
    let headers: Vec<String> = [
        "rank",
        "area_id",
        "name",
        "reasons",
        "recent_referrals",
        "recent_rate_per_1000_per_year",
        "growth_pct_per_year",
        "q",
        "hot_spot",
        "emerging",
        "projected",
        "projected_upper",
        "demand",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut rows = Rows::new(headers);
    let shown = |v: Option<f64>| -> Value {
        match v {
            Some(v) if role.exact() => json!(v),
            Some(v) => count_json(policy.count(v, role)),
            None => Value::Null,
        }
    };
    for (k, w) in st.result.warnings.iter().enumerate() {
        let i = w.area.index();
        let area = &atlas.areas[i];
        let reasons: Vec<&str> = w.reasons.iter().map(|r| r.name()).collect();
        rows.rows.push((
            i,
            vec![
                json!(k + 1),
                json!(area.code),
                json!(area.name),
                json!(reasons.join(";")),
                count_json(policy.count(w.recent_referrals as f64, role)),
                rate_per_year(w.recent_referrals, area.population, years, role, &policy),
                growth_pct(
                    w.growth_per_year.map(|g| g + 1.0),
                    st.trends.areas[i].total,
                    role,
                    &policy,
                ),
                fmt_p(w.q, a.exact),
                json!(w.hotspot.map(|h| h.name())),
                json!(w.emerging.map(|e| e.name())),
                shown(w.projected),
                shown(w.projected_upper),
                shown(Some(w.demand)),
            ],
        ));
    }
    if let Some(p) = &a.geojson {
        rows.geojson(
            &atlas,
            p,
            &[
                "rank",
                "reasons",
                "growth_pct_per_year",
                "hot_spot",
                "emerging",
                "projected",
                "demand",
            ],
        )?;
    }
    if let Some(p) = &a.demand_out {
        let rows: Vec<Vec<String>> = atlas
            .areas
            .iter()
            .zip(&st.result.demand)
            .map(|(area, d)| vec![area.code.clone(), format!("{d}")])
            .collect();
        emit_table(vec!["id".into(), "value".into()], rows, Some(p))?;
    }
    if a.out.is_some() || a.geojson.is_none() {
        rows.csv(a.out.as_deref())?;
    }
    Ok(())
}
