//! Scenarios saved in the workspace: one JSON file per scenario in
//! `<workspace>/scenarios/` (or `[scenarios] dir`). A save writes a
//! temporary file beside the target, flushes it to disk, renames it over the
//! target and flushes the directory, so a crash mid-save leaves either the
//! old file or the new one, never a torn one, and other scenarios are never
//! touched. Files that do not parse are reported by name, not dropped.

use std::path::{Path, PathBuf};

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

/// The scenario files of a workspace.
#[derive(Clone, Debug)]
pub struct ScenarioStore {
    dir: PathBuf,
}

impl ScenarioStore {
    pub fn new(dir: PathBuf) -> ScenarioStore {
        ScenarioStore { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Every scenario, by name; files that do not parse are listed as errors.
    pub fn list(&self) -> (Vec<Scenario>, Vec<String>) {
        let mut out = Vec::new();
        let mut problems = Vec::new();
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return (out, problems);
        };
        let mut paths: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for p in paths {
            match read(&p) {
                Ok(s) => out.push(s),
                Err(e) => problems.push(e),
            }
        }
        (out, problems)
    }

    /// One scenario; `Ok(None)` when there is none by that name.
    pub fn get(&self, name: &str) -> Result<Option<Scenario>, String> {
        check_name(name)?;
        let p = self.path(name);
        if !p.exists() {
            return Ok(None);
        }
        read(&p).map(Some)
    }

    /// Save (create or replace) atomically.
    pub fn put(&self, s: &Scenario) -> Result<(), String> {
        check_name(&s.name)?;
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        let target = self.path(&s.name);
        let tmp = self.dir.join(format!(".{}.json.tmp", s.name));
        let bytes = serde_json::to_vec_pretty(s).map_err(|e| e.to_string())?;
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &target)?;
            // Flush the directory entry too (best effort where unsupported).
            if let Ok(d) = std::fs::File::open(&self.dir) {
                let _ = d.sync_all();
            }
            Ok(())
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("saving {}: {e}", target.display())
        })
    }

    /// Delete; `Ok(false)` when there was none.
    pub fn delete(&self, name: &str) -> Result<bool, String> {
        check_name(name)?;
        let p = self.path(name);
        match std::fs::remove_file(&p) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(format!("{}: {e}", p.display())),
        }
    }
}

fn read(p: &Path) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}
