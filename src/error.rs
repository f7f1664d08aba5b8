//! The crate error type. Module errors roll up into [`Error`]; file-level problems
//! carry the path, and record-level problems are collected in a
//! [`crate::io::report::Report`] instead of aborting the load.

use std::path::PathBuf;

/// Everything that can stop a needmap operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The workspace file is malformed.
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    /// A coordinate reference system is unknown or a transform failed.
    #[error(transparent)]
    Crs(#[from] crate::spatial::crs::CrsError),
    /// Loading found errors; the report lists every one of them.
    #[error("{0}")]
    Invalid(crate::io::report::Report),
    /// A request or argument is not acceptable.
    #[error("{0}")]
    BadInput(String),
    /// Something was asked for that does not exist.
    #[error("{0}")]
    NotFound(String),
}

/// The crate result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
