//! `needmap scenario`: save, list, delete and compare scenarios of a workspace.

use std::path::Path;

use anyhow::{anyhow, bail, Context};

use crate::analysis::scenario::{Edit, Measures};
use crate::io::scenarios::{check_name, Scenario, BASELINE};
use crate::io::workspace::Atlas;
use crate::privacy::Role;

/// `needmap scenario list`.
pub fn list(atlas: &Atlas) -> anyhow::Result<()> {
    let (all, problems) = atlas.scenario_store().list();
    for p in &problems {
        eprintln!("unreadable scenario file: {p}");
    }
    let headers = ["name", "edits", "updated", "description"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let rows = all
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.edits.len().to_string(),
                s.updated.clone().unwrap_or_default(),
                s.description.clone().unwrap_or_default(),
            ]
        })
        .collect();
    super::emit_table(headers, rows, None)
}

/// `needmap scenario save`: edits from a JSON file (an array of edits, or
/// `{description, edits}`), checked against the premises before saving.
pub fn save(
    atlas: &Atlas,
    name: &str,
    edits: &Path,
    description: Option<String>,
) -> anyhow::Result<()> {
    check_name(name).map_err(|e| anyhow!(e))?;
    let text =
        std::fs::read_to_string(edits).with_context(|| format!("reading {}", edits.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", edits.display()))?;
    let (list, desc) = match v {
        serde_json::Value::Array(_) => (v, description),
        serde_json::Value::Object(mut m) => {
            let d = m
                .remove("description")
                .and_then(|d| d.as_str().map(String::from));
            (
                m.remove("edits")
                    .ok_or_else(|| anyhow!("{}: no \"edits\"", edits.display()))?,
                description.or(d),
            )
        }
        _ => bail!(
            "{}: expected an array of edits or {{\"edits\": [...]}}",
            edits.display()
        ),
    };
    let list: Vec<Edit> =
        serde_json::from_value(list).with_context(|| format!("{}: bad edit", edits.display()))?;
    atlas
        .apply_edits(&list)
        .map_err(|e| anyhow!("{}: {e}", edits.display()))?;
    let s = Scenario {
        name: name.to_string(),
        description: desc,
        edits: list,
        updated: Some(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    };
    atlas
        .scenario_store()
        .put(&s, &cli_user())
        .map_err(|e| anyhow!(e))?;
    eprintln!(
        "saved scenario {name} ({} edits) in {}",
        s.edits.len(),
        atlas.scenario_store().place()
    );
    Ok(())
}

/// `needmap scenario delete`.
pub fn delete(atlas: &Atlas, name: &str) -> anyhow::Result<()> {
    if atlas
        .scenario_store()
        .delete(name, &cli_user())
        .map_err(|e| anyhow!(e))?
    {
        eprintln!("deleted scenario {name}");
        Ok(())
    } else {
        bail!("no scenario {name:?}")
    }
}

/// Who is at the command line, for the store's audit trail.
pub fn cli_user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "cli".into())
}

fn edits_of(atlas: &Atlas, name: &str) -> anyhow::Result<Vec<Edit>> {
    if name == BASELINE {
        return Ok(Vec::new());
    }
    atlas
        .scenario_store()
        .get(name)
        .map_err(|e| anyhow!(e))?
        .map(|s| s.edits)
        .ok_or_else(|| anyhow!("no scenario {name:?}"))
}

/// `needmap scenario compare`: two scenarios side by side, overall and by SIMD quintile.
pub fn compare(
    atlas: &Atlas,
    a: &str,
    b: &str,
    kind: &str,
    threshold_min: f64,
    out: Option<&Path>,
    role: Role,
) -> anyhow::Result<()> {
    if !(threshold_min.is_finite() && threshold_min > 0.0) {
        bail!("--threshold-min must be a positive number of minutes");
    }
    let pa = atlas
        .apply_edits(&edits_of(atlas, a)?)
        .map_err(|e| anyhow!(e))?;
    let pb = atlas
        .apply_edits(&edits_of(atlas, b)?)
        .map_err(|e| anyhow!(e))?;
    if !pa
        .premises
        .iter()
        .chain(&pb.premises)
        .any(|p| p.kind == kind)
    {
        bail!(
            "neither scenario has premises of kind {kind:?}; kinds are: {}",
            atlas.premises_kinds().join(", ")
        );
    }
    let t = threshold_min * 60.0;
    let (ma, mb) = (
        atlas.measure_kind(&pa, kind, t),
        atlas.measure_kind(&pb, kind, t),
    );
    let policy = atlas.config.privacy.policy();
    let cells = |m: &Measures| -> Vec<String> {
        let pct = |x: Option<f64>| x.map(|v| format!("{:.1}", v * 100.0)).unwrap_or_default();
        let min = |x: Option<f64>| x.map(|v| format!("{:.1}", v / 60.0)).unwrap_or_default();
        vec![
            pct(m.coverage),
            min(m.mean_travel_s),
            min(m.p95_travel_s),
            policy
                .percent(m.unmet as f64, m.timed as f64, role)
                .map(|v| format!("{v:.1}"))
                .unwrap_or_default(),
            m.providers_mean
                .map(|v| format!("{v:.2}"))
                .unwrap_or_default(),
            pct(m.choice_desert),
        ]
    };
    let headers: Vec<String> = [
        "scenario",
        "group",
        "premises",
        "coverage_pct",
        "mean_travel_min",
        "p95_travel_min",
        "hours_gap_pct",
        "providers_mean",
        "choice_desert_pct",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut rows = Vec::new();
    for (name, m) in [(a, &ma), (b, &mb)] {
        let mut r = vec![name.to_string(), "all".into(), m.premises.to_string()];
        r.extend(cells(&m.overall));
        rows.push(r);
        for q in 0..5 {
            let mut r = vec![
                name.to_string(),
                format!("SIMD quintile {}", q + 1),
                m.premises.to_string(),
            ];
            r.extend(cells(&m.by_quintile[q]));
            rows.push(r);
        }
    }
    eprintln!("{kind} within {threshold_min} min: {a} against {b} (quintile 1 = most deprived)");
    super::emit_table(headers, rows, out)
}
