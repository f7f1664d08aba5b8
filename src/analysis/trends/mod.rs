//! Trends in referrals per area: counts per complete period, a trend test per
//! area, the false discovery rate across areas, and a ranking of the areas
//! whose rate rises fastest.
//!
//! - [`periods`]: months, quarters and years; counts per area per complete period.
//! - [`mann_kendall`]: the Mann-Kendall test (tie and continuity corrections)
//!   and Sen's slope with its confidence interval.
//! - [`poisson`]: a Poisson log-linear trend fitted by IRLS, with Wald z.
//! - [`fdr`]: Benjamini-Hochberg q-values.
//! - [`normal`]: erfc, the normal CDF and quantile (to about 1e-14).
//!
//! **The trend table.** For each area, the series is the rate per 1,000
//! residents per complete period (the count where the population is
//! unknown). The chosen test gives a p-value per area: Mann-Kendall on the
//! series, or the Poisson trend's slope (quasi-Poisson Wald test: the
//! covariance scaled by the Pearson dispersion when that exceeds 1, so
//! extra-Poisson variation does not make every area "significant").
//! Benjamini-Hochberg q-values are taken across the areas tested; an area
//! is `rising` or `falling` when `q ≤ α`. Rising areas are ranked by Sen's
//! slope of the rate per 1,000 per year (Mann-Kendall; areas without a
//! population are not ranked) or by the Poisson rate ratio per year.

pub mod fdr;
pub mod mann_kendall;
pub mod normal;
pub mod periods;
pub mod poisson;

use serde::Serialize;

use crate::config::Period;
use crate::model::AreaId;

pub use fdr::{benjamini_hochberg, benjamini_hochberg_all};
pub use mann_kendall::{mann_kendall, sens_slope, MannKendall, SenSlope};
pub use normal::{erfc, normal_cdf, normal_quantile, normal_sf, two_sided_p};
pub use periods::{
    complete_periods, extract_range, parse_period, period_counts, period_name, periods_per_year,
    DateRange, PeriodCounts, PeriodKey,
};
pub use poisson::{fit_poisson_level, fit_poisson_trend, PoissonTrend};

/// Which test decides whether an area's series has a trend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendTest {
    /// Mann-Kendall on the rate series (rank based, robust to outliers).
    #[default]
    MannKendall,
    /// The slope of a Poisson log-linear trend (quasi-Poisson Wald test).
    Poisson,
}

impl std::str::FromStr for TrendTest {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "mann-kendall" | "mann_kendall" | "mk" => Ok(TrendTest::MannKendall),
            "poisson" => Ok(TrendTest::Poisson),
            _ => Err(format!("test {s:?} is not one of mann-kendall, poisson")),
        }
    }
}

/// Settings of the trend table.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct TrendOptions {
    pub test: TrendTest,
    /// False discovery rate at which an area's trend counts (0.05).
    pub alpha: f64,
    /// Confidence of Sen's slope interval (0.95).
    pub confidence: f64,
}

impl Default for TrendOptions {
    fn default() -> Self {
        TrendOptions {
            test: TrendTest::MannKendall,
            alpha: 0.05,
            confidence: 0.95,
        }
    }
}

/// Direction of an area's trend after the false discovery rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Rising,
    Falling,
    /// Tested, `q > α`.
    NoTrend,
    /// Too few periods, or a constant series.
    Untested,
}

impl Direction {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Rising => "rising",
            Direction::Falling => "falling",
            Direction::NoTrend => "no_trend",
            Direction::Untested => "untested",
        }
    }
}

/// The trend of one area.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AreaTrend {
    pub area: AreaId,
    /// Referrals per complete period.
    pub counts: Vec<u64>,
    pub total: u64,
    pub population: Option<f64>,
    /// Referrals per 1,000 residents per year over the complete periods.
    pub rate_per_1000_per_year: Option<f64>,
    pub mann_kendall: Option<MannKendall>,
    /// Sen's slope per year, of the rate per 1,000 (or of the count where the
    /// population is unknown; see `per_1000`), with its confidence interval.
    pub sen_slope_per_year: Option<f64>,
    pub sen_lower_per_year: Option<f64>,
    pub sen_upper_per_year: Option<f64>,
    /// Whether the series (and Sen's slope) is per 1,000 residents.
    pub per_1000: bool,
    /// Poisson log-linear trend with time in years.
    pub poisson: Option<PoissonTrend>,
    /// `exp(slope)` of the Poisson trend: the rate ratio per year.
    pub rate_ratio_per_year: Option<f64>,
    /// p-value of the chosen test.
    pub p: Option<f64>,
    /// Benjamini-Hochberg q-value across the areas tested.
    pub q: Option<f64>,
    pub direction: Direction,
    /// 1 = the fastest significant rise.
    pub rank: Option<usize>,
}

/// Trends of every area, in area order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrendTable {
    #[serde(serialize_with = "periods::serialize_period")]
    pub period: Period,
    /// The complete periods the series cover.
    pub periods: Vec<PeriodKey>,
    /// Periods left out because the extract covers them only in part.
    pub partial: Vec<PeriodKey>,
    pub options: TrendOptions,
    pub areas: Vec<AreaTrend>,
}

impl TrendTable {
    /// The significantly rising areas, fastest first.
    pub fn rising(&self) -> Vec<&AreaTrend> {
        let mut r: Vec<&AreaTrend> = self.areas.iter().filter(|a| a.rank.is_some()).collect();
        r.sort_by_key(|a| a.rank);
        r
    }
}

/// The trend of each area's series (see the module notes).
pub fn trend_table(
    counts: &PeriodCounts,
    population: &[Option<f64>],
    opts: &TrendOptions,
) -> TrendTable {
    let ppy = periods_per_year(counts.period);
    let years = counts.len() as f64 / ppy;
    let t = counts.times_years();
    let rates = counts.rates_per_1000(population);
    let mut areas: Vec<AreaTrend> = counts
        .counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let total: u64 = c.iter().sum();
            let pop = population.get(i).copied().flatten();
            let series: Vec<f64> = match &rates[i] {
                Some(r) => r.clone(),
                None => c.iter().map(|&n| n as f64).collect(),
            };
            let mk = mann_kendall(&series);
            let sen = sens_slope(&series, opts.confidence);
            let y: Vec<f64> = c.iter().map(|&n| n as f64).collect();
            let poisson = fit_poisson_trend(&y, &t, None);
            let p = match opts.test {
                TrendTest::MannKendall => mk.map(|m| m.p),
                TrendTest::Poisson => poisson.map(|f| f.p_quasi()),
            };
            AreaTrend {
                area: AreaId(i as u32),
                counts: c.clone(),
                total,
                population: pop,
                rate_per_1000_per_year: rates[i]
                    .as_ref()
                    .and(pop)
                    .filter(|_| years > 0.0)
                    .map(|p| total as f64 * 1000.0 / p / years),
                mann_kendall: mk,
                sen_slope_per_year: sen.map(|s| s.slope * ppy),
                sen_lower_per_year: sen.and_then(|s| s.lower).map(|v| v * ppy),
                sen_upper_per_year: sen.and_then(|s| s.upper).map(|v| v * ppy),
                per_1000: rates[i].is_some(),
                rate_ratio_per_year: poisson.map(|f| f.rate_ratio()),
                poisson,
                p,
                q: None,
                direction: Direction::Untested,
                rank: None,
            }
        })
        .collect();
    let p: Vec<Option<f64>> = areas.iter().map(|a| a.p).collect();
    let q = benjamini_hochberg(&p);
    for (a, q) in areas.iter_mut().zip(q) {
        a.q = q;
        let up = match opts.test {
            TrendTest::MannKendall => a.mann_kendall.map(|m| m.s > 0),
            TrendTest::Poisson => a.poisson.map(|f| f.slope > 0.0),
        };
        a.direction = match (q, up) {
            (Some(q), Some(true)) if q <= opts.alpha => Direction::Rising,
            (Some(q), Some(false)) if q <= opts.alpha => Direction::Falling,
            (Some(_), _) => Direction::NoTrend,
            (None, _) => Direction::Untested,
        };
    }
    // Rank the rising areas.
    let key = |a: &AreaTrend| -> Option<f64> {
        match opts.test {
            TrendTest::MannKendall => a.sen_slope_per_year.filter(|_| a.per_1000),
            TrendTest::Poisson => a.rate_ratio_per_year,
        }
    };
    let mut rising: Vec<(usize, f64)> = areas
        .iter()
        .enumerate()
        .filter(|(_, a)| a.direction == Direction::Rising)
        .filter_map(|(i, a)| key(a).map(|k| (i, k)))
        .collect();
    rising.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    for (r, (i, _)) in rising.into_iter().enumerate() {
        areas[i].rank = Some(r + 1);
    }
    TrendTable {
        period: counts.period,
        periods: counts.periods.clone(),
        partial: counts.partial.clone(),
        options: *opts,
        areas,
    }
}
