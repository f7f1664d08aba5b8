//! Referral extracts (CSV): coordinates (lon/lat or easting/northing) or a
//! postcode placed through a lookup, an optional received time and group.
//! Bad rows are counted and reported by row and left out; a file whose
//! coordinates mostly look swapped or mislabelled is an error.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use rayon::prelude::*;

use super::postcodes::{PostcodeLookup, PostcodeProblem};
use super::report::{Report, RowProblems, Severity};
use super::table::{open_csv, parse_number};
use super::vector::coordinate_mistake;
use crate::config::ReferralsConfig;
use crate::model::{Referral, ReferralId, ReferralSet};
use crate::spatial::crs::{Crs, ToWorking};

/// Parse a received time into local wall-clock time in Europe/London:
/// RFC 3339 with a zone (`2024-03-31T01:30:00Z`, `...+01:00`) is converted to
/// UK time (GMT or BST as the date requires); ISO 8601 without a zone
/// (`2024-03-05T14:30:00`, `2024-03-05 14:30`) is taken as UK local time
/// already; a date alone is midnight.
pub fn parse_time(s: &str) -> Option<NaiveDateTime> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&chrono_tz::Europe::London).naive_local());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(dt);
        }
    }
    for fmt in ["%Y-%m-%d", "%d/%m/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, fmt) {
            return d.and_hms_opt(0, 0, 0);
        }
    }
    None
}

struct Parsed {
    x: f64,
    y: f64,
    crs_is_lookup: bool,
    received: Option<NaiveDateTime>,
    group: Option<u16>,
    row: usize,
}

/// Read a referral extract. Points are returned in British National Grid;
/// `area` is left empty for the caller to assign.
pub fn read_referrals(
    path: &Path,
    display: &str,
    cfg: &ReferralsConfig,
    postcodes: Option<&PostcodeLookup>,
    report: &mut Report,
) -> Option<ReferralSet> {
    let crs = match cfg.crs.as_deref().map(Crs::parse).transpose() {
        Ok(c) => c.unwrap_or(Crs::Wgs84),
        Err(e) => {
            report.error(display, None, e.to_string());
            return None;
        }
    };
    let tf = match ToWorking::new(&crs) {
        Ok(t) => t,
        Err(e) => {
            report.error(display, None, e.to_string());
            return None;
        }
    };
    let (mut rdr, headers) = open_csv(path, display, report)?;
    let col =
        |name: &Option<String>, what: &str, report: &mut Report| -> Result<Option<usize>, ()> {
            match name {
                None => Ok(None),
                Some(n) => match headers.iter().position(|h| h == n) {
                    Some(i) => Ok(Some(i)),
                    None => {
                        report.error(
                            display,
                            None,
                            format!(
                                "missing column {n:?} (the {what} column); columns are: {}",
                                headers.join(", ")
                            ),
                        );
                        Err(())
                    }
                },
            }
        };
    let xi = col(&cfg.x, "x", report);
    let yi = col(&cfg.y, "y", report);
    let pi = col(&cfg.postcode, "postcode", report);
    let ti = col(&cfg.time, "time", report);
    let gi = col(&cfg.group, "group", report);
    let (Ok(xi), Ok(yi), Ok(pi), Ok(ti), Ok(gi)) = (xi, yi, pi, ti, gi) else {
        return None;
    };
    if pi.is_some() && postcodes.is_none() {
        report.error(
            display,
            None,
            "postcode column given but no postcode lookup is loaded",
        );
        return None;
    }

    let mut problems = RowProblems::default();
    let mut group_ids: BTreeMap<String, u16> = BTreeMap::new();
    let mut parsed: Vec<Parsed> = Vec::new();
    let (mut swapped, mut mislabelled) = (0usize, 0usize);
    let mut rec = csv::StringRecord::new();
    let mut row = 0usize;
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                row += 1;
                problems.add(Severity::Warning, format!("cannot read row: {e}"), row);
                continue;
            }
        }
        row += 1;
        let received = match ti {
            Some(i) => {
                let raw = rec.get(i).unwrap_or("");
                let t = parse_time(raw);
                if t.is_none() {
                    problems.add(
                        Severity::Warning,
                        format!("received time {raw:?} is not a date-time (kept in totals, left out of periods)"),
                        row,
                    );
                }
                t
            }
            None => None,
        };
        let group = match gi {
            Some(i) => {
                let g = rec.get(i).unwrap_or("").trim();
                if g.is_empty() {
                    None
                } else {
                    let next = group_ids.len();
                    if next >= u16::MAX as usize && !group_ids.contains_key(g) {
                        problems.add(
                            Severity::Warning,
                            "too many distinct groups (65,535 kept)",
                            row,
                        );
                        None
                    } else {
                        Some(*group_ids.entry(g.to_string()).or_insert(next as u16))
                    }
                }
            }
            None => None,
        };
        let (x, y, crs_is_lookup) = if let (Some(p), Some(lk)) = (pi, postcodes) {
            let raw = rec.get(p).unwrap_or("");
            match lk.lookup(raw) {
                Ok((x, y)) => (x, y, true),
                Err(PostcodeProblem::Malformed) => {
                    problems.add(
                        Severity::Warning,
                        format!("malformed postcode {:?}", raw.trim()),
                        row,
                    );
                    continue;
                }
                Err(PostcodeProblem::Unknown) => {
                    problems.add(
                        Severity::Warning,
                        format!("unknown postcode {:?} (not in the lookup)", raw.trim()),
                        row,
                    );
                    continue;
                }
            }
        } else {
            let (Some(xc), Some(yc)) = (xi, yi) else {
                continue;
            };
            let (rx, ry) = (rec.get(xc).unwrap_or(""), rec.get(yc).unwrap_or(""));
            let (x, y) = match (parse_coordinate(rx), parse_coordinate(ry)) {
                (Ok(x), Ok(y)) => (x, y),
                (Err(p), _) => {
                    problems.add(Severity::Warning, format!("x {p}"), row);
                    continue;
                }
                (_, Err(p)) => {
                    problems.add(Severity::Warning, format!("y {p}"), row);
                    continue;
                }
            };
            if let Some(m) = coordinate_mistake(&crs, x, y) {
                if m.contains("wrong order") {
                    swapped += 1;
                    problems.add(
                        Severity::Warning,
                        "coordinates look like latitude, longitude in the wrong order",
                        row,
                    );
                } else if m.contains("looks like") {
                    mislabelled += 1;
                    problems.add(
                        Severity::Warning,
                        format!(
                            "coordinates do not fit the CRS {crs}: {}",
                            m.split(": ").next().unwrap_or(&m)
                        ),
                        row,
                    );
                } else {
                    problems.add(Severity::Warning, m, row);
                }
                continue;
            }
            (x, y, false)
        };
        parsed.push(Parsed {
            x,
            y,
            crs_is_lookup,
            received,
            group,
            row,
        });
    }
    if row == 0 {
        report.error(display, None, "the file has a header but no data rows");
        return None;
    }
    if swapped * 2 > row {
        report.error(
            display,
            None,
            format!("{swapped} of {row} rows have latitude and longitude in the wrong order: swap the x and y columns in the workspace file"),
        );
    }
    if mislabelled * 2 > row {
        report.error(
            display,
            None,
            format!("{mislabelled} of {row} rows have coordinates that do not fit the CRS {crs}: check the crs setting"),
        );
    }

    // Project in parallel.
    let lookup_tf = postcodes.and_then(|lk| ToWorking::new(&lk.crs).ok());
    let projected: Vec<Result<(f64, f64), String>> = parsed
        .par_iter()
        .with_min_len(8192)
        .map(|p| {
            let t = if p.crs_is_lookup {
                lookup_tf.as_ref().unwrap_or(&tf)
            } else {
                &tf
            };
            t.to_bng(p.x, p.y).map_err(|e| e.to_string())
        })
        .collect();

    // Groups sorted by name; remap ids.
    let mut names: Vec<(String, u16)> = group_ids.into_iter().collect();
    names.sort();
    let mut remap = vec![0u16; names.len()];
    for (new, (_, old)) in names.iter().enumerate() {
        remap[*old as usize] = new as u16;
    }
    let groups: Vec<String> = names.into_iter().map(|(n, _)| n).collect();

    let mut referrals = Vec::with_capacity(parsed.len());
    for (p, xy) in parsed.into_iter().zip(projected) {
        match xy {
            Ok((x_m, y_m)) => referrals.push(Referral {
                id: ReferralId(referrals.len() as u32),
                x_m,
                y_m,
                received: p.received,
                group: p.group.map(|g| remap[g as usize]),
                area: None,
                row: p.row,
            }),
            Err(_) => problems.add(
                Severity::Warning,
                "point outside the area the OSTN15 transform covers",
                p.row,
            ),
        }
    }
    problems.into_report(display, report);
    Some(ReferralSet { referrals, groups })
}

fn parse_coordinate(raw: &str) -> Result<f64, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err("is missing".into());
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(format!("{t:?} is not a finite number")),
        Err(_) => match parse_number(t) {
            Some(v) => Ok(v),
            None => Err(format!("{t:?} is not a number")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times() {
        assert!(parse_time("2024-03-05T14:30:00").is_some());
        assert!(parse_time("2024-03-05 14:30").is_some());
        // 5 March is GMT: 14:30 at +01:00 is 13:30 in the UK.
        assert_eq!(
            parse_time("2024-03-05T14:30:00+01:00").map(|t| t.to_string()),
            Some("2024-03-05 13:30:00".to_string())
        );
        assert!(parse_time("2024-03-05").is_some());
        assert!(parse_time("yesterday").is_none());
    }
}
