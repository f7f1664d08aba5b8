//! Analyses of one kind of premises on a loaded [`Atlas`], shared by the CLI
//! and the server: the premises of the kind, the travel costs from every
//! area to them, and the hours analyses built on those costs.

use chrono::NaiveDate;

use crate::analysis::access::{representative_point, AccessParams, CostMatrix};
use crate::analysis::hours::{reference_monday, Hours};
use crate::model::Referral;

use super::workspace::Atlas;

/// The premises of one kind and the travel costs from every area to them.
pub struct KindStudy<'a> {
    pub atlas: &'a Atlas,
    pub kind: String,
    /// Indices into `atlas.premises`, in order.
    pub idx: Vec<usize>,
    pub sites: Vec<[f64; 2]>,
    /// Representative point of each area.
    pub points: Vec<[f64; 2]>,
    /// Areas to premises, up to `max(threshold_s, 1 h)`.
    pub costs: CostMatrix,
    pub threshold_s: f64,
    pub params: AccessParams,
    /// How travel was costed, in words.
    pub method: String,
}

impl Atlas {
    /// The [`KindStudy`] of a kind; the error names the kinds there are.
    pub fn kind_study(&self, kind: &str, threshold_s: f64) -> Result<KindStudy<'_>, String> {
        self.check_kind(kind)?;
        let idx: Vec<usize> = (0..self.premises.len())
            .filter(|&j| self.premises[j].kind == kind)
            .collect();
        let sites: Vec<[f64; 2]> = idx
            .iter()
            .map(|&j| [self.premises[j].x_m, self.premises[j].y_m])
            .collect();
        let points: Vec<[f64; 2]> = self
            .areas
            .iter()
            .map(|a| representative_point(&a.geometry).unwrap_or([f64::NAN, f64::NAN]))
            .collect();
        let (travel, params) = self.travel();
        let params = AccessParams {
            threshold_s,
            ..params
        };
        let costs = travel.matrix(&points, &sites, &params, threshold_s.max(3600.0));
        Ok(KindStudy {
            atlas: self,
            kind: kind.to_string(),
            method: travel.describe(&params),
            idx,
            sites,
            points,
            costs,
            threshold_s,
            params,
        })
    }

    /// A filter on referrals by client group (all when `None`); the error
    /// names the groups there are.
    pub fn group_filter(
        &self,
        group: Option<&str>,
    ) -> Result<impl Fn(&Referral) -> bool + Send + Sync + Clone, String> {
        let wanted = match group {
            None => None,
            Some(g) => {
                let k = self
                    .referrals
                    .groups
                    .iter()
                    .position(|x| x == g)
                    .ok_or_else(|| {
                        format!(
                            "no client group {g:?}; groups are: {}",
                            self.referrals.groups.join(", ")
                        )
                    })?;
                Some(k as u16)
            }
        };
        Ok(move |r: &Referral| wanted.is_none_or(|w| r.group == Some(w)))
    }

    /// The typical week for slot-by-slot analyses: the first week without a
    /// holiday from the first timed referral (or from 8 January 2024).
    pub fn reference_monday(&self) -> NaiveDate {
        let first = self
            .referrals
            .referrals
            .iter()
            .filter_map(|r| r.received)
            .min()
            .map(|t| t.date())
            .or(NaiveDate::from_ymd_opt(2024, 1, 8))
            .unwrap_or_default();
        reference_monday(first, &self.config.hours.extra_public_holidays)
    }
}

impl KindStudy<'_> {
    /// Parsed opening hours of the premises, in order.
    pub fn hours(&self) -> Vec<Option<&Hours>> {
        self.idx
            .iter()
            .map(|&j| self.atlas.hours[j].as_ref())
            .collect()
    }

    /// The public hours-gap counts at this study's threshold, all groups,
    /// audited against the public release `counts` (see `CountRelease::hours`).
    pub fn public_hours(
        &self,
        counts: &crate::privacy::CountRelease,
    ) -> crate::privacy::release::HoursRelease {
        use crate::analysis::hours::{possible_outcomes, referral_hours};
        let a = self.atlas;
        let flags = referral_hours(
            &a.referrals,
            &self.costs,
            self.threshold_s,
            &self.hours(),
            |_| true,
        );
        let catchment: Vec<Option<u32>> = crate::analysis::access::nearest_by_cost(&self.costs)
            .iter()
            .map(|n| n.map(|x| x.0))
            .collect();
        // Premises never closed: what a reader knows of outcomes that cannot happen.
        let always: Vec<bool> = self
            .idx
            .iter()
            .map(|&j| a.premises[j].opening_hours.as_deref().map(str::trim) == Some("24/7"))
            .collect();
        let possible = possible_outcomes(&self.costs, self.threshold_s, &always);
        counts.hours(&flags, &catchment, self.idx.len(), &possible)
    }

    /// Open share of each hour of the typical week, per premises.
    pub fn open_slots(&self) -> Vec<[f64; 168]> {
        crate::analysis::hours::open_slots(&self.hours(), self.atlas.reference_monday())
    }

    /// Supply of each premises in 2SFCA: its capacity, 1 where unknown.
    pub fn capacity(&self) -> Vec<f64> {
        self.idx
            .iter()
            .map(|&j| self.atlas.premises[j].capacity.unwrap_or(1.0))
            .collect()
    }

    /// Population of each area (0 where unknown).
    pub fn population(&self) -> Vec<f64> {
        self.atlas
            .areas
            .iter()
            .map(|a| a.population.unwrap_or(0.0))
            .collect()
    }
}

/// A label for an hour of the week: `Mo 17:00-18:00`.
pub fn slot_label(h: usize) -> String {
    const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
    let (d, hour) = (h / 24 % 7, h % 24);
    format!("{} {:02}:00-{:02}:00", DAYS[d], hour, hour + 1)
}

/// Demand weight of an area in siting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SitingWeight {
    /// Resident population.
    #[default]
    Population,
    /// Population × need score / 100.
    Need,
    /// Population × a deprivation weight from the SIMD quintile: 2.0 in the
    /// most deprived fifth, then 1.5, 1.0, 0.75, 0.5 (1.0 where unknown).
    Deprivation,
    /// Referrals placed in the area.
    Referrals,
}

impl std::str::FromStr for SitingWeight {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "population" => Ok(SitingWeight::Population),
            "need" => Ok(SitingWeight::Need),
            "deprivation" => Ok(SitingWeight::Deprivation),
            "referrals" => Ok(SitingWeight::Referrals),
            _ => Err(format!(
                "weight {s:?} is not one of population, need, deprivation, referrals"
            )),
        }
    }
}

/// Location-allocation models offered on a workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SitingModel {
    /// Maximal covering within the threshold.
    Mclp,
    /// Minimise weighted travel time.
    PMedian,
    /// Minimise the longest travel time.
    PCenter,
    /// Fewest sites to cover all demand within the threshold.
    Lscp,
}

impl std::str::FromStr for SitingModel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "mclp" => Ok(SitingModel::Mclp),
            "p_median" | "p-median" | "pmedian" => Ok(SitingModel::PMedian),
            "p_center" | "p-center" | "pcenter" => Ok(SitingModel::PCenter),
            "lscp" => Ok(SitingModel::Lscp),
            _ => Err(format!(
                "model {s:?} is not one of mclp, p_median, p_center, lscp"
            )),
        }
    }
}

/// A siting request on a workspace.
#[derive(Clone, Debug)]
pub struct SitingRequest {
    pub model: SitingModel,
    /// Premises kinds that may host the service.
    pub candidates: Vec<String>,
    /// Sites to open (ignored by LSCP).
    pub p: usize,
    pub threshold_s: f64,
    pub weight: SitingWeight,
    /// Premises codes that must stay open.
    pub keep: Vec<String>,
    /// A premises kind already providing the service: areas it covers are not "newly covered".
    pub baseline: Option<String>,
    pub seed: u64,
    /// MCLP only: each site serves at most its premises' capacity (in the
    /// demand weight's units; unknown capacity = unlimited), demand splittable.
    pub capacitated: bool,
}

/// One chosen site.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ChosenSite {
    /// Index into `atlas.premises`.
    pub premises: usize,
    /// Demand weight within the threshold of this site and nearer to it than to any other chosen site.
    pub weight_served: f64,
    pub areas_served: usize,
}

/// Per SIMD quintile (index 0 = most deprived), demand and demand within the threshold.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct QuintileCoverage {
    pub demand: [f64; 5],
    pub covered_before: [f64; 5],
    pub covered_after: [f64; 5],
}

/// The result of a siting request.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SitingResult {
    pub solution: crate::analysis::siting::Solution,
    pub sites: Vec<ChosenSite>,
    /// Per area: the chosen site serving it (index into `atlas.premises`), its travel time,
    /// whether it is within the threshold, and whether the baseline already covered it.
    pub areas: Vec<(Option<usize>, Option<f64>, bool, bool)>,
    pub weights: Vec<f64>,
    pub equity: QuintileCoverage,
    pub method: String,
    pub total_weight: f64,
}

impl Atlas {
    /// Demand weight of each area.
    pub fn siting_weights(&self, weight: SitingWeight) -> Vec<f64> {
        let need = matches!(weight, SitingWeight::Need)
            .then(|| crate::analysis::need_map(&self.areas, &self.referrals, &self.config.need));
        let mut referrals = vec![0.0; self.areas.len()];
        if weight == SitingWeight::Referrals {
            for r in &self.referrals.referrals {
                if let Some(a) = r.area {
                    referrals[a.index()] += 1.0;
                }
            }
        }
        self.areas
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let pop = a.population.unwrap_or(0.0);
                match weight {
                    SitingWeight::Population => pop,
                    SitingWeight::Need => {
                        let n = need.as_ref().and_then(|n| n.areas[i].need_score);
                        pop * n.unwrap_or(0.0) / 100.0
                    }
                    SitingWeight::Deprivation => {
                        let f = match a.simd.map(|s| s.quintile) {
                            Some(1) => 2.0,
                            Some(2) => 1.5,
                            Some(3) => 1.0,
                            Some(4) => 0.75,
                            Some(5) => 0.5,
                            _ => 1.0,
                        };
                        pop * f
                    }
                    SitingWeight::Referrals => referrals[i],
                }
            })
            .collect()
    }

    /// Run a siting request: candidates are the premises of the kinds asked,
    /// costs come from the access engine (road network or straight line).
    pub fn site(&self, req: &SitingRequest) -> Result<SitingResult, String> {
        use crate::analysis::siting::{
            lscp, mclp, p_center, p_median, Coverage, DenseCosts, SolveOptions,
        };
        if req.candidates.is_empty() {
            return Err("name at least one candidate premises kind".into());
        }
        for k in &req.candidates {
            self.check_kind(k)?;
        }
        if !(req.threshold_s.is_finite() && req.threshold_s > 0.0) {
            return Err("the threshold must be a positive number of minutes".into());
        }
        if req.capacitated && req.model != SitingModel::Mclp {
            return Err("capacities are used by the mclp model only".into());
        }
        let idx: Vec<usize> = (0..self.premises.len())
            .filter(|&j| req.candidates.contains(&self.premises[j].kind))
            .collect();
        let mut keep = Vec::new();
        for code in &req.keep {
            let k = idx
                .iter()
                .position(|&j| &self.premises[j].code == code)
                .ok_or_else(|| format!("premises {code:?} to keep is not among the candidates"))?;
            keep.push(k as u32);
        }
        let sites: Vec<[f64; 2]> = idx
            .iter()
            .map(|&j| [self.premises[j].x_m, self.premises[j].y_m])
            .collect();
        let points: Vec<[f64; 2]> = self
            .areas
            .iter()
            .map(|a| {
                crate::analysis::access::representative_point(&a.geometry)
                    .unwrap_or([f64::NAN, f64::NAN])
            })
            .collect();
        let (travel, params) = self.travel();
        let params = AccessParams {
            threshold_s: req.threshold_s,
            ..params
        };
        // Coverage models need costs to the threshold (half as far again, to report the
        // travel time of areas left out). The median and centre models cost pairs to three
        // times the threshold (at least an hour); beyond that, a pair costs that horizon plus
        // an hour: far enough never to be chosen over a reachable site.
        let horizon = match req.model {
            SitingModel::Mclp | SitingModel::Lscp => req.threshold_s * 1.5,
            SitingModel::PMedian | SitingModel::PCenter => (req.threshold_s * 3.0).max(3600.0),
        };
        let costs = travel.matrix(&points, &sites, &params, horizon);
        let w = self.siting_weights(req.weight);
        let opts = SolveOptions {
            seed: req.seed,
            ..SolveOptions::default()
        };
        let err = |e: crate::analysis::siting::SitingError| e.to_string();
        let solution = match req.model {
            SitingModel::Mclp if req.capacitated => {
                let cov = Coverage::from_costs(w.clone(), &costs, req.threshold_s);
                let caps: Vec<Option<f64>> =
                    idx.iter().map(|&j| self.premises[j].capacity).collect();
                crate::analysis::siting::mclp_capacitated(&cov, &caps, req.p, &keep, &opts)
                    .map_err(err)?
            }
            SitingModel::Mclp => {
                let cov = Coverage::from_costs(w.clone(), &costs, req.threshold_s);
                mclp(&cov, req.p, &keep, &opts).map_err(err)?
            }
            SitingModel::Lscp => {
                let cov = Coverage::from_costs(w.clone(), &costs, req.threshold_s);
                lscp(&cov, &keep, &opts).map_err(err)?
            }
            SitingModel::PMedian | SitingModel::PCenter => {
                if idx.len() > 4000 {
                    return Err(format!(
                        "{} candidates: p-median and p-center take at most 4,000 here; narrow the kinds",
                        idx.len()
                    ));
                }
                let d = DenseCosts::from_sparse(&costs, horizon + 3600.0);
                if req.model == SitingModel::PMedian {
                    p_median(&d, &w, req.p, &keep, &opts).map_err(err)?
                } else {
                    p_center(&d, &w, req.p, &keep, &opts).map_err(err)?
                }
            }
        };
        // Allocation: each area to its nearest chosen site.
        let chosen: std::collections::HashSet<u32> = solution.sites.iter().copied().collect();
        let baseline: Vec<usize> = match &req.baseline {
            None => Vec::new(),
            Some(k) => {
                if !self.premises.iter().any(|p| &p.kind == k) {
                    return Err(format!(
                        "no premises of kind {k:?} for the baseline; kinds are: {}",
                        self.premises_kinds().join(", ")
                    ));
                }
                (0..self.premises.len())
                    .filter(|&j| &self.premises[j].kind == k)
                    .collect()
            }
        };
        let base_covered: Vec<bool> = if baseline.is_empty() {
            vec![false; self.areas.len()]
        } else {
            let bsites: Vec<[f64; 2]> = baseline
                .iter()
                .map(|&j| [self.premises[j].x_m, self.premises[j].y_m])
                .collect();
            let bc = travel.matrix(&points, &bsites, &params, req.threshold_s);
            bc.rows
                .iter()
                .map(|r| r.iter().any(|(_, c)| *c <= req.threshold_s))
                .collect()
        };
        let mut served = vec![(0.0f64, 0usize); idx.len()];
        let mut equity = QuintileCoverage::default();
        let areas: Vec<(Option<usize>, Option<f64>, bool, bool)> = costs
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let near = row
                    .iter()
                    .filter(|(j, _)| chosen.contains(j))
                    .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
                    .copied();
                let within = near.is_some_and(|(_, c)| c <= req.threshold_s);
                if let (Some((j, _)), true) = (near, within) {
                    served[j as usize].0 += w[i];
                    served[j as usize].1 += 1;
                }
                if let Some(q) = self.areas[i].simd.map(|s| usize::from(s.quintile)) {
                    if (1..=5).contains(&q) {
                        equity.demand[q - 1] += w[i];
                        if base_covered[i] {
                            equity.covered_before[q - 1] += w[i];
                        }
                        if within || base_covered[i] {
                            equity.covered_after[q - 1] += w[i];
                        }
                    }
                }
                (
                    near.map(|(j, _)| idx[j as usize]),
                    near.map(|(_, c)| c),
                    within,
                    base_covered[i],
                )
            })
            .collect();
        let sites_out = solution
            .sites
            .iter()
            .map(|&k| ChosenSite {
                premises: idx[k as usize],
                weight_served: served[k as usize].0,
                areas_served: served[k as usize].1,
            })
            .collect();
        let mut solution = solution;
        // Report sites as premises indices from here on.
        solution.sites = solution
            .sites
            .iter()
            .map(|&k| idx[k as usize] as u32)
            .collect();
        Ok(SitingResult {
            solution,
            sites: sites_out,
            areas,
            total_weight: w.iter().sum(),
            weights: w,
            equity,
            method: travel.describe(&params),
        })
    }
}

impl Atlas {
    /// The workspace's saved scenarios (in its store).
    pub fn scenario_store(&self) -> super::scenarios::ScenarioStore {
        super::scenarios::ScenarioStore::new(&self.config)
    }

    /// The premises after a scenario's edits (the baseline for no edits).
    pub fn apply_edits(
        &self,
        edits: &[crate::analysis::scenario::Edit],
    ) -> Result<crate::analysis::scenario::Applied, String> {
        let holidays = crate::analysis::hours::holiday_calendar(
            2000,
            2100,
            &self.config.hours.extra_public_holidays,
        );
        crate::analysis::scenario::apply(&self.premises, &self.hours, edits, &holidays)
    }

    /// Measures of premises of one kind (after edits) at a threshold.
    pub fn measure_kind(
        &self,
        applied: &crate::analysis::scenario::Applied,
        kind: &str,
        threshold_s: f64,
    ) -> crate::analysis::scenario::ScenarioMeasures {
        let idx: Vec<usize> = (0..applied.premises.len())
            .filter(|&j| applied.premises[j].kind == kind)
            .collect();
        let prem: Vec<&crate::model::Premises> =
            idx.iter().map(|&j| &applied.premises[j]).collect();
        let hours: Vec<Option<&Hours>> = idx.iter().map(|&j| applied.hours[j].as_ref()).collect();
        let (travel, params) = self.travel();
        let params = AccessParams {
            threshold_s,
            ..params
        };
        crate::analysis::scenario::measure(
            &self.areas,
            &prem,
            &hours,
            &self.referrals,
            &params,
            travel,
        )
    }
}
