//! Diagnostics collected while loading: every problem names the file, the
//! record and what is wrong. Errors stop an analysis; warnings are counted and
//! reported, and the records they concern are left out.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// How serious a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in the input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file, as given in the workspace.
    pub file: String,
    /// The record: `row 17`, `feature 3 (S01006506)`, or a list of rows.
    pub record: Option<String>,
    pub problem: String,
    /// How many records share this problem (1 for a single record).
    pub count: usize,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}: {}", self.file)?;
        if let Some(r) = &self.record {
            write!(f, ": {r}")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// All problems found in one load, in the order found.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
}

/// How many row numbers a grouped diagnostic lists.
const ROWS_LISTED: usize = 10;

impl Report {
    /// An empty report.
    pub fn new() -> Report {
        Report::default()
    }

    /// Record an error for one record (or the whole file when `record` is `None`).
    pub fn error(&mut self, file: &str, record: Option<String>, problem: impl Into<String>) {
        self.push(Severity::Error, file, record, problem.into(), 1);
    }

    /// Record a warning for one record.
    pub fn warning(&mut self, file: &str, record: Option<String>, problem: impl Into<String>) {
        self.push(Severity::Warning, file, record, problem.into(), 1);
    }

    fn push(
        &mut self,
        severity: Severity,
        file: &str,
        record: Option<String>,
        problem: String,
        count: usize,
    ) {
        self.diagnostics.push(Diagnostic {
            severity,
            file: file.to_string(),
            record,
            problem,
            count,
        });
    }

    /// True when any error was recorded.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }

    /// Append another report.
    pub fn extend(&mut self, other: Report) {
        self.diagnostics.extend(other.diagnostics);
    }

    /// Diagnostics whose problem text contains `needle` (for tests and filters).
    pub fn find(&self, needle: &str) -> Vec<&Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.problem.contains(needle))
            .collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.diagnostics {
            writeln!(f, "{d}")?;
        }
        write!(
            f,
            "{} error(s), {} warning(s)",
            self.error_count(),
            self.warning_count()
        )
    }
}

/// Groups many records with the same problem into one diagnostic with a count
/// and the first few row numbers.
#[derive(Default)]
pub struct RowProblems {
    by_problem: BTreeMap<(Severity, String), (usize, Vec<usize>)>,
}

impl RowProblems {
    /// Note that `row` (1-based data row) has `problem`.
    pub fn add(&mut self, severity: Severity, problem: impl Into<String>, row: usize) {
        let e = self
            .by_problem
            .entry((severity, problem.into()))
            .or_default();
        e.0 += 1;
        if e.1.len() < ROWS_LISTED {
            e.1.push(row);
        }
    }

    /// Total records noted.
    pub fn total(&self) -> usize {
        self.by_problem.values().map(|v| v.0).sum()
    }

    /// Move the grouped problems into a report.
    pub fn into_report(self, file: &str, report: &mut Report) {
        self.into_report_as(file, report, ("row", "rows"));
    }

    /// Move the grouped problems into a report, naming the records with the
    /// given singular and plural (for example `("feature", "features")`).
    pub fn into_report_as(self, file: &str, report: &mut Report, unit: (&str, &str)) {
        let (one, many) = unit;
        for ((severity, problem), (count, rows)) in self.by_problem {
            let mut listed = rows
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            if count > rows.len() {
                listed.push_str(&format!(" and {} more", count - rows.len()));
            }
            let record = if count == 1 {
                format!("{one} {listed}")
            } else {
                format!("{many} {listed}")
            };
            let problem = if count == 1 {
                problem
            } else {
                format!("{problem} ({count} {many})")
            };
            report.push(severity, file, Some(record), problem, count);
        }
    }
}
