//! Boundary harmonisation: robust overlays, co-terminosity analysis and a
//! boundary designer built from whole small areas.
//!
//! Everything works on polygons in British National Grid metres (any
//! projected CRS in metres will do) given as `&[&MultiPolygon<f64>]`; units
//! are identified by their position in the slice (`u32`), and the caller maps
//! positions to codes. Pure, synchronous and deterministic: results are
//! sorted, and parallel work (rayon) is collected in input order.
//!
//! - [`validate`]: geometry checks before any overlay (non-finite or too few
//!   coordinates, unclosed rings, zero area, self-intersections and the other
//!   OGC validity rules as `geo`'s `Validation` reports them).
//! - [`overlay`]: intersection areas of two polygon layers, R-tree candidate
//!   pairs, an exact no-clipping path for pairs whose boundaries do not meet,
//!   `geo` boolean clipping isolated per pair (a panic becomes a reported
//!   estimate), slivers flagged by a tolerance.
//! - [`coterminosity`]: small-area shares and best-fit lookups, the
//!   intersection matrix of two sets by surface and by population, the
//!   co-terminosity index of every unit, splits and a fragmentation score.
//! - [`adjacency`]: rook or queen adjacency of small areas from shared
//!   boundary edges or vertices.
//! - [`designer`]: units of whole small areas that nest in a parent, are
//!   contiguous, balanced within a tolerance and as co-terminous as possible
//!   with a target set; [`dissolve`] gives their polygons.

pub mod adjacency;
pub mod coterminosity;
pub mod designer;
pub mod dissolve;
mod edges;
pub mod overlay;
pub mod validate;

pub use adjacency::{Adjacency, Contiguity};
pub use coterminosity::{
    coterminosity, coterminosity_joint, Cell, Coterminosity, CoterminosityOptions, Side,
    SmallAreaShares, Split, UnitIndex,
};
pub use designer::{design, Design, DesignProblem, DesignUnit, Infeasibility, UnitsPerParent};
pub use dissolve::{dissolve, dissolve_units, Dissolved};
pub use overlay::{
    overlay, overlay_timed, Overlay, OverlayOptions, OverlayPiece, OverlayStats, OverlayTimings,
    PairFailure, PieceMethod, SliverTolerance,
};
pub use validate::{validate_layer, GeometryProblem, ProblemKind};
