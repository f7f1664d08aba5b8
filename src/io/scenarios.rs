//! Scenarios saved in the workspace store (`io::store`: the GeoPackage by
//! default, PostGIS when `[store] url` is set), so that every server
//! sharing a store sees the same scenarios. A save or a deletion is one
//! transaction and adds a row: earlier versions are kept, and each change is
//! in the store's hash-chained audit trail with who made it. A stored
//! scenario that does not parse is reported by name, not dropped.

use serde::{Deserialize, Serialize};

use crate::analysis::scenario::Edit;

/// A saved scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub edits: Vec<Edit>,
    /// When it was last saved (RFC 3339, UTC).
    #[serde(default)]
    pub updated: Option<String>,
}

/// The name "baseline" means the premises as loaded and cannot be saved.
pub const BASELINE: &str = "baseline";

/// Check a scenario name: letters, digits, `-` and `_`, 1 to 64 characters.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err("a scenario name has 1 to 64 characters".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "scenario name {name:?} may hold only letters, digits, '-' and '_'"
        ));
    }
    if name == BASELINE {
        return Err("\"baseline\" is the premises as loaded; choose another name".into());
    }
    Ok(())
}

/// The scenarios of a workspace, in its store.
#[derive(Clone, Debug)]
pub struct ScenarioStore {
    cfg: crate::Config,
}

impl ScenarioStore {
    pub fn new(cfg: &crate::Config) -> ScenarioStore {
        ScenarioStore { cfg: cfg.clone() }
    }

    /// Where the scenarios are kept, for messages.
    pub fn place(&self) -> String {
        match &self.cfg.store.url {
            Some(_) => "the store database".into(),
            None => self.cfg.store_path().display().to_string(),
        }
    }

    fn stored(&self) -> Result<Vec<(String, String)>, String> {
        match super::store::open_store(&self.cfg, false).map_err(|e| e.to_string())? {
            None => Ok(Vec::new()),
            Some(mut st) => st.scenario_list().map_err(|e| e.to_string()),
        }
    }

    /// Every scenario, by name; stored ones that do not parse are listed as problems.
    pub fn list(&self) -> (Vec<Scenario>, Vec<String>) {
        let mut out = Vec::new();
        let mut problems = Vec::new();
        match self.stored() {
            Err(e) => problems.push(e),
            Ok(rows) => {
                for (name, body) in rows {
                    match serde_json::from_str(&body) {
                        Ok(s) => out.push(s),
                        Err(e) => problems.push(format!("scenario {name:?}: {e}")),
                    }
                }
            }
        }
        (out, problems)
    }

    /// One scenario; `Ok(None)` when there is none by that name.
    pub fn get(&self, name: &str) -> Result<Option<Scenario>, String> {
        check_name(name)?;
        match self.stored()?.into_iter().find(|(n, _)| n == name) {
            None => Ok(None),
            Some((_, body)) => serde_json::from_str(&body)
                .map(Some)
                .map_err(|e| format!("scenario {name:?}: {e}")),
        }
    }

    fn open(&self) -> Result<Box<dyn super::store::UploadStore>, String> {
        super::store::open_store(&self.cfg, true)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "no store".to_string())
    }

    /// Save (create or replace) in one transaction, by `user`.
    pub fn put(&self, s: &Scenario, user: &str) -> Result<(), String> {
        check_name(&s.name)?;
        let body = serde_json::to_string(s).map_err(|e| e.to_string())?;
        self.open()?
            .scenario_put(&s.name, Some(&body), user)
            .map(|_| ())
            .map_err(|e| format!("saving scenario {:?}: {e}", s.name))
    }

    /// Delete, by `user`; `Ok(false)` when there was none.
    pub fn delete(&self, name: &str, user: &str) -> Result<bool, String> {
        check_name(name)?;
        self.open()?
            .scenario_put(name, None, user)
            .map_err(|e| format!("deleting scenario {name:?}: {e}"))
    }
}
