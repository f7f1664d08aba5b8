//! Disclosure control, applied to every result that leaves the process.
//!
//! Default policy (DESIGN.md): public outputs never carry referral points;
//! counts 0–9 are published as `<10` (zero included, so 0 cannot be told from
//! 1–9); larger counts are rounded to the nearest 5; rates are withheld where
//! the count is, and otherwise computed from the rounded count so that a rate
//! and a population cannot give back the exact count.

pub mod audit;
pub mod auth;
pub mod release;
pub mod sdc;

pub use release::{CountRelease, ReleaseSpec, UnitTable};

use serde::Serialize;

/// Who is asking.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Anonymous: protected aggregates only.
    #[default]
    Public,
    /// Exact aggregates, masked points only.
    Planner,
    /// Raw points, every access audited.
    Steward,
    /// Configuration; no data beyond the public's by default.
    Admin,
}

impl Role {
    /// Parse a configured role name.
    pub fn parse(s: &str) -> Result<Role, String> {
        match s {
            "public" => Ok(Role::Public),
            "planner" => Ok(Role::Planner),
            "steward" => Ok(Role::Steward),
            "admin" => Ok(Role::Admin),
            _ => Err(format!(
                "role {s:?} is not one of public, planner, steward, admin"
            )),
        }
    }

    /// Sees exact aggregates.
    pub fn exact(self) -> bool {
        matches!(self, Role::Planner | Role::Steward)
    }
}

/// Thresholds of the disclosure-control policy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// Counts below this are suppressed (default 10).
    pub threshold: u64,
    /// Counts at or above the threshold are rounded to a multiple of this (default 5).
    pub rounding: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            threshold: 10,
            rounding: 5,
        }
    }
}

/// A count as it may be published.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Count {
    /// A number (exact for planners, rounded for the public).
    Value(f64),
    /// A suppressed count, shown as `<10`.
    Suppressed(String),
}

impl Count {
    /// The number, if shown.
    pub fn value(&self) -> Option<f64> {
        match self {
            Count::Value(v) => Some(*v),
            Count::Suppressed(_) => None,
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::Value(v) if v.fract() == 0.0 => write!(f, "{}", *v as i64),
            Count::Value(v) => write!(f, "{v:.2}"),
            Count::Suppressed(s) => f.write_str(s),
        }
    }
}

impl Policy {
    /// Publish a count (fractional counts from apportioning are rounded first for the public).
    pub fn count(&self, n: f64, role: Role) -> Count {
        match role {
            Role::Planner | Role::Steward => Count::Value(if n.fract() == 0.0 {
                n
            } else {
                (n * 100.0).round() / 100.0
            }),
            Role::Public | Role::Admin => {
                let whole = n.round().max(0.0) as u64;
                if whole < self.threshold {
                    Count::Suppressed(format!("<{}", self.threshold))
                } else {
                    let r = self.rounding.max(1);
                    Count::Value((((whole + r / 2) / r) * r) as f64)
                }
            }
        }
    }

    /// Publish `part` as a percentage of `whole` (one decimal), computed from
    /// the counts as published so that it gives nothing more away; `None`
    /// where either is withheld or `whole` is 0.
    pub fn percent(&self, part: f64, whole: f64, role: Role) -> Option<f64> {
        percent_shown(&self.count(part, role), &self.count(whole, role))
    }

    /// Publish a rate per 1,000 for a count and a population.
    pub fn rate_per_1000(
        &self,
        n: f64,
        population: Option<f64>,
        exact_rate: Option<f64>,
        role: Role,
    ) -> Option<f64> {
        let rate = match role {
            Role::Planner | Role::Steward => exact_rate?,
            Role::Public | Role::Admin => {
                let shown = self.count(n, role).value()?;
                exact_rate?;
                let p = population.filter(|p| *p > 0.0)?;
                shown * 1000.0 / p
            }
        };
        Some((rate * 100.0).round() / 100.0)
    }
}

/// `part` as a percentage of `whole` (one decimal), from the counts as shown:
/// `None` where either is withheld or `whole` is 0.
pub fn percent_shown(part: &Count, whole: &Count) -> Option<f64> {
    let (p, w) = (part.value()?, whole.value()?);
    (w > 0.0).then(|| ((p / w * 100.0).min(100.0) * 10.0).round() / 10.0)
}

/// How referral counts leave the process: exact for planners and data
/// stewards, from the protected [`CountRelease`] for everyone else.
#[derive(Clone, Copy, Debug)]
pub enum Disclosure<'a> {
    Exact,
    Public(&'a CountRelease),
}

impl<'a> Disclosure<'a> {
    /// The disclosure for a role.
    pub fn for_role(role: Role, release: &'a CountRelease) -> Disclosure<'a> {
        if role.exact() {
            Disclosure::Exact
        } else {
            Disclosure::Public(release)
        }
    }

    /// A count: `exact` for planners, else the release's cell (`None` where
    /// the release does not publish it, for example groups below the
    /// configured geography).
    pub fn count(
        &self,
        exact: f64,
        cell: impl FnOnce(&CountRelease) -> Option<Count>,
    ) -> Option<Count> {
        match self {
            Disclosure::Exact => Some(Policy::default().count(exact, Role::Planner)),
            Disclosure::Public(r) => cell(r),
        }
    }

    /// Whether counts by group are shown per area.
    pub fn area_groups(&self) -> bool {
        match self {
            Disclosure::Exact => true,
            Disclosure::Public(r) => r.area_groups(),
        }
    }

    /// Whether counts by group are shown at a roll-up level.
    pub fn level_groups(&self, level: &str) -> bool {
        match self {
            Disclosure::Exact => true,
            Disclosure::Public(r) => r.level_groups(level),
        }
    }

    /// A rate per 1,000: exact for planners; for the public, from the count as
    /// shown (withheld where it is).
    pub fn rate_per_1000(
        &self,
        shown: &Count,
        population: Option<f64>,
        exact_rate: Option<f64>,
    ) -> Option<f64> {
        let rate = match self {
            Disclosure::Exact => exact_rate?,
            Disclosure::Public(_) => {
                exact_rate?;
                shown.value()? * 1000.0 / population.filter(|p| *p > 0.0)?
            }
        };
        Some((rate * 100.0).round() / 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_counts() {
        let p = Policy::default();
        assert_eq!(p.count(0.0, Role::Public), Count::Suppressed("<10".into()));
        assert_eq!(p.count(9.0, Role::Public), Count::Suppressed("<10".into()));
        assert_eq!(p.count(10.0, Role::Public), Count::Value(10.0));
        assert_eq!(p.count(12.0, Role::Public), Count::Value(10.0));
        assert_eq!(p.count(13.0, Role::Public), Count::Value(15.0));
        assert_eq!(p.count(13.0, Role::Planner), Count::Value(13.0));
        assert_eq!(
            p.rate_per_1000(3.0, Some(500.0), Some(6.0), Role::Public),
            None
        );
        assert_eq!(
            p.rate_per_1000(13.0, Some(1000.0), Some(13.0), Role::Public),
            Some(15.0)
        );
    }
}
