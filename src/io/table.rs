//! CSV tables (indicator tables, lookups). Numbers are read leniently, as
//! published tables write them: `8%` is 8, `1,234` is 1234, and blank cells,
//! `NA`, `..`, `*` and `-` are missing rather than errors.

use std::path::Path;

use super::report::Report;

/// A CSV reader over any byte source.
pub type CsvReader = csv::Reader<Box<dyn std::io::Read>>;

/// A CSV table held as text.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Position of a column, by exact name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// Position of a column, ignoring case.
    pub fn column_ci(&self, name: &str) -> Option<usize> {
        self.headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
    }
}

/// Parse a number as published tables write it; `None` for missing or non-numeric text.
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    match t.to_ascii_lowercase().as_str() {
        "na" | "n/a" | "nan" | "null" | "none" | ".." | "." | "*" | "-" | "x" | "c" | "inf"
        | "-inf" | "infinity" | "-infinity" => return None,
        _ => {}
    }
    let t = t.strip_suffix('%').unwrap_or(t).trim();
    let v: f64 = if t.contains(',') {
        t.replace(',', "").parse().ok()?
    } else {
        t.parse().ok()?
    };
    v.is_finite().then_some(v)
}

/// A CSV reader with the file's BOM removed and the header read.
pub fn open_csv(
    path: &Path,
    display: &str,
    report: &mut Report,
) -> Option<(CsvReader, Vec<String>)> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            report.error(display, None, format!("cannot read file: {e}"));
            return None;
        }
    };
    let mut buffered = std::io::BufReader::with_capacity(1 << 20, file);
    // Skip a UTF-8 byte-order mark.
    let bom = {
        use std::io::BufRead;
        match buffered.fill_buf() {
            Ok(buf) => buf.starts_with(&[0xEF, 0xBB, 0xBF]),
            Err(e) => {
                report.error(display, None, format!("cannot read file: {e}"));
                return None;
            }
        }
    };
    if bom {
        use std::io::BufRead;
        buffered.consume(3);
    }
    let boxed: Box<dyn std::io::Read> = Box::new(buffered);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(boxed);
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(e) => {
            report.error(display, None, format!("cannot read the header row: {e}"));
            return None;
        }
    };
    if headers.is_empty() || headers.iter().all(|h| h.is_empty()) {
        report.error(display, None, "the file is empty (no header row)");
        return None;
    }
    Some((rdr, headers))
}

/// Read a whole CSV table. Rows with the wrong number of cells are errors.
pub fn read_table(path: &Path, display: &str, report: &mut Report) -> Option<Table> {
    let (mut rdr, headers) = open_csv(path, display, report)?;
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 1;
        match rec {
            Ok(r) => {
                if r.len() != headers.len() {
                    report.error(
                        display,
                        Some(format!("row {row}")),
                        format!("has {} cells; the header has {}", r.len(), headers.len()),
                    );
                    continue;
                }
                rows.push(r.iter().map(|s| s.trim().to_string()).collect());
            }
            Err(e) => report.error(
                display,
                Some(format!("row {row}")),
                format!("cannot read row: {e}"),
            ),
        }
    }
    if rows.is_empty() {
        report.error(display, None, "the file has a header but no data rows");
        return None;
    }
    Some(Table { headers, rows })
}

#[cfg(test)]
mod tests {
    use super::parse_number;

    #[test]
    fn lenient_numbers() {
        assert_eq!(parse_number("8%"), Some(8.0));
        assert_eq!(parse_number(" 1,234 "), Some(1234.0));
        assert_eq!(parse_number("5.88"), Some(5.88));
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("abc"), None);
    }
}
