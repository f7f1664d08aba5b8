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
        let idx: Vec<usize> = (0..self.premises.len())
            .filter(|&j| self.premises[j].kind == kind)
            .collect();
        if idx.is_empty() {
            return Err(format!(
                "no premises of kind {kind:?}; kinds are: {}",
                self.premises_kinds().join(", ")
            ));
        }
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
