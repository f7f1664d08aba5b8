//! Postcode geocoding through a lookup file (Scottish Postcode Directory, ONS
//! NSPL, Code-Point Open). Postcodes are normalised (case, spacing) and checked
//! against the UK format; unknown or malformed ones are reported, never guessed.

use std::collections::HashMap;
use std::path::Path;

use super::report::Report;
use super::table::{open_csv, parse_number};
use crate::spatial::crs::Crs;

/// Why a postcode could not be placed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PostcodeProblem {
    Malformed,
    Unknown,
}

/// Normalise a postcode to its compact upper-case form (`EH11YZ`) and check
/// its format: outward code `A9`, `A99`, `AA9`, `AA99`, `A9A` or `AA9A`, then
/// inward code `9AA`.
pub fn normalise(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
        return None;
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    let inb = inward.as_bytes();
    if !(inb[0].is_ascii_digit() && inb[1].is_ascii_alphabetic() && inb[2].is_ascii_alphabetic()) {
        return None;
    }
    let shape: String = outward
        .bytes()
        .map(|b| {
            if b.is_ascii_digit() {
                '9'
            } else if b.is_ascii_alphabetic() {
                'A'
            } else {
                '?'
            }
        })
        .collect();
    matches!(
        shape.as_str(),
        "A9" | "A99" | "AA9" | "AA99" | "A9A" | "AA9A"
    )
    .then_some(compact)
}

/// The display form of a compact postcode: `EH1 1YZ`.
pub fn display_form(compact: &str) -> String {
    let (o, i) = compact.split_at(compact.len().saturating_sub(3));
    format!("{o} {i}")
}

/// Postcode to coordinates in the lookup's CRS.
pub struct PostcodeLookup {
    pub crs: Crs,
    map: HashMap<String, (f64, f64)>,
}

/// Columns to use from a postcode lookup file (defaults suit the SPD, NSPL and Code-Point Open).
#[derive(Clone, Debug, Default)]
pub struct PostcodeColumns {
    pub postcode: Option<String>,
    pub x: Option<String>,
    pub y: Option<String>,
    pub crs: Option<Crs>,
}

impl PostcodeLookup {
    /// Number of postcodes held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Look a postcode up (any case or spacing).
    pub fn lookup(&self, raw: &str) -> Result<(f64, f64), PostcodeProblem> {
        let compact = normalise(raw).ok_or(PostcodeProblem::Malformed)?;
        self.map
            .get(&compact)
            .copied()
            .ok_or(PostcodeProblem::Unknown)
    }

    /// Build from pairs (for tests and programmatic use).
    pub fn from_pairs(
        crs: Crs,
        pairs: impl IntoIterator<Item = (String, (f64, f64))>,
    ) -> PostcodeLookup {
        let map = pairs
            .into_iter()
            .filter_map(|(p, xy)| normalise(&p).map(|c| (c, xy)))
            .collect();
        PostcodeLookup { crs, map }
    }

    /// Read a lookup CSV. Columns default to `postcode`/`pcd`/`pcds` and
    /// `longitude`/`latitude` (EPSG:4326), else `easting`/`northing`
    /// (EPSG:27700). Split postcodes (an SPD suffix `A`/`B`) are folded into
    /// their plain form; the first occurrence is kept.
    pub fn read(
        path: &Path,
        display: &str,
        cols: &PostcodeColumns,
        report: &mut Report,
    ) -> Option<PostcodeLookup> {
        let (mut rdr, headers) = open_csv(path, display, report)?;
        let find = |names: &[&str]| {
            headers
                .iter()
                .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
        };
        let pc = match &cols.postcode {
            Some(c) => headers.iter().position(|h| h == c),
            None => find(&["postcode", "pcd", "pcds", "pcd2"]),
        };
        let Some(pc) = pc else {
            report.error(
                display,
                None,
                format!(
                    "no postcode column (looked for {}); columns are: {}",
                    cols.postcode.as_deref().unwrap_or("postcode, pcd, pcds"),
                    headers.join(", ")
                ),
            );
            return None;
        };
        let (xi, yi, crs) = match (&cols.x, &cols.y) {
            (Some(x), Some(y)) => {
                let (xi, yi) = (
                    headers.iter().position(|h| h == x),
                    headers.iter().position(|h| h == y),
                );
                match (xi, yi) {
                    (Some(a), Some(b)) => (a, b, cols.crs.clone().unwrap_or(Crs::Wgs84)),
                    _ => {
                        report.error(
                            display,
                            None,
                            format!(
                                "columns {x:?} and {y:?} are not both present; columns are: {}",
                                headers.join(", ")
                            ),
                        );
                        return None;
                    }
                }
            }
            _ => {
                if let (Some(a), Some(b)) = (
                    find(&["longitude", "long", "lon"]),
                    find(&["latitude", "lat"]),
                ) {
                    (a, b, Crs::Wgs84)
                } else if let (Some(a), Some(b)) = (
                    find(&["easting", "oseast1m", "x"]),
                    find(&["northing", "osnrth1m", "y"]),
                ) {
                    (a, b, Crs::Bng)
                } else {
                    report.error(display, None, format!("no coordinate columns (longitude/latitude or easting/northing); columns are: {}", headers.join(", ")));
                    return None;
                }
            }
        };
        let mut map = HashMap::with_capacity(200_000);
        let mut bad = super::report::RowProblems::default();
        let mut rec = csv::StringRecord::new();
        let mut row = 0usize;
        loop {
            match rdr.read_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    row += 1;
                    bad.add(
                        super::Severity::Warning,
                        format!("cannot read row: {e}"),
                        row,
                    );
                    continue;
                }
            }
            row += 1;
            let raw = rec.get(pc).unwrap_or("");
            let compact = normalise(raw).or_else(|| {
                // SPD split postcodes end in an extra A or B.
                let t = raw.trim();
                (t.ends_with('A') || t.ends_with('B'))
                    .then(|| normalise(&t[..t.len() - 1]))
                    .flatten()
            });
            let Some(compact) = compact else {
                bad.add(
                    super::Severity::Warning,
                    "malformed postcode in the lookup file",
                    row,
                );
                continue;
            };
            let (x, y) = (
                rec.get(xi).and_then(parse_number),
                rec.get(yi).and_then(parse_number),
            );
            let (Some(x), Some(y)) = (x, y) else {
                bad.add(
                    super::Severity::Warning,
                    "postcode without coordinates in the lookup file",
                    row,
                );
                continue;
            };
            map.entry(compact).or_insert((x, y));
        }
        bad.into_report(display, report);
        if map.is_empty() {
            report.error(display, None, "no usable postcodes in the lookup file");
            return None;
        }
        Some(PostcodeLookup { crs, map })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_validates() {
        assert_eq!(normalise("eh1 1yz").as_deref(), Some("EH11YZ"));
        assert_eq!(normalise(" EH11YZ ").as_deref(), Some("EH11YZ"));
        assert_eq!(normalise("G2 3AB").as_deref(), Some("G23AB"));
        assert_eq!(normalise("EC1A 1BB").as_deref(), Some("EC1A1BB"));
        assert_eq!(normalise("W1A 0AX").as_deref(), Some("W1A0AX"));
        assert_eq!(normalise("EH1"), None);
        assert_eq!(normalise("123 456"), None);
        assert_eq!(normalise("EH1 YZ1"), None);
        assert_eq!(display_form("EH11YZ"), "EH1 1YZ");
    }
}
