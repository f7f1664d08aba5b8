//! Reading a road network: a line layer (GeoJSON or Shapefile) with a road
//! class column, such as the OS Open Roads `road_link` layer. Lines are
//! projected to British National Grid, given the speed of their class from
//! `[network]` in the workspace, and joined into a [`RoadNetwork`].
//!
//! Problems with single features are warnings and leave the feature out: a
//! geometry that is not a line, a line with fewer than two distinct positions,
//! a coordinate that cannot be projected. A class with no configured speed (or
//! a missing class) is a warning counted per class, and the line travels at
//! `default_speed_kmh`. A file that cannot be read, a missing class column or a
//! layer with no usable line is an error.

use std::path::Path;

use rayon::prelude::*;

use super::report::{Report, RowProblems, Severity};
use super::vector::{coordinate_mistake, read_vector, PropValue, RawGeometry};
use super::workspace::layer_crs;
use crate::config::NetworkConfig;
use crate::spatial::crs::ToWorking;
use crate::spatial::network::{RoadLine, RoadNetwork};

/// Features with coordinate problems listed one by one before a summary.
const COORDINATE_PROBLEMS_LISTED: usize = 10;

/// Below this share of nodes in the largest component, a warning says the
/// network is fragmented.
const CONNECTED_SHARE_WARNING: f64 = 0.9;

/// What became of one feature.
enum Outcome {
    /// Lines in British National Grid, and a problem with some of its parts.
    Lines(Vec<Vec<[f64; 2]>>, Option<&'static str>),
    /// Left out for a problem shared by many features.
    LeftOut(&'static str),
    /// Left out for a coordinate problem (the text names the coordinate).
    BadCoordinate(String),
}

fn project_feature(geometry: Option<&RawGeometry>, tf: &ToWorking) -> Outcome {
    let parts = match geometry {
        Some(RawGeometry::Lines(parts)) => parts,
        Some(RawGeometry::Point(..)) => {
            return Outcome::LeftOut("a point, not a line: left out of the network")
        }
        Some(RawGeometry::Polygons(..)) => {
            return Outcome::LeftOut("a polygon, not a line: left out of the network")
        }
        None => return Outcome::LeftOut("no geometry: left out of the network"),
    };
    let mut lines = Vec::with_capacity(parts.len());
    let mut degenerate = false;
    for part in parts {
        let mut line: Vec<[f64; 2]> = Vec::with_capacity(part.len());
        for &(x, y) in part {
            if let Some(m) = coordinate_mistake(tf.crs(), x, y) {
                return Outcome::BadCoordinate(m);
            }
            let p = match tf.to_bng(x, y) {
                Ok((bx, by)) => [bx, by],
                Err(e) => return Outcome::BadCoordinate(e.to_string()),
            };
            if line.last() != Some(&p) {
                line.push(p);
            }
        }
        if line.len() >= 2 {
            lines.push(line);
        } else {
            degenerate = true;
        }
    }
    if lines.is_empty() {
        return Outcome::LeftOut(
            "a line with fewer than two distinct positions: left out of the network",
        );
    }
    let note = degenerate
        .then_some("a part of the line has fewer than two distinct positions: that part left out");
    Outcome::Lines(lines, note)
}

/// Read road lines with their speeds (British National Grid metres). Problems
/// go into `report` (see the module documentation); `None` when the layer
/// cannot be used at all.
pub fn read_road_lines(
    path: &Path,
    display: &str,
    cfg: &NetworkConfig,
    report: &mut Report,
) -> Option<Vec<RoadLine>> {
    let layer = read_vector(path, display, report)?;
    let crs = layer_crs(cfg.crs.as_deref(), &layer, display, report)?;
    let tf = match ToWorking::new(&crs) {
        Ok(t) => t,
        Err(e) => {
            report.error(display, None, e.to_string());
            return None;
        }
    };
    let columns = layer.columns();
    if !columns.iter().any(|c| c == &cfg.class) {
        report.error(
            display,
            None,
            format!(
                "missing column {:?} (the road class); columns are: {}",
                cfg.class,
                columns.join(", ")
            ),
        );
        return None;
    }
    let outcomes: Vec<Outcome> = layer
        .features
        .par_iter()
        .map(|f| project_feature(f.geometry.as_ref(), &tf))
        .collect();

    let mut grouped = RowProblems::default();
    let mut bad_coordinates = 0usize;
    let mut lines = Vec::new();
    for (f, outcome) in layer.features.iter().zip(outcomes) {
        let feature = f.index + 1;
        let parts = match outcome {
            Outcome::Lines(parts, note) => {
                if let Some(note) = note {
                    grouped.add(Severity::Warning, note, feature);
                }
                parts
            }
            Outcome::LeftOut(problem) => {
                grouped.add(Severity::Warning, problem, feature);
                continue;
            }
            Outcome::BadCoordinate(problem) => {
                bad_coordinates += 1;
                if bad_coordinates <= COORDINATE_PROBLEMS_LISTED {
                    report.warning(
                        display,
                        Some(format!("feature {feature}")),
                        format!("{problem}: left out of the network"),
                    );
                }
                continue;
            }
        };
        let class = f.properties.get(&cfg.class).and_then(PropValue::as_text);
        let speed_kmh = match class.as_deref().and_then(|c| cfg.speed_for(c)) {
            Some(v) => v,
            None => {
                let problem = match &class {
                    Some(c) => format!(
                        "road class {c:?} has no speed in [network] speeds_kmh: the default {} km/h is used",
                        cfg.default_speed_kmh
                    ),
                    None => format!(
                        "no road class in column {:?}: the default {} km/h is used",
                        cfg.class, cfg.default_speed_kmh
                    ),
                };
                grouped.add(Severity::Warning, problem, feature);
                cfg.default_speed_kmh
            }
        };
        lines.extend(
            parts
                .into_iter()
                .map(|coords| RoadLine { coords, speed_kmh }),
        );
    }
    if bad_coordinates > COORDINATE_PROBLEMS_LISTED {
        report.warning(
            display,
            None,
            format!(
                "{} more features have coordinates that cannot be used and are left out of the network ({bad_coordinates} in all)",
                bad_coordinates - COORDINATE_PROBLEMS_LISTED
            ),
        );
    }
    grouped.into_report_as(display, report, ("feature", "features"));
    if lines.is_empty() {
        report.error(display, None, "no usable road lines");
        return None;
    }
    Some(lines)
}

/// Read a road layer and build its network, joining line ends within
/// `cfg.snap_m`. A network whose largest connected part holds under 90 % of
/// the nodes gets a warning (places on the other parts reach only their own part).
pub fn load_road_network(
    path: &Path,
    display: &str,
    cfg: &NetworkConfig,
    report: &mut Report,
) -> Option<RoadNetwork> {
    let lines = read_road_lines(path, display, cfg, report)?;
    let net = RoadNetwork::from_lines(&lines, cfg.snap_m);
    let components = net.components();
    let largest = net.largest_component();
    let in_largest = components.iter().filter(|&&c| c == largest).count();
    let share = in_largest as f64 / net.node_count().max(1) as f64;
    if share < CONNECTED_SHARE_WARNING {
        let parts = components.iter().max().map_or(0, |&m| m as usize + 1);
        report.warning(
            display,
            None,
            format!(
                "the road network falls into {parts} separate parts and the largest holds only {:.1} % of the {} nodes: check snap_m ({} m) and the extent of the layer",
                share * 100.0,
                net.node_count(),
                cfg.snap_m
            ),
        );
    }
    Some(net)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spatial::crs::{Crs, ToWorking};

    #[test]
    fn features_become_lines_or_reasons() {
        let tf = ToWorking::new(&Crs::Bng).expect("BNG");
        let line = RawGeometry::Lines(vec![
            vec![(0.0, 0.0), (0.0, 0.0), (10.0, 0.0)],
            vec![(5.0, 5.0)],
        ]);
        match project_feature(Some(&line), &tf) {
            Outcome::Lines(parts, note) => {
                assert_eq!(parts, vec![vec![[0.0, 0.0], [10.0, 0.0]]]);
                assert!(note.is_some());
            }
            _ => panic!("a line"),
        }
        assert!(matches!(
            project_feature(Some(&RawGeometry::Point(1.0, 2.0)), &tf),
            Outcome::LeftOut(_)
        ));
        let lonlat = RawGeometry::Lines(vec![vec![(-3.1, 55.9), (-3.2, 55.9)]]);
        assert!(matches!(
            project_feature(Some(&lonlat), &tf),
            Outcome::BadCoordinate(m) if m.contains("EPSG:4326")
        ));
    }
}
