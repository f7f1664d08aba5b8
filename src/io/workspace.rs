//! Loading a whole workspace: read, validate, project, index and join. The
//! result is an immutable [`Atlas`] that analyses and the server share.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use geo::MultiPolygon;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use super::postcodes::{PostcodeColumns, PostcodeLookup};
use super::report::{Report, RowProblems, Severity};
use super::table::{parse_number, read_table};
use super::vector::{
    feature_label, point_to_working, polygons_to_working, read_vector, ProjectedPolygons,
    PropValue, RawGeometry, VectorLayer,
};
use crate::config::{Config, PremisesConfig};
use crate::model::{
    Area, AreaId, BoundarySet, BoundaryUnit, BoundaryUnitId, Premises, PremisesId, ReferralSet,
    Simd,
};
use crate::spatial::crs::{Crs, ToWorking};
use crate::spatial::{AreaIndex, RoadNetwork};

/// Everything loaded from a workspace, projected and indexed.
pub struct Atlas {
    pub config: Config,
    /// Display name of the region.
    pub region: String,
    pub areas: Vec<Area>,
    pub index: AreaIndex,
    pub referrals: ReferralSet,
    pub premises: Vec<Premises>,
    pub boundary_sets: Vec<BoundarySet>,
    /// The road network, when `[network]` has a `path` (British National Grid metres).
    pub network: Option<RoadNetwork>,
    /// Parent code columns available for roll-ups.
    pub parent_columns: Vec<String>,
    /// Numeric indicator columns joined to the areas.
    pub indicator_columns: Vec<String>,
    /// Warnings found while loading (errors stop the load).
    pub report: Report,
    /// Parsed opening hours, by premises (None where none are given).
    pub hours: Vec<Option<crate::analysis::hours::Hours>>,
}

impl Atlas {
    /// Area by code.
    pub fn area_by_code(&self, code: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.code == code)
    }

    /// How travel is costed for access analyses: the road network when one is
    /// loaded, otherwise straight line × circuity at the fallback speed of
    /// `[network]` (defaults 1.3 and 30 km/h).
    pub fn travel(
        &self,
    ) -> (
        crate::analysis::access::Travel<'_>,
        crate::analysis::access::AccessParams,
    ) {
        use crate::analysis::access::{AccessParams, Travel};
        let cfg = self.config.network.clone().unwrap_or_default();
        let params = AccessParams {
            circuity: cfg.circuity,
            speed_kmh: cfg.fallback_speed_kmh,
            ..AccessParams::default()
        };
        match &self.network {
            Some(net) => (Travel::Network(net, cfg.connector_speed_kmh), params),
            None => (Travel::StraightLine, params),
        }
    }

    /// `Ok` when some premises is of `kind`; the error names the kinds there are.
    pub fn check_kind(&self, kind: &str) -> Result<(), String> {
        if self.premises.iter().any(|p| p.kind == kind) {
            Ok(())
        } else {
            Err(format!(
                "no premises of kind {kind:?}; kinds are: {}",
                self.premises_kinds().join(", ")
            ))
        }
    }

    /// The distinct premises kinds, sorted.
    pub fn premises_kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = self.premises.iter().map(|p| p.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    }

    /// Bounding box of all areas in WGS84 `[min_lon, min_lat, max_lon, max_lat]`.
    pub fn bbox_wgs84(&self) -> [f64; 4] {
        use geo::BoundingRect;
        let mut b = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for a in &self.areas {
            if let Some(r) = a.geometry_wgs84.bounding_rect() {
                b[0] = b[0].min(r.min().x);
                b[1] = b[1].min(r.min().y);
                b[2] = b[2].max(r.max().x);
                b[3] = b[3].max(r.max().y);
            }
        }
        b
    }
}

/// Options for loading.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Show progress on stderr (only drawn on a terminal).
    pub progress: bool,
    /// An upload being validated: `(kind, file)` read in place of the
    /// store's current upload of that kind (see [`upload_kind`]).
    pub candidate: Option<(String, PathBuf)>,
}

/// The store's name for what an upload replaces: `referrals`,
/// `premises:<layer>` (the layer's file name without extension) or
/// `boundaries:<name>`.
pub fn upload_kind(what: &str, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{what}:{n}"),
        None => what.to_string(),
    }
}

/// A premises layer's name: its file name without the extension.
pub fn premises_layer_name(pc: &PremisesConfig) -> String {
    pc.path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The name shown for (and the `source` of premises read from) the upload
/// being validated.
pub const CANDIDATE: &str = "upload";

/// Where a layer is read from: the candidate being validated, else the
/// store's newest upload of its kind, else the file the workspace names.
struct Sources<'a> {
    cfg: &'a Config,
    store: Option<Box<dyn super::store::UploadStore>>,
    store_path: PathBuf,
    candidate: Option<(String, PathBuf)>,
}

impl Sources<'_> {
    /// `(path to read, name to show, temporary file to remove after)`.
    fn source(
        &mut self,
        kind: &str,
        configured: &Path,
        ext: &str,
        report: &mut Report,
    ) -> (PathBuf, String, Option<TempFile>) {
        if let Some((k, path)) = &self.candidate {
            if k == kind {
                return (path.clone(), CANDIDATE.to_string(), None);
            }
        }
        let uploaded = match self.store.as_mut().map(|s| s.current(kind)) {
            Some(Ok(u)) => u,
            Some(Err(e)) => {
                report.error(&self.store_path.display().to_string(), None, e.to_string());
                None
            }
            None => None,
        };
        match uploaded {
            Some((u, content)) => {
                let tmp = std::env::temp_dir().join(format!(
                    "needmap-upload-{}-{}-{}-{}.{ext}",
                    std::process::id(),
                    temp_seq(),
                    u.id,
                    &u.sha256[..12]
                ));
                if let Err(e) = std::fs::write(&tmp, &content) {
                    report.error(&tmp.display().to_string(), None, e.to_string());
                }
                (
                    tmp.clone(),
                    format!(
                        "{kind} upload #{} ({})",
                        u.id,
                        match &self.cfg.store.url {
                            Some(_) => "the store database".to_string(),
                            None => display_path(self.cfg, &self.store_path),
                        }
                    ),
                    Some(TempFile(tmp)),
                )
            }
            None => (
                self.cfg.resolve(configured),
                display_path(self.cfg, configured),
                None,
            ),
        }
    }
}

fn spinner(opts: &LoadOptions) -> ProgressBar {
    if !opts.progress {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed:>3} {msg}") {
        pb.set_style(style);
    }
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

pub(super) fn layer_crs(
    configured: Option<&str>,
    layer: &VectorLayer,
    display: &str,
    report: &mut Report,
) -> Option<Crs> {
    match configured {
        Some(name) => match Crs::parse(name) {
            Ok(c) => Some(c),
            Err(e) => {
                report.error(display, None, e.to_string());
                None
            }
        },
        None => match &layer.declared_crs {
            Some(c) => Some(c.clone()),
            None => {
                report.error(
                    display,
                    None,
                    "no .prj file beside the .shp, so its CRS is unknown: add the .prj or set crs in the workspace file",
                );
                None
            }
        },
    }
}

fn display_path(cfg: &Config, p: &Path) -> String {
    let _ = cfg;
    p.display().to_string()
}

/// Polygons of a layer, projected in parallel. Diagnostics keep feature order.
fn project_polygons(
    layer: &VectorLayer,
    tf: &ToWorking,
    display: &str,
    id_column: &str,
    report: &mut Report,
) -> Vec<Option<(MultiPolygon<f64>, MultiPolygon<f64>)>> {
    let results: Vec<(Option<ProjectedPolygons>, Report)> = layer
        .features
        .par_iter()
        .map(|f| {
            let mut local = Report::new();
            let label = feature_label(f, Some(id_column));
            let out = match &f.geometry {
                Some(RawGeometry::Polygons(p)) => {
                    polygons_to_working(p, tf, display, &label, &mut local)
                }
                Some(_) => {
                    local.error(display, Some(label), "not a polygon");
                    None
                }
                None => {
                    local.error(display, Some(label), "no geometry");
                    None
                }
            };
            (out, local)
        })
        .collect();
    results
        .into_iter()
        .map(|(g, r)| {
            report.extend(r);
            g
        })
        .collect()
}

fn detect_column(
    columns: &[String],
    configured: Option<&str>,
    pred: impl Fn(&str) -> bool,
) -> Option<String> {
    match configured {
        Some(c) => Some(c.to_string()),
        None => columns
            .iter()
            .find(|c| pred(&c.to_ascii_lowercase()))
            .cloned(),
    }
}

/// Load, validate, project and index a workspace. `Err` holds a report with
/// at least one error (and every other problem found on the way).
pub fn load_workspace(cfg: &Config, opts: &LoadOptions) -> Result<Atlas, Report> {
    let mut report = Report::new();
    let pb = spinner(opts);
    // Users and roles: a bad entry stops the load (default deny, never a silent open door).
    if let Err(e) = crate::privacy::auth::Users::from_config(&cfg.auth) {
        report.error("workspace file", None, e);
        return Err(report);
    }

    // --- Areas -------------------------------------------------------------
    let areas_path = cfg.resolve(&cfg.areas.path);
    let areas_disp = display_path(cfg, &cfg.areas.path);
    pb.set_message(format!("reading areas {areas_disp}"));
    let Some(layer) = read_vector(&areas_path, &areas_disp, &mut report) else {
        return Err(report);
    };
    let Some(crs) = layer_crs(cfg.areas.crs.as_deref(), &layer, &areas_disp, &mut report) else {
        return Err(report);
    };
    let tf = match ToWorking::new(&crs) {
        Ok(t) => t,
        Err(e) => {
            report.error(&areas_disp, None, e.to_string());
            return Err(report);
        }
    };
    let columns = layer.columns();
    if !columns.iter().any(|c| c == &cfg.areas.id) {
        report.error(
            &areas_disp,
            None,
            format!(
                "missing column {:?} (the area id); columns are: {}",
                cfg.areas.id,
                columns.join(", ")
            ),
        );
        return Err(report);
    }
    if let Some(n) = &cfg.areas.name {
        if !columns.iter().any(|c| c == n) {
            report.error(
                &areas_disp,
                None,
                format!(
                    "missing column {n:?} (the area name); columns are: {}",
                    columns.join(", ")
                ),
            );
        }
    }
    pb.set_message(format!(
        "projecting and validating {} areas",
        layer.features.len()
    ));
    let geoms = project_polygons(&layer, &tf, &areas_disp, &cfg.areas.id, &mut report);
    let mut areas: Vec<Area> = Vec::with_capacity(layer.features.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (f, g) in layer.features.iter().zip(geoms) {
        let label = feature_label(f, Some(&cfg.areas.id));
        let Some(code) = f.properties.get(&cfg.areas.id).and_then(PropValue::as_text) else {
            report.error(
                &areas_disp,
                Some(label),
                format!("no value in the id column {:?}", cfg.areas.id),
            );
            continue;
        };
        if let Some(first) = seen.get(&code) {
            report.error(
                &areas_disp,
                Some(label),
                format!("duplicate area code {code:?} (also feature {})", first + 1),
            );
            continue;
        }
        seen.insert(code.clone(), f.index);
        let Some((geometry, geometry_wgs84)) = g else {
            continue;
        };
        let mut numbers = BTreeMap::new();
        let mut texts = BTreeMap::new();
        for (k, v) in &f.properties {
            match v {
                PropValue::Num(n) if n.is_finite() => {
                    numbers.insert(k.clone(), *n);
                }
                PropValue::Text(t) => {
                    if let Some(n) = parse_number(t) {
                        numbers.insert(k.clone(), n);
                    }
                    if !t.trim().is_empty() {
                        texts.insert(k.clone(), t.trim().to_string());
                    }
                }
                _ => {}
            }
        }
        let name = cfg
            .areas
            .name
            .as_ref()
            .and_then(|n| f.properties.get(n))
            .and_then(PropValue::as_text);
        areas.push(Area {
            id: AreaId(areas.len() as u32),
            code,
            name,
            geometry,
            geometry_wgs84,
            population: None,
            simd: None,
            numbers,
            texts,
        });
    }
    if areas.is_empty() {
        report.error(&areas_disp, None, "no usable areas");
        return Err(report);
    }
    let code_index: HashMap<String, usize> = areas
        .iter()
        .enumerate()
        .map(|(i, a)| (a.code.clone(), i))
        .collect();

    // --- Indicator tables ---------------------------------------------------
    let mut indicator_columns: Vec<String> = Vec::new();
    let mut all_columns: Vec<String> = columns.clone();
    for ind in &cfg.indicators {
        let disp = display_path(cfg, &ind.path);
        pb.set_message(format!("joining {disp}"));
        let Some(table) = read_table(&cfg.resolve(&ind.path), &disp, &mut report) else {
            continue;
        };
        let Some(key) = table.column(&ind.key) else {
            report.error(
                &disp,
                None,
                format!(
                    "missing column {:?} (the key); columns are: {}",
                    ind.key,
                    table.headers.join(", ")
                ),
            );
            continue;
        };
        let keep: Vec<usize> = match &ind.columns {
            Some(cols) => {
                let mut v = Vec::new();
                for c in cols {
                    match table.column(c) {
                        Some(i) => v.push(i),
                        None => report.error(
                            &disp,
                            None,
                            format!(
                                "missing column {c:?}; columns are: {}",
                                table.headers.join(", ")
                            ),
                        ),
                    }
                }
                v
            }
            None => (0..table.headers.len()).filter(|&i| i != key).collect(),
        };
        let mut rows = RowProblems::default();
        let mut joined = vec![false; areas.len()];
        let mut numeric_cols = vec![false; table.headers.len()];
        for (r, cells) in table.rows.iter().enumerate() {
            let code = cells[key].trim();
            let Some(&ai) = code_index.get(code) else {
                rows.add(
                    Severity::Warning,
                    "key not among the area codes (row ignored)",
                    r + 1,
                );
                continue;
            };
            if joined[ai] {
                rows.add(Severity::Warning, "duplicate key (first row kept)", r + 1);
                continue;
            }
            joined[ai] = true;
            let area = &mut areas[ai];
            for &c in &keep {
                let cell = cells[c].trim();
                let name = &table.headers[c];
                if let Some(v) = parse_number(cell) {
                    area.numbers.insert(name.clone(), v);
                    numeric_cols[c] = true;
                } else if !cell.is_empty() {
                    area.texts.insert(name.clone(), cell.to_string());
                }
            }
        }
        rows.into_report(&disp, &mut report);
        let missing = joined.iter().filter(|j| !**j).count();
        if missing > 0 {
            let examples: Vec<&str> = areas
                .iter()
                .zip(&joined)
                .filter(|(_, j)| !**j)
                .take(5)
                .map(|(a, _)| a.code.as_str())
                .collect();
            report.warning(
                &disp,
                None,
                format!(
                    "{missing} areas have no row in this table (for example {})",
                    examples.join(", ")
                ),
            );
        }
        for &c in &keep {
            all_columns.push(table.headers[c].clone());
            if numeric_cols[c] {
                indicator_columns.push(table.headers[c].clone());
            }
        }
    }

    // --- Population and SIMD ------------------------------------------------
    if let Some(pop_col) = &cfg.areas.population {
        if !all_columns.iter().any(|c| c == pop_col) {
            report.error(
                &areas_disp,
                None,
                format!(
                    "population column {pop_col:?} is in neither the areas nor an indicator table"
                ),
            );
        } else {
            let mut missing = Vec::new();
            for a in &mut areas {
                match a.numbers.get(pop_col) {
                    Some(&p) if p >= 0.0 => a.population = Some(p),
                    _ => missing.push(a.code.clone()),
                }
            }
            if !missing.is_empty() {
                report.warning(
                    &areas_disp,
                    None,
                    format!(
                        "{} areas have no population in {pop_col:?} (for example {}); their rates are unknown",
                        missing.len(),
                        missing.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
    }
    let rank_col = detect_column(&all_columns, cfg.areas.simd_rank.as_deref(), |c| {
        c.contains("simd") && c.ends_with("_rank") && !c.contains("domain")
    });
    let decile_col = detect_column(&all_columns, cfg.areas.simd_decile.as_deref(), |c| {
        c.contains("simd") && c.ends_with("decile")
    });
    for (what, c) in [("simd_rank", &rank_col), ("simd_decile", &decile_col)] {
        if let Some(c) = c {
            if !all_columns.iter().any(|x| x == c) {
                report.error(
                    &areas_disp,
                    None,
                    format!("{what} column {c:?} is in neither the areas nor an indicator table"),
                );
            }
        }
    }
    if let Some(rc) = &rank_col {
        let max_rank = areas
            .iter()
            .filter_map(|a| a.numbers.get(rc))
            .fold(0.0f64, |m, &v| m.max(v));
        for a in &mut areas {
            let Some(&rank) = a.numbers.get(rc) else {
                continue;
            };
            if rank < 1.0 {
                continue;
            }
            let decile = decile_col
                .as_ref()
                .and_then(|d| a.numbers.get(d))
                .map(|&d| d.clamp(1.0, 10.0) as u8)
                .unwrap_or_else(|| {
                    ((((rank - 1.0) * 10.0 / max_rank.max(1.0)).floor() as u8) + 1).min(10)
                });
            a.simd = Some(Simd {
                rank: rank as u32,
                decile,
                quintile: decile.div_ceil(2),
            });
        }
    }

    // --- Parents --------------------------------------------------------------
    let parent_columns: Vec<String> = match &cfg.areas.parents {
        Some(p) => {
            for c in p {
                if !all_columns.iter().any(|x| x == c) {
                    report.error(
                        &areas_disp,
                        None,
                        format!(
                            "parent column {c:?} is in neither the areas nor an indicator table"
                        ),
                    );
                }
            }
            p.clone()
        }
        None => columns
            .iter()
            .filter(|c| *c != &cfg.areas.id && c.to_ascii_lowercase().ends_with("_code"))
            .filter(|c| areas.iter().any(|a| a.texts.contains_key(*c)))
            .cloned()
            .collect(),
    };

    // --- Index -----------------------------------------------------------------
    pb.set_message(format!("indexing {} areas", areas.len()));
    let index = AreaIndex::new(&areas.iter().map(|a| &a.geometry).collect::<Vec<_>>());

    // --- Referrals -------------------------------------------------------------
    let postcodes = match &cfg.postcodes {
        Some(pc) => {
            let disp = display_path(cfg, &pc.path);
            pb.set_message(format!("reading postcodes {disp}"));
            let crs = match pc.crs.as_deref().map(Crs::parse).transpose() {
                Ok(c) => c,
                Err(e) => {
                    report.error(&disp, None, e.to_string());
                    None
                }
            };
            let cols = PostcodeColumns {
                postcode: pc.postcode.clone(),
                x: pc.x.clone(),
                y: pc.y.clone(),
                crs,
            };
            PostcodeLookup::read(&cfg.resolve(&pc.path), &disp, &cols, &mut report)
        }
        None => None,
    };
    let mut referrals = ReferralSet::default();
    let store_path = cfg.store_path();
    // The store (uploads and edits), opened once.
    let store = super::store::open_store(cfg, false).unwrap_or_else(|e| {
        report.error(&store_path.display().to_string(), None, e.to_string());
        None
    });
    let mut sources = Sources {
        cfg,
        store,
        store_path: store_path.clone(),
        candidate: opts.candidate.clone(),
    };
    if let Some(rc) = &cfg.referrals {
        pb.set_message(format!("reading referrals {}", display_path(cfg, &rc.path)));
        // The newest referral extract uploaded to the store replaces the file.
        let (path, disp, _tmp) = sources.source("referrals", &rc.path, "csv", &mut report);
        if let Some(mut set) =
            super::referrals::read_referrals(&path, &disp, rc, postcodes.as_ref(), &mut report)
        {
            pb.set_message(format!(
                "placing {} referrals in areas",
                set.referrals.len()
            ));
            let xs: Vec<f64> = set.referrals.iter().map(|r| r.x_m).collect();
            let ys: Vec<f64> = set.referrals.iter().map(|r| r.y_m).collect();
            let located = index.locate_all(&xs, &ys);
            let mut outside = RowProblems::default();
            for (r, a) in set.referrals.iter_mut().zip(located) {
                r.area = a;
                if a.is_none() {
                    outside.add(
                        Severity::Warning,
                        "point outside every area (not counted in any area)",
                        r.row,
                    );
                }
            }
            outside.into_report(&disp, &mut report);
            referrals = set;
        }
    }

    // --- Premises --------------------------------------------------------------
    let mut premises = Vec::new();
    for pc in &cfg.premises {
        let kind = upload_kind("premises", Some(&premises_layer_name(pc)));
        let (path, disp, _tmp) = sources.source(&kind, &pc.path, "geojson", &mut report);
        load_premises(pc, &path, &disp, &mut premises, &mut report);
    }
    // Premises are named by id in edits, scenarios and the API: one id, one premises.
    {
        let mut first: HashMap<&str, &Premises> = HashMap::new();
        for p in &premises {
            let q = *first.entry(p.code.as_str()).or_insert(p);
            if std::ptr::eq(q, p) {
                continue;
            }
            let other = if q.source == p.source {
                q.name.clone()
            } else {
                format!("{}, in {}", q.name, q.source)
            };
            report.error(
                &p.source,
                Some(format!("premises {:?} ({})", p.code, p.name)),
                format!("another premises ({other}) has the same id; edits, scenarios and the API name premises by id, so set [[premises]] id to a column with one value per premises"),
            );
        }
    }
    // Edits made through the API, in order, from the store.
    {
        let shown = display_path(cfg, &store_path);
        let edits = sources
            .store
            .as_mut()
            .map(|s| s.premises_edits())
            .transpose()
            .map(Option::unwrap_or_default);
        match edits {
            Ok(edits) => {
                // An upload of a premises layer supersedes the edits made
                // before it to the premises it holds (a reset edit).
                let mut reset_at: HashMap<String, i64> = HashMap::new();
                for (id, version, edit) in &edits {
                    if edit.get(super::store::RESET).is_some() {
                        reset_at.insert(id.clone(), *version);
                    }
                }
                for (id, version, edit) in edits {
                    if reset_at.get(&id).is_some_and(|&r| version <= r) {
                        continue;
                    }
                    let what = Some(format!("premises {id:?}, edit {version}"));
                    match serde_json::from_value::<super::store::PremisesEdit>(edit) {
                        Ok(e) => match premises.iter_mut().find(|p| p.code == id) {
                            // A premises layer being uploaded supersedes the
                            // edits made before it, as its reset edits will.
                            Some(p) if p.source == CANDIDATE => {}
                            Some(p) => {
                                if let Err(m) = e.apply(p) {
                                    report.error(&shown, what, m);
                                }
                            }
                            None => report.warning(
                                &shown,
                                what,
                                "no such premises in the layers loaded; edit left out",
                            ),
                        },
                        Err(err) => report.error(&shown, what, err.to_string()),
                    }
                }
            }
            Err(e) => report.error(&shown, None, e.to_string()),
        }
    }
    // Opening hours: parse every expression now, so a typo is an error naming the premises.
    let holidays =
        crate::analysis::hours::holiday_calendar(2000, 2100, &cfg.hours.extra_public_holidays);
    let hours: Vec<Option<crate::analysis::hours::Hours>> = premises
        .iter()
        .map(|p: &Premises| {
            let text = p.opening_hours.as_deref()?;
            match crate::analysis::hours::Hours::parse(text, &holidays) {
                Ok(h) => Some(h),
                Err(e) => {
                    report.error(
                        &p.source,
                        Some(format!("premises {:?} ({})", p.code, p.name)),
                        format!(
                            "opening_hours {text:?} is not valid OSM opening_hours syntax:\n{e}"
                        ),
                    );
                    None
                }
            }
        })
        .collect();

    // --- Road network ------------------------------------------------------------
    let network = match cfg.network.as_ref() {
        Some(nc) => match &nc.path {
            Some(p) => {
                let disp = display_path(cfg, p);
                pb.set_message(format!("reading the road network {disp}"));
                let net = super::roads::load_road_network(&cfg.resolve(p), &disp, nc, &mut report);
                if let Some(net) = &net {
                    check_network_extent(net, &areas, &disp, &mut report);
                }
                net
            }
            None => None,
        },
        None => None,
    };

    // --- Boundary sets -----------------------------------------------------------
    let mut boundary_sets = Vec::new();
    for bc in &cfg.boundaries {
        pb.set_message(format!("reading boundary set {}", bc.name));
        let kind = upload_kind("boundaries", Some(&bc.name));
        let (path, disp, _tmp) = sources.source(&kind, &bc.path, "geojson", &mut report);
        let Some(layer) = read_vector(&path, &disp, &mut report) else {
            continue;
        };
        let Some(crs) = layer_crs(bc.crs.as_deref(), &layer, &disp, &mut report) else {
            continue;
        };
        let Ok(tf) = ToWorking::new(&crs) else {
            report.error(&disp, None, format!("cannot use CRS {crs}"));
            continue;
        };
        let cols = layer.columns();
        if !cols.iter().any(|c| c == &bc.id) {
            report.error(
                &disp,
                None,
                format!(
                    "missing column {:?} (the unit id); columns are: {}",
                    bc.id,
                    cols.join(", ")
                ),
            );
            continue;
        }
        let geoms = project_polygons(&layer, &tf, &disp, &bc.id, &mut report);
        let mut units = Vec::new();
        let mut seen = HashMap::new();
        for (f, g) in layer.features.iter().zip(geoms) {
            let label = feature_label(f, Some(&bc.id));
            let Some(code) = f.properties.get(&bc.id).and_then(PropValue::as_text) else {
                report.error(
                    &disp,
                    Some(label),
                    format!("no value in the id column {:?}", bc.id),
                );
                continue;
            };
            if let Some(first) = seen.insert(code.clone(), f.index) {
                report.error(
                    &disp,
                    Some(label),
                    format!("duplicate unit code {code:?} (also feature {})", first + 1),
                );
                continue;
            }
            let Some((geometry, geometry_wgs84)) = g else {
                continue;
            };
            units.push(BoundaryUnit {
                id: BoundaryUnitId(units.len() as u32),
                code,
                name: bc
                    .label
                    .as_ref()
                    .and_then(|l| f.properties.get(l))
                    .and_then(PropValue::as_text),
                geometry,
                geometry_wgs84,
            });
        }
        boundary_sets.push(BoundarySet {
            name: bc.name.clone(),
            units,
        });
    }
    pb.finish_and_clear();

    if report.has_errors() {
        return Err(report);
    }
    Ok(Atlas {
        region: cfg
            .region
            .clone()
            .unwrap_or_else(|| "needmap workspace".to_string()),
        config: cfg.clone(),
        areas,
        index,
        referrals,
        premises,
        boundary_sets,
        network,
        parent_columns,
        indicator_columns,
        report,
        hours,
    })
}

/// Warn when the road network does not reach the areas at all (a wrong CRS, or
/// the wrong file): every place would then travel to it off the network.
fn check_network_extent(net: &RoadNetwork, areas: &[Area], display: &str, report: &mut Report) {
    use geo::BoundingRect;
    let Some(nb) = net.bbox() else {
        return;
    };
    let overlaps = areas.iter().any(|a| {
        a.geometry.bounding_rect().is_some_and(|r| {
            r.min().x <= nb[2] && nb[0] <= r.max().x && r.min().y <= nb[3] && nb[1] <= r.max().y
        })
    });
    if !overlaps {
        report.warning(
            display,
            None,
            "the road network does not overlap any area: check the file and its CRS",
        );
    }
}

fn load_premises(
    pc: &PremisesConfig,
    path: &Path,
    disp: &str,
    out: &mut Vec<Premises>,
    report: &mut Report,
) {
    let disp = disp.to_string();
    let Some(layer) = read_vector(path, &disp, report) else {
        return;
    };
    let Some(crs) = layer_crs(pc.crs.as_deref(), &layer, &disp, report) else {
        return;
    };
    let Ok(tf) = ToWorking::new(&crs) else {
        report.error(&disp, None, format!("cannot use CRS {crs}"));
        return;
    };
    let cols = layer.columns();
    let has = |c: &str| cols.iter().any(|x| x == c);
    let id_col = pc.id.clone().unwrap_or_else(|| "premises_id".into());
    let name_col = pc.name.clone().unwrap_or_else(|| "name".into());
    let kind_col = pc.kind_column.clone().unwrap_or_else(|| "kind".into());
    for (what, c, required) in [
        ("id", &pc.id, true),
        ("name", &pc.name, true),
        ("kind", &pc.kind_column, true),
        ("services", &pc.services, true),
        ("capacity", &pc.capacity, true),
        ("provider", &pc.provider, true),
        ("opening_hours", &pc.opening_hours, true),
        ("eligibility", &pc.eligibility, true),
    ] {
        if let Some(c) = c {
            if required && !has(c) {
                report.error(
                    &disp,
                    None,
                    format!(
                        "missing column {c:?} (the {what} column); columns are: {}",
                        cols.join(", ")
                    ),
                );
                return;
            }
        }
    }
    if pc.kind.is_none() && !has(&kind_col) {
        report.error(
            &disp,
            None,
            format!("missing column {kind_col:?} (the premises kind): add it, or set kind = \"school\" (say) for the whole layer"),
        );
        return;
    }
    let text =
        |f: &super::vector::Feature, c: &str| f.properties.get(c).and_then(PropValue::as_text);
    let services_col = pc.services.clone().unwrap_or_else(|| "services".into());
    let capacity_col = pc.capacity.clone().unwrap_or_else(|| "capacity".into());
    let provider_col = pc.provider.clone().unwrap_or_else(|| "provider".into());
    let hours_col = pc
        .opening_hours
        .clone()
        .unwrap_or_else(|| "opening_hours".into());
    let eligibility_col = pc
        .eligibility
        .clone()
        .unwrap_or_else(|| "eligibility".into());
    let mut rows = RowProblems::default();
    for f in &layer.features {
        let label_row = f.index + 1;
        let (x, y) = match &f.geometry {
            Some(RawGeometry::Point(x, y)) => (*x, *y),
            Some(_) => {
                rows.add(Severity::Error, "premises must be points", label_row);
                continue;
            }
            None => {
                rows.add(Severity::Error, "no geometry", label_row);
                continue;
            }
        };
        let ((x_m, y_m), (lon, lat)) = match point_to_working(&tf, x, y) {
            Ok(v) => v,
            Err(m) => {
                rows.add(Severity::Error, m, label_row);
                continue;
            }
        };
        let kind = pc
            .kind
            .clone()
            .or_else(|| text(f, &kind_col))
            .map(|k| k.trim().to_ascii_lowercase().replace([' ', '-'], "_"));
        let Some(kind) = kind else {
            rows.add(
                Severity::Error,
                format!("no kind in column {kind_col:?}"),
                label_row,
            );
            continue;
        };
        let code = text(f, &id_col).unwrap_or_else(|| format!("{}#{}", disp, f.index + 1));
        out.push(Premises {
            id: PremisesId(out.len() as u32),
            source: disp.clone(),
            name: text(f, &name_col).unwrap_or_else(|| code.clone()),
            code,
            kind,
            services: text(f, &services_col)
                .map(|s| {
                    s.split(';')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            capacity: f
                .properties
                .get(&capacity_col)
                .and_then(PropValue::as_number),
            provider: text(f, &provider_col),
            opening_hours: text(f, &hours_col),
            eligibility: text(f, &eligibility_col),
            x_m,
            y_m,
            lon,
            lat,
        });
    }
    // Feature numbers are reported as rows here.
    let mut local = Report::new();
    rows.into_report(&disp, &mut local);
    for mut d in local.diagnostics {
        d.record = d.record.map(|r| r.replacen("row", "feature", 1));
        report.diagnostics.push(d);
    }
}

/// A file removed when dropped.
struct TempFile(std::path::PathBuf);

/// A number for a temporary file's name, new on each call in this process
/// (loads run side by side in one process: tests, a server's reloads).
pub fn temp_seq() -> u64 {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
