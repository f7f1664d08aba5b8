//! The public release of a workspace: every referral count the public can
//! see, protected together ([`CountRelease`]), and the need map as the
//! public sees it (need scores from the published rates, so that a score
//! cannot give back an exact rate).

use crate::analysis::need::{need_scores, NeedMap};
use crate::analysis::rollup::{boundary_members, column_members};
use crate::io::workspace::Atlas;
use crate::privacy::{CountRelease, ReleaseSpec, UnitTable};

/// The level name of the equity table in the release; units are SIMD
/// quintiles 1-5, then the areas without SIMD, then the total.
pub const EQUITY_LEVEL: &str = "simd_quintile";

/// The unit of the equity table's total row.
pub const EQUITY_TOTAL: usize = 6;

/// What the public sees.
#[derive(Clone, Debug)]
pub struct PublicRelease {
    pub counts: CountRelease,
    /// The need map with need scores recomputed from the published rates.
    pub need: NeedMap,
}

/// The units of the equity table as members: quintiles 1-5, no SIMD, total.
pub fn equity_members(atlas: &Atlas) -> Vec<Vec<(u32, f64)>> {
    let mut units = vec![Vec::new(); 7];
    for (i, a) in atlas.areas.iter().enumerate() {
        let slot = a
            .simd
            .map(|s| (s.quintile.clamp(1, 5) - 1) as usize)
            .unwrap_or(5);
        units[slot].push((i as u32, 1.0));
        units[6].push((i as u32, 1.0));
    }
    units
}

/// Index of an equity row in [`equity_members`]: quintile `q`, or `None` for no SIMD.
pub fn equity_unit(q: Option<u8>) -> usize {
    q.map(|q| (q.clamp(1, 5) - 1) as usize).unwrap_or(5)
}

/// Build the public release of `atlas` from its exact need map.
pub fn public_release(atlas: &Atlas, need: &NeedMap) -> PublicRelease {
    let mut tables: Vec<UnitTable> = atlas
        .parent_columns
        .iter()
        .map(|c| UnitTable {
            level: c.clone(),
            units: column_members(&atlas.areas, c),
        })
        .collect();
    for set in &atlas.boundary_sets {
        tables.push(UnitTable {
            level: set.name.clone(),
            units: boundary_members(&atlas.areas, set),
        });
    }
    tables.push(UnitTable {
        level: EQUITY_LEVEL.into(),
        units: equity_members(atlas),
    });
    let policy = atlas.config.privacy.policy();
    let cfg = &atlas.config.privacy;
    let level = cfg
        .public_group_level
        .clone()
        .or_else(|| atlas.parent_columns.first().cloned())
        .unwrap_or_else(|| "area".into());
    let max_group_units = if level == "area" {
        atlas.areas.len()
    } else {
        tables
            .iter()
            .find(|t| t.level == level)
            // Units without the level's code are one more unit.
            .map(|t| t.units.iter().filter(|u| !u.is_empty()).count())
            .unwrap_or(0)
    };
    let spec = ReleaseSpec {
        policy,
        width: cfg.protection_width.unwrap_or(policy.rounding),
        max_group_units,
    };
    let counts = CountRelease::build(
        atlas.areas.len(),
        &atlas.referrals,
        need,
        atlas.config.need.period,
        &tables,
        &spec,
    );
    let rates: Vec<Option<f64>> = need
        .areas
        .iter()
        .enumerate()
        .map(|(i, n)| {
            n.rate_per_1000?;
            Some(counts.area(i).value()? * 1000.0 / n.population.filter(|p| *p > 0.0)?)
        })
        .collect();
    let scores = need_scores(&atlas.areas, &rates, &atlas.config.need);
    let mut public_need = need.clone();
    for (n, s) in public_need.areas.iter_mut().zip(scores) {
        n.need_score = s;
    }
    PublicRelease {
        counts,
        need: public_need,
    }
}
