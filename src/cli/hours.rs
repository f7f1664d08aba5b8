//! `needmap hours-gap`, `hours-access` and `hours-extend`: service hours
//! against need, written as CSV and GeoJSON. Referral-derived counts pass
//! the disclosure-control policy unless `--exact` (planner use) is given.

use std::path::Path;

use anyhow::{anyhow, bail};
use serde_json::{json, Map};

use super::emit_table;
use crate::analysis::extend::{best_per_premises, ranked_extensions, Extension};
use crate::analysis::hours::{
    floating_catchment_by_hour, hours_gaps, open_in_reach, unmet_demand, HoursGap,
};
use crate::io::study::{slot_label, KindStudy};
use crate::io::workspace::Atlas;
use crate::io::writers;
use crate::privacy::{Count, Role};

fn study<'a>(atlas: &'a Atlas, kind: &str, threshold_min: f64) -> anyhow::Result<KindStudy<'a>> {
    if !(threshold_min.is_finite() && threshold_min > 0.0) {
        bail!("--threshold-min must be a positive number of minutes");
    }
    atlas
        .kind_study(kind, threshold_min * 60.0)
        .map_err(|e| anyhow!(e))
}

/// Outputs of `hours-gap`.
pub struct GapOutputs<'a> {
    pub out: Option<&'a Path>,
    pub premises_out: Option<&'a Path>,
    pub geojson: Option<&'a Path>,
}

/// `needmap hours-gap`.
pub fn hours_gap(
    atlas: &Atlas,
    kind: &str,
    threshold_min: f64,
    group: Option<&str>,
    outs: GapOutputs<'_>,
    role: Role,
) -> anyhow::Result<()> {
    let st = study(atlas, kind, threshold_min)?;
    let keep = atlas.group_filter(group).map_err(|e| anyhow!(e))?;
    let hours = st.hours();
    let gaps = hours_gaps(
        atlas.areas.len(),
        &atlas.referrals,
        &st.costs,
        st.threshold_s,
        &hours,
        keep,
    );
    let policy = atlas.config.privacy.policy();
    // Public output is the audited release (one threshold, all groups), as the API serves it.
    let public = if role.exact() {
        None
    } else {
        let p_min = atlas.config.privacy.public_hours_threshold_min();
        if (threshold_min - p_min).abs() > 1e-9 || group.is_some() {
            bail!(
                "public output of the hours gap is at --threshold-min {p_min} for all client groups (other thresholds and groups could be differenced); give --exact for planner output"
            );
        }
        let need =
            crate::analysis::need::need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
        let release = crate::io::publish::public_release(atlas, &need);
        Some(st.public_hours(&release.counts))
    };
    // Shares come from the counts as shown, so that they give nothing away.
    let shown = |g: &HoursGap, from: Option<(Count, Count)>| -> (Count, Count) {
        from.unwrap_or_else(|| {
            (
                policy.count(g.timed as f64, role),
                policy.count(g.unmet as f64, role),
            )
        })
    };
    let cells = |(t, u): (Count, Count)| {
        let pct = crate::privacy::percent_shown(&u, &t)
            .map(|p| format!("{p:.1}"))
            .unwrap_or_default();
        vec![t.to_string(), u.to_string(), pct]
    };
    let timed: u64 = gaps.by_area.iter().map(|g| g.timed).sum();
    let unmet: u64 = gaps.by_area.iter().map(|g| g.unmet).sum();
    let total = cells(shown(
        &HoursGap { timed, unmet },
        public.as_ref().map(|p| p.total()),
    ));
    eprintln!(
        "{} of {} timed referrals{} ({} %) arrived when no {kind} within {threshold_min} min ({}) was open; premises without opening hours count as closed",
        total[1],
        total[0],
        group.map(|g| format!(" of group {g}")).unwrap_or_default(),
        total[2],
        st.method
    );
    let headers: Vec<String> = ["area_id", "name", "timed_referrals", "unmet", "unmet_pct"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut rows: Vec<(f64, Vec<String>)> = atlas
        .areas
        .iter()
        .zip(&gaps.by_area)
        .enumerate()
        .map(|(i, (a, g))| {
            let mut r = vec![a.code.clone(), a.name.clone().unwrap_or_default()];
            r.extend(cells(shown(g, public.as_ref().map(|p| p.area(i)))));
            (g.share().unwrap_or(0.0) * g.timed.min(1000) as f64, r)
        })
        .collect();
    if let Some(p) = outs.geojson {
        let props = atlas
            .areas
            .iter()
            .zip(&gaps.by_area)
            .enumerate()
            .map(|(i, (a, g))| {
                let (t, u) = shown(g, public.as_ref().map(|p| p.area(i)));
                let pct = cells((t.clone(), u.clone()))[2].parse::<f64>().ok();
                let mut m = Map::new();
                m.insert("area_id".into(), json!(a.code));
                m.insert("name".into(), json!(a.name));
                m.insert("timed_referrals".into(), json!(t));
                m.insert("unmet".into(), json!(u));
                m.insert("unmet_pct".into(), json!(pct));
                m
            })
            .collect();
        writers::write_areas_geojson(p, &atlas.areas, props)?;
        eprintln!("wrote {}", p.display());
    }
    if outs.out.is_none() {
        rows.sort_by(|x, y| y.0.total_cmp(&x.0));
        rows.truncate(20);
    }
    if outs.out.is_some() || outs.geojson.is_none() {
        emit_table(headers, rows.into_iter().map(|r| r.1).collect(), outs.out)?;
    }
    if let Some(p) = outs.premises_out {
        let headers = [
            "premises_id",
            "name",
            "opening_hours",
            "catchment_timed_referrals",
            "while_closed",
            "while_closed_pct",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let rows = st
            .idx
            .iter()
            .zip(&gaps.by_premises)
            .enumerate()
            .map(|(k, (&j, g))| {
                let pr = &atlas.premises[j];
                let mut r = vec![
                    pr.code.clone(),
                    pr.name.clone(),
                    pr.opening_hours.clone().unwrap_or_default(),
                ];
                r.extend(cells(shown(g, public.as_ref().map(|p| p.premises(k)))));
                r
            })
            .collect();
        emit_table(headers, rows, Some(p))?;
    }
    Ok(())
}

/// `needmap hours-access`: hours-aware E2SFCA for every hour of a typical week.
pub fn hours_access(
    atlas: &Atlas,
    kind: &str,
    threshold_min: f64,
    decay: &str,
    out: Option<&Path>,
    geojson: Option<&Path>,
) -> anyhow::Result<()> {
    let st = study(atlas, kind, threshold_min)?;
    let decay = super::parse_decay(decay)?;
    let open = st.open_slots();
    let scores = floating_catchment_by_hour(
        &st.population(),
        &st.capacity(),
        &open,
        &st.costs,
        None,
        &decay,
    );
    let reach = open_in_reach(&st.costs, st.threshold_s, &open);
    let n = atlas.areas.len();
    // Per area: weekly mean, the hours with nothing open in reach, and the
    // mean over weekday daytime (Mo-Fr 09-17) against evenings (Mo-Fr 17-22).
    let mean_over = |i: usize, slots: &mut dyn Iterator<Item = usize>| {
        let v: Vec<f64> = slots.map(|h| scores[h][i].unwrap_or(0.0)).collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let weekday =
        |from: usize, to: usize| (0..5).flat_map(move |d| (from..to).map(move |h| d * 24 + h));
    let summary: Vec<(f64, usize, f64, f64)> = (0..n)
        .map(|i| {
            (
                mean_over(i, &mut (0..168)),
                reach[i].iter().filter(|&&c| c == 0).count(),
                mean_over(i, &mut weekday(9, 17)),
                mean_over(i, &mut weekday(17, 22)),
            )
        })
        .collect();
    let week = atlas.reference_monday();
    let with_none = summary.iter().filter(|s| s.1 == 168).count();
    eprintln!(
        "hours-aware access to {kind} over the week of {week} ({}; {threshold_min} min reach; population as demand); {with_none} of {n} areas have none in reach at any hour",
        st.method
    );
    if out.is_none() && geojson.is_none() {
        bail!("give --out FILE.csv and/or --geojson FILE.geojson");
    }
    if let Some(p) = out {
        let mut headers: Vec<String> = [
            "area_id",
            "name",
            "population",
            "mean_score",
            "hours_none_open",
            "weekday_day_mean",
            "weekday_evening_mean",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        headers.extend((0..168).map(|h| slot_label(h).replace([' ', ':'], "_")));
        let fmt = |v: f64| format!("{v:.6}");
        let rows = atlas
            .areas
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let s = summary[i];
                let mut r = vec![
                    a.code.clone(),
                    a.name.clone().unwrap_or_default(),
                    a.population.map(|p| format!("{p:.0}")).unwrap_or_default(),
                    fmt(s.0),
                    s.1.to_string(),
                    fmt(s.2),
                    fmt(s.3),
                ];
                r.extend((0..168).map(|h| scores[h][i].map(fmt).unwrap_or_default()));
                r
            })
            .collect();
        emit_table(headers, rows, Some(p))?;
    }
    if let Some(p) = geojson {
        let props = atlas
            .areas
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let s = summary[i];
                let mut m = Map::new();
                m.insert("area_id".into(), json!(a.code));
                m.insert("name".into(), json!(a.name));
                m.insert("mean_score".into(), json!(s.0));
                m.insert("hours_none_open".into(), json!(s.1));
                m.insert("weekday_day_mean".into(), json!(s.2));
                m.insert("weekday_evening_mean".into(), json!(s.3));
                m
            })
            .collect();
        writers::write_areas_geojson(p, &atlas.areas, props)?;
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}

/// Settings of `hours-extend`.
pub struct ExtendArgs<'a> {
    pub kind: &'a str,
    pub threshold_min: f64,
    pub group: Option<&'a str>,
    pub limit: usize,
    pub out: Option<&'a Path>,
    pub premises_out: Option<&'a Path>,
}

/// `needmap hours-extend`: ranked extensions of opening hours.
pub fn hours_extend(atlas: &Atlas, a: &ExtendArgs<'_>, role: Role) -> anyhow::Result<()> {
    if a.limit == 0 {
        bail!("--limit must be at least 1");
    }
    let st = study(atlas, a.kind, a.threshold_min)?;
    let keep = atlas.group_filter(a.group).map_err(|e| anyhow!(e))?;
    let hours = st.hours();
    let unmet = unmet_demand(
        atlas.areas.len(),
        &atlas.referrals,
        &st.costs,
        st.threshold_s,
        &hours,
        keep,
    );
    let open = st.open_slots();
    let weeks = unmet.weeks();
    let ranked = ranked_extensions(
        &unmet.by_area,
        weeks,
        &st.costs,
        st.threshold_s,
        &open,
        a.limit,
    );
    let policy = atlas.config.privacy.policy();
    let total: u64 = unmet
        .by_area
        .iter()
        .map(|r| r.iter().map(|&x| u64::from(x)).sum::<u64>())
        .sum();
    eprintln!(
        "{} referrals over {weeks:.1} weeks arrived when no {} within {} min was open; extensions ranked by referrals met per week per extra weekly hour, each counting only referrals not met by those above it",
        policy.count(total as f64, role),
        a.kind,
        a.threshold_min
    );
    let cells = |e: &Extension| {
        let shown = policy.count(e.referrals_covered as f64, role);
        let per_week = shown.value().map(|v| v / weeks);
        let p = &atlas.premises[st.idx[e.premises as usize]];
        vec![
            p.code.clone(),
            p.name.clone(),
            p.opening_hours.clone().unwrap_or_default(),
            e.rule.clone(),
            format!("{}", e.extra_hours_per_week),
            shown.to_string(),
            per_week.map(|w| format!("{w:.2}")).unwrap_or_default(),
            per_week
                .map(|w| format!("{:.3}", w / e.extra_hours_per_week))
                .unwrap_or_default(),
        ]
    };
    let mut headers: Vec<String> = ["rank"].iter().map(|s| s.to_string()).collect();
    let tail: Vec<String> = [
        "premises_id",
        "name",
        "opening_hours",
        "extension",
        "extra_hours_per_week",
        "referrals_met",
        "met_per_week",
        "met_per_week_per_extra_hour",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    headers.extend(tail.clone());
    headers.push("cumulative_met".into());
    let mut cumulative = 0u64;
    let rows = ranked
        .iter()
        .enumerate()
        .map(|(k, e)| {
            cumulative += e.referrals_covered;
            let mut r = vec![(k + 1).to_string()];
            r.extend(cells(e));
            r.push(policy.count(cumulative as f64, role).to_string());
            r
        })
        .collect();
    emit_table(headers, rows, a.out)?;
    if let Some(p) = a.premises_out {
        let each = best_per_premises(&unmet.by_area, weeks, &st.costs, st.threshold_s, &open, 3);
        let mut headers = vec!["choice".to_string()];
        headers.extend(tail);
        let rows = each
            .iter()
            .flat_map(|list| {
                list.iter()
                    .enumerate()
                    .map(|(k, e)| {
                        let mut r = vec![(k + 1).to_string()];
                        r.extend(cells(e));
                        r
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        emit_table(headers, rows, Some(p))?;
    }
    Ok(())
}
