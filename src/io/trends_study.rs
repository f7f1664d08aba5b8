//! Trends, hot spots, emerging hot spots, projected demand and the
//! early-warning list on a loaded [`Atlas`], shared by the CLI and the
//! server; and the files they read and write (population projections, GAL
//! neighbour lists).
//!
//! The analyses themselves are in [`crate::analysis::trends`],
//! [`crate::analysis::hotspots`], [`crate::analysis::projection`] and
//! [`crate::analysis::early_warning`]. Results here are exact: disclosure
//! control is the caller's (the CLI's writers, the server's routes).

use std::io::Write as _;
use std::path::Path;

use crate::analysis::access::representative_point;
use crate::analysis::boundaries::{Adjacency, Contiguity};
use crate::analysis::early_warning::{early_warning, EarlyWarning, WarningInputs, WarningRules};
use crate::analysis::hotspots::{
    emerging_hotspots, hotspot_table, EmergingCategory, EmergingHotspots, EmergingOptions,
    HotspotClass, HotspotOptions, HotspotTable, SpatialWeights,
};
use crate::analysis::projection::{
    backtest, population_factors, project, Backtest, PopulationProjection, Projection,
    ProjectionOptions,
};
use crate::analysis::trends::{
    period_counts, periods_per_year, trend_table, DateRange, PeriodCounts, TrendOptions, TrendTable,
};
use crate::config::Period;

use super::table::{open_csv, parse_number};
use super::workspace::Atlas;

/// Which referrals and which periods.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeriesRequest {
    pub period: Period,
    /// Only this client group (all when `None`).
    pub group: Option<String>,
    /// The days the extract covers (default: first to last timed referral).
    pub range: Option<DateRange>,
}

/// Spatial weights on the small areas.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum WeightsSpec {
    /// Shared boundary edge.
    #[default]
    Rook,
    /// Shared boundary vertex.
    Queen,
    /// Representative points within a distance.
    DistanceBand { threshold_m: f64 },
}

impl std::str::FromStr for WeightsSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rook" => Ok(WeightsSpec::Rook),
            "queen" => Ok(WeightsSpec::Queen),
            _ => {
                let d = s
                    .strip_prefix("distance:")
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|d| d.is_finite() && *d > 0.0)
                    .ok_or_else(|| {
                        format!("weights {s:?} are not one of rook, queen, distance:METRES")
                    })?;
                Ok(WeightsSpec::DistanceBand { threshold_m: d })
            }
        }
    }
}

impl WeightsSpec {
    /// In words.
    pub fn describe(&self) -> String {
        match self {
            WeightsSpec::Rook => "rook contiguity".into(),
            WeightsSpec::Queen => "queen contiguity".into(),
            WeightsSpec::DistanceBand { threshold_m } => {
                format!("representative points within {threshold_m} m")
            }
        }
    }
}

/// The value hot spots are computed on.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum HotspotValue {
    /// Referrals per 1,000 residents per year over the complete periods.
    #[default]
    Rate,
    /// Referrals over the complete periods.
    Count,
    /// A numeric attribute or indicator column of the areas.
    Column(String),
}

impl std::str::FromStr for HotspotValue {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "rate" => HotspotValue::Rate,
            "count" => HotspotValue::Count,
            "" => return Err("name a value: rate, count or a column".into()),
            c => HotspotValue::Column(c.to_string()),
        })
    }
}

/// A hot spot request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HotspotRequest {
    pub value: HotspotValue,
    pub series: SeriesRequest,
    pub weights: WeightsSpec,
    pub options: HotspotOptions,
}

/// Hot spots of one value over the areas that have it.
pub struct HotspotStudy {
    /// The value per area (`None`: left out).
    pub values: Vec<Option<f64>>,
    /// Referrals behind each value (rate and count), for disclosure control.
    pub counts: Option<Vec<u64>>,
    /// The areas analysed, in area order; the table is indexed like this.
    pub included: Vec<usize>,
    /// Area → position in `included`.
    pub position: Vec<Option<usize>>,
    pub table: HotspotTable,
    /// Analysed areas with no neighbour among the analysed.
    pub islands: Vec<usize>,
    /// The weights among the analysed areas (binary, without the diagonal).
    pub weights: SpatialWeights,
    /// The complete periods behind a referral value.
    pub series: Option<PeriodCounts>,
    /// What was computed, in words.
    pub description: String,
}

impl HotspotStudy {
    /// Hot spot class of every area (not significant where left out).
    pub fn classes(&self) -> Vec<HotspotClass> {
        self.position
            .iter()
            .map(|p| p.map_or(HotspotClass::NotSignificant, |k| self.table.class[k]))
            .collect()
    }
}

/// An emerging hot spot request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EmergingRequest {
    pub series: SeriesRequest,
    pub weights: WeightsSpec,
    pub options: EmergingOptions,
}

/// Emerging hot spots over the areas with a population.
pub struct EmergingStudy {
    pub counts: PeriodCounts,
    pub included: Vec<usize>,
    pub position: Vec<Option<usize>>,
    pub result: EmergingHotspots,
    pub description: String,
}

impl EmergingStudy {
    /// Category of every area (no pattern where left out).
    pub fn categories(&self) -> Vec<EmergingCategory> {
        self.position
            .iter()
            .map(|p| {
                p.map_or(EmergingCategory::NoPattern, |k| {
                    self.result.areas[k].category
                })
            })
            .collect()
    }
}

/// A projection request.
#[derive(Clone, Debug, Default)]
pub struct ProjectionRequest {
    pub series: SeriesRequest,
    pub options: ProjectionOptions,
    pub population: Option<PopulationProjection>,
}

/// Projected referrals per area.
pub struct ProjectionStudy {
    pub counts: PeriodCounts,
    pub projection: Projection,
    /// Areas whose code or a parent code is in the population table.
    pub population_matched: Option<usize>,
}

/// An early-warning request.
#[derive(Clone, Debug, Default)]
pub struct EarlyWarningRequest {
    pub series: SeriesRequest,
    pub trend: TrendOptions,
    pub weights: WeightsSpec,
    pub hotspot: HotspotOptions,
    pub emerging: EmergingOptions,
    pub projection: ProjectionOptions,
    pub population: Option<PopulationProjection>,
    pub rules: WarningRules,
}

/// The early-warning list with the analyses behind it.
pub struct EarlyWarningStudy {
    pub trends: TrendTable,
    pub hotspots: Option<HotspotStudy>,
    pub emerging: Option<EmergingStudy>,
    pub projection: ProjectionStudy,
    pub result: EarlyWarning,
}

impl Atlas {
    /// Population of each area.
    pub fn area_populations(&self) -> Vec<Option<f64>> {
        self.areas.iter().map(|a| a.population).collect()
    }

    /// Each area's code followed by its parent codes (nearest first).
    pub fn area_code_chains(&self) -> Vec<Vec<String>> {
        self.areas
            .iter()
            .map(|a| {
                let mut c = vec![a.code.clone()];
                c.extend(
                    self.parent_columns
                        .iter()
                        .filter_map(|col| a.attribute_text(col)),
                );
                c
            })
            .collect()
    }

    /// Referrals per area per complete period; the error names the groups there are.
    pub fn period_counts(&self, req: &SeriesRequest) -> Result<PeriodCounts, String> {
        let keep = self.group_filter(req.group.as_deref())?;
        if let Some(r) = req.range {
            if r.first > r.last {
                return Err(format!("the range {} to {} is empty", r.first, r.last));
            }
        }
        Ok(period_counts(
            self.areas.len(),
            &self.referrals,
            req.period,
            req.range,
            keep,
        ))
    }

    /// The trend table of one client group (or all referrals).
    pub fn trend_study(
        &self,
        req: &SeriesRequest,
        opts: &TrendOptions,
    ) -> Result<TrendTable, String> {
        let counts = self.period_counts(req)?;
        if counts.len() < 3 {
            return Err(format!(
                "{} complete {}s in the extract: a trend needs at least 3",
                counts.len(),
                crate::analysis::trends::period_name(req.period)
            ));
        }
        Ok(trend_table(&counts, &self.area_populations(), opts))
    }

    /// The trend table of every client group, in group order.
    pub fn trend_study_by_group(
        &self,
        req: &SeriesRequest,
        opts: &TrendOptions,
    ) -> Result<Vec<(String, TrendTable)>, String> {
        self.referrals
            .groups
            .iter()
            .map(|g| {
                let r = SeriesRequest {
                    group: Some(g.clone()),
                    ..req.clone()
                };
                Ok((g.clone(), self.trend_study(&r, opts)?))
            })
            .collect()
    }

    /// Binary spatial weights on all areas (without the diagonal).
    pub fn spatial_weights(&self, spec: &WeightsSpec) -> SpatialWeights {
        match spec {
            WeightsSpec::Rook | WeightsSpec::Queen => {
                let geoms: Vec<&geo::MultiPolygon<f64>> =
                    self.areas.iter().map(|a| &a.geometry).collect();
                let c = if *spec == WeightsSpec::Rook {
                    Contiguity::Rook
                } else {
                    Contiguity::Queen
                };
                SpatialWeights::from_adjacency(&Adjacency::from_polygons(&geoms, c, 0.01))
            }
            WeightsSpec::DistanceBand { threshold_m } => {
                let points: Vec<[f64; 2]> = self
                    .areas
                    .iter()
                    .map(|a| representative_point(&a.geometry).unwrap_or([f64::NAN, f64::NAN]))
                    .collect();
                SpatialWeights::distance_band(&points, *threshold_m)
            }
        }
    }

    /// Gi* and local Moran's I of a value (see [`HotspotValue`]).
    pub fn hotspot_study(&self, req: &HotspotRequest) -> Result<HotspotStudy, String> {
        let (values, counts, series, what): (Vec<Option<f64>>, Option<Vec<u64>>, _, String) =
            match &req.value {
                HotspotValue::Rate | HotspotValue::Count => {
                    let c = self.period_counts(&req.series)?;
                    if c.is_empty() {
                        return Err("no complete period of timed referrals in the extract".into());
                    }
                    let years = c.len() as f64 / periods_per_year(c.period);
                    let totals = c.totals();
                    let values = if req.value == HotspotValue::Rate {
                        self.areas
                            .iter()
                            .zip(&totals)
                            .map(|(a, &n)| {
                                a.population
                                    .filter(|p| *p > 0.0)
                                    .map(|p| n as f64 * 1000.0 / p / years)
                            })
                            .collect()
                    } else {
                        totals.iter().map(|&n| Some(n as f64)).collect()
                    };
                    let what = format!(
                        "referrals{} {} over {} complete {}s {}..{}",
                        req.series
                            .group
                            .as_ref()
                            .map(|g| format!(" of group {g}"))
                            .unwrap_or_default(),
                        if req.value == HotspotValue::Rate {
                            "per 1,000 residents per year"
                        } else {
                            "counted"
                        },
                        c.len(),
                        crate::analysis::trends::period_name(c.period),
                        c.periods.first().map(|p| p.label()).unwrap_or_default(),
                        c.periods.last().map(|p| p.label()).unwrap_or_default(),
                    );
                    (values, Some(totals), Some(c), what)
                }
                HotspotValue::Column(col) => {
                    let values: Vec<Option<f64>> = self
                        .areas
                        .iter()
                        .map(|a| match col.as_str() {
                            "population" => a.population,
                            _ => a.numbers.get(col).copied(),
                        })
                        .collect();
                    if values.iter().all(|v| v.is_none()) {
                        let mut cols = self.indicator_columns.clone();
                        cols.sort();
                        return Err(format!(
                            "no area has a number in column {col:?}; use rate, count, population or one of: {}",
                            cols.join(", ")
                        ));
                    }
                    (values, None, None, format!("column {col}"))
                }
            };
        let included: Vec<usize> = (0..values.len())
            .filter(|&i| values[i].is_some_and(|v| v.is_finite()))
            .collect();
        if included.len() < 3 {
            return Err("fewer than 3 areas have the value".into());
        }
        let mut position = vec![None; values.len()];
        for (k, &i) in included.iter().enumerate() {
            position[i] = Some(k);
        }
        let weights = self.spatial_weights(&req.weights).subset(&included);
        let v: Vec<f64> = included.iter().map(|&i| values[i].unwrap_or(0.0)).collect();
        let table = hotspot_table(&v, &weights, &req.options);
        let islands: Vec<usize> = weights.islands().into_iter().map(|k| included[k]).collect();
        let description = format!(
            "Gi* ({:?} weights) and local Moran's I (row-standardised, {} permutations) of {what}; {} areas ({} left out without a value), {} with no neighbour; {}; {} mean neighbours; classes from {}",
            req.options.standardisation,
            req.options.permutations,
            included.len(),
            values.len() - included.len(),
            islands.len(),
            req.weights.describe(),
            (weights.mean_neighbours() * 100.0).round() / 100.0,
            if req.options.fdr { "Benjamini-Hochberg q-values" } else { "p-values" },
        );
        Ok(HotspotStudy {
            values,
            counts,
            included,
            position,
            table,
            islands,
            weights,
            series,
            description,
        })
    }

    /// Emerging hot spots of the per-period rates per 1,000 (areas with a population).
    pub fn emerging_study(&self, req: &EmergingRequest) -> Result<EmergingStudy, String> {
        let counts = self.period_counts(&req.series)?;
        if counts.len() < 3 {
            return Err(format!(
                "{} complete periods: emerging hot spots need at least 3",
                counts.len()
            ));
        }
        let rates = counts.rates_per_1000(&self.area_populations());
        let included: Vec<usize> = (0..rates.len()).filter(|&i| rates[i].is_some()).collect();
        if included.len() < 3 {
            return Err("fewer than 3 areas have a population".into());
        }
        let mut position = vec![None; rates.len()];
        for (k, &i) in included.iter().enumerate() {
            position[i] = Some(k);
        }
        let weights = self.spatial_weights(&req.weights).subset(&included);
        let by_period: Vec<Vec<f64>> = (0..counts.len())
            .map(|k| {
                included
                    .iter()
                    .map(|&i| rates[i].as_ref().map_or(0.0, |r| r[k]))
                    .collect()
            })
            .collect();
        let result = emerging_hotspots(&by_period, &weights, &req.options);
        let description = format!(
            "Gi* ({:?}) of the referral rate per 1,000 in each of {} complete {}s {}..{}, {}, bins significant at {} ({}); Mann-Kendall trend of each area's z at {}",
            req.options.standardisation,
            counts.len(),
            crate::analysis::trends::period_name(counts.period),
            counts.periods.first().map(|p| p.label()).unwrap_or_default(),
            counts.periods.last().map(|p| p.label()).unwrap_or_default(),
            req.weights.describe(),
            req.options.alpha,
            if req.options.fdr { "Benjamini-Hochberg within each period" } else { "p-values" },
            req.options.trend_alpha,
        );
        Ok(EmergingStudy {
            counts,
            included,
            position,
            result,
            description,
        })
    }

    /// Projected referrals per area.
    pub fn projection_study(&self, req: &ProjectionRequest) -> Result<ProjectionStudy, String> {
        if req.options.horizon == 0 {
            return Err("the horizon must be at least 1 period".into());
        }
        if !(req.options.level > 0.0 && req.options.level < 1.0) {
            return Err("the interval level must be between 0 and 1 (e.g. 0.95)".into());
        }
        let counts = self.period_counts(&req.series)?;
        if counts.len() < 3 {
            return Err(format!(
                "{} complete periods: a projection needs at least 3",
                counts.len()
            ));
        }
        let (factors, matched) = match (&req.population, counts.periods.last()) {
            (Some(table), Some(&last)) => {
                let (f, m) =
                    population_factors(&self.area_code_chains(), table, last, req.options.horizon);
                (Some(f), Some(m))
            }
            _ => (None, None),
        };
        let projection = project(&counts, &req.options, factors.as_deref());
        Ok(ProjectionStudy {
            counts,
            projection,
            population_matched: matched,
        })
    }

    /// Backtest: hold back the last `holdout` complete periods.
    pub fn backtest_study(
        &self,
        req: &ProjectionRequest,
        holdout: usize,
    ) -> Result<Backtest, String> {
        let counts = self.period_counts(&req.series)?;
        backtest(&counts, holdout, &req.options)
    }

    /// The early-warning list: trends, hot spots of the rate, emerging hot
    /// spots and projections, then the rules.
    pub fn early_warning_study(
        &self,
        req: &EarlyWarningRequest,
    ) -> Result<EarlyWarningStudy, String> {
        let trends = self.trend_study(&req.series, &req.trend)?;
        let hotspots = match req.rules.hotspot_confidence {
            Some(_) => Some(self.hotspot_study(&HotspotRequest {
                value: HotspotValue::Rate,
                series: req.series.clone(),
                weights: req.weights,
                options: req.hotspot,
            })?),
            None => None,
        };
        let emerging = if req.rules.emerging {
            Some(self.emerging_study(&EmergingRequest {
                series: req.series.clone(),
                weights: req.weights,
                options: req.emerging,
            })?)
        } else {
            None
        };
        let projection = self.projection_study(&ProjectionRequest {
            series: req.series.clone(),
            options: req.projection,
            population: req.population.clone(),
        })?;
        let classes = hotspots.as_ref().map(|h| h.classes());
        let categories = emerging.as_ref().map(|e| e.categories());
        let result = early_warning(
            &WarningInputs {
                trends: &trends,
                hotspots: classes.as_deref(),
                emerging: categories.as_deref(),
                projection: Some(&projection.projection),
            },
            &req.rules,
        );
        Ok(EarlyWarningStudy {
            trends,
            hotspots,
            emerging,
            projection,
            result,
        })
    }
}

/// Growth per year in percent as it may be published: exact for planners
/// (`exact`); for everyone else rounded to 5 % and withheld (`None`) where the
/// area's total, as published (`total_shown`), is withheld. `rate_ratio` is
/// the rate ratio per year (1.1 = 10 % a year).
pub fn published_growth_pct(
    rate_ratio: Option<f64>,
    total_shown: &crate::privacy::Count,
    exact: bool,
) -> Option<f64> {
    let g = rate_ratio
        .map(|r| (r - 1.0) * 100.0)
        .filter(|g| g.is_finite())?;
    if exact {
        Some(g)
    } else {
        total_shown.value().map(|_| (g / 5.0).round() * 5.0)
    }
}

/// A p- or q-value as it may be published: full precision for planners,
/// 3 decimals for everyone else (0 below 0.0005); `None` where undefined.
pub fn published_p(p: Option<f64>, exact: bool) -> Option<f64> {
    let p = p.filter(|p| p.is_finite())?;
    Some(if exact {
        p
    } else {
        (p * 1000.0).round() / 1000.0
    })
}

/// Read a population projection: a CSV with a code column (`code`, `area`,
/// `area_code` or `parent_code`: an area code or a parent code such as a
/// council), `year` and `population`. The error names the file, the row
/// and the problem.
pub fn read_population_projection(path: &Path) -> Result<PopulationProjection, String> {
    let display = path.display().to_string();
    let mut report = super::report::Report::new();
    let Some((mut reader, headers)) = open_csv(path, &display, &mut report) else {
        return Err(report.to_string());
    };
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let code = find(&["code", "area", "area_code", "parent_code", "area_id"]);
    let year = find(&["year"]);
    let pop = find(&["population", "pop"]);
    let (Some(code), Some(year), Some(pop)) = (code, year, pop) else {
        return Err(format!(
            "{display}: needs columns code (or area, area_code, parent_code), year and population; found {}",
            headers.join(", ")
        ));
    };
    let mut table = PopulationProjection::default();
    for (k, rec) in reader.records().enumerate() {
        let row = k + 1;
        let rec = rec.map_err(|e| format!("{display}: row {row}: {e}"))?;
        let c = rec.get(code).unwrap_or("").trim();
        if c.is_empty() {
            return Err(format!("{display}: row {row}: no code"));
        }
        let y = rec
            .get(year)
            .and_then(|v| v.trim().parse::<i32>().ok())
            .filter(|y| (1800..=2200).contains(y))
            .ok_or_else(|| format!("{display}: row {row}: year is not a year"))?;
        let p = rec
            .get(pop)
            .and_then(parse_number)
            .filter(|p| *p >= 0.0)
            .ok_or_else(|| format!("{display}: row {row}: population is not a number of people"))?;
        table.insert(c, y, p);
    }
    if table.by_code.is_empty() {
        return Err(format!("{display}: no rows"));
    }
    Ok(table)
}

/// Write weights as a GAL neighbour list (the format of GeoDa and libpysal:
/// a header `0 n layer key`, then per area a line `id k` and a line of its
/// `k` neighbours' ids), with area codes as ids.
pub fn write_gal(
    path: &Path,
    weights: &SpatialWeights,
    ids: &[&str],
    layer: &str,
    key: &str,
) -> crate::Result<()> {
    let mut out = Vec::new();
    let err = |e: std::io::Error| crate::Error::io(path, e);
    writeln!(out, "0 {} {layer} {key}", weights.len()).map_err(err)?;
    for (i, id) in ids.iter().enumerate().take(weights.len()) {
        let (c, _) = weights.row(i);
        let nb: Vec<&str> = c
            .iter()
            .filter(|&&j| j as usize != i)
            .map(|&j| ids[j as usize])
            .collect();
        writeln!(out, "{id} {}", nb.len()).map_err(err)?;
        writeln!(out, "{}", nb.join(" ")).map_err(err)?;
    }
    std::fs::write(path, out).map_err(err)
}
