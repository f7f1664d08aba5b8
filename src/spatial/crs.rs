//! Coordinate reference systems.
//!
//! needmap works in British National Grid (EPSG:27700, metres). WGS84 lon/lat
//! (EPSG:4326, or OGC CRS84 which is the same with lon/lat order) is converted
//! with the OSTN15 transformation (crate `lonlat_bng`, pure Rust, within a
//! millimetre of Ordnance Survey's published grid). Any other EPSG code needs
//! the cargo feature `proj`.

use std::fmt;

/// A problem with a CRS name or a transform.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CrsError {
    #[error("unknown CRS {0:?}: use EPSG:4326 (WGS84 lon/lat) or EPSG:27700 (British National Grid){hint}", hint = proj_hint())]
    Unknown(String),
    #[error("coordinate ({x}, {y}) cannot be transformed from {crs}: {reason}")]
    Transform {
        crs: String,
        x: f64,
        y: f64,
        reason: String,
    },
}

fn proj_hint() -> &'static str {
    if cfg!(feature = "proj") {
        ""
    } else {
        ", or build needmap with `--features proj` for other EPSG codes"
    }
}

/// A coordinate reference system that needmap can read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Crs {
    /// WGS84 longitude, latitude in degrees (EPSG:4326 / OGC CRS84).
    Wgs84,
    /// British National Grid easting, northing in metres (EPSG:27700).
    Bng,
    /// Any other CRS PROJ knows, by its definition string (feature `proj`).
    #[cfg(feature = "proj")]
    Proj(String),
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Crs::Wgs84 => f.write_str("EPSG:4326"),
            Crs::Bng => f.write_str("EPSG:27700"),
            #[cfg(feature = "proj")]
            Crs::Proj(s) => f.write_str(s),
        }
    }
}

impl Crs {
    /// Parse a CRS name: `EPSG:4326`, `EPSG:27700`, OGC URNs such as
    /// `urn:ogc:def:crs:OGC:1.3:CRS84` and `urn:ogc:def:crs:EPSG::27700`,
    /// or (feature `proj`) any string PROJ accepts.
    pub fn parse(name: &str) -> Result<Crs, CrsError> {
        let n = name.trim();
        let upper = n.to_ascii_uppercase();
        let code = upper
            .rsplit([':', '/'])
            .next()
            .unwrap_or_default()
            .to_string();
        if upper.starts_with("EPSG:")
            || upper.starts_with("URN:OGC:DEF:CRS:")
            || upper.contains("OPENGIS.NET/DEF/CRS")
        {
            match code.as_str() {
                "4326" | "CRS84" | "4258" => return Ok(Crs::Wgs84),
                "27700" => return Ok(Crs::Bng),
                _ => {}
            }
        }
        match upper.as_str() {
            "WGS84" | "CRS84" => return Ok(Crs::Wgs84),
            "BNG" | "OSGB36" => return Ok(Crs::Bng),
            _ => {}
        }
        #[cfg(feature = "proj")]
        {
            if proj::Proj::new_known_crs(n, "EPSG:27700", None).is_ok() {
                return Ok(Crs::Proj(n.to_string()));
            }
        }
        Err(CrsError::Unknown(name.to_string()))
    }

    /// Read the CRS from the WKT in an ESRI `.prj` file.
    pub fn from_prj_wkt(wkt: &str) -> Result<Crs, CrsError> {
        let w = wkt.to_ascii_uppercase();
        if w.contains("BRITISH_NATIONAL_GRID")
            || w.contains("BRITISH NATIONAL GRID")
            || (w.contains("OSGB") && w.starts_with("PROJCS"))
        {
            return Ok(Crs::Bng);
        }
        if w.starts_with("GEOGCS")
            && (w.contains("WGS_1984") || w.contains("WGS 84") || w.contains("WGS84"))
        {
            return Ok(Crs::Wgs84);
        }
        #[cfg(feature = "proj")]
        {
            if proj::Proj::new_known_crs(wkt.trim(), "EPSG:27700", None).is_ok() {
                return Ok(Crs::Proj(wkt.trim().to_string()));
            }
        }
        let short: String = wkt.chars().take(80).collect();
        Err(CrsError::Unknown(short))
    }

    /// True when coordinates are lon/lat degrees.
    pub fn is_geographic(&self) -> bool {
        matches!(self, Crs::Wgs84)
    }
}

/// WGS84 lon/lat to British National Grid with OSTN15 (millimetre rounding).
pub fn wgs84_to_bng(lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
    if !lon.is_finite() || !lat.is_finite() {
        return Err(transform_err(&Crs::Wgs84, lon, lat, "not a finite number"));
    }
    if !(-15.0..=5.0).contains(&lon) || !(45.0..=65.0).contains(&lat) {
        return Err(transform_err(
            &Crs::Wgs84,
            lon,
            lat,
            "outside the British Isles, where British National Grid is defined",
        ));
    }
    let (e, n) = etrs89_transverse_mercator(lon, lat);
    lonlat_bng::convert_etrs89_to_osgb36(e, n).map_err(|err| {
        transform_err(
            &Crs::Wgs84,
            lon,
            lat,
            &format!("outside the OSTN15 grid ({err:?})"),
        )
    })
}

/// ETRS89 lon/lat (GRS80) to ETRS89 easting/northing on the National Grid's
/// Transverse Mercator projection (true origin 49°N 2°W, scale 0.9996012717,
/// false origin 400 km W, 100 km N), the first step of OSTN15. Formulae from
/// Ordnance Survey, "A guide to coordinate systems in Great Britain", annex C.
/// (`lonlat_bng` does the same but refuses longitudes west of 8.579°W and
/// latitudes north of 60.84°N, which cuts off St Kilda and Unst.)
pub fn etrs89_transverse_mercator(lon: f64, lat: f64) -> (f64, f64) {
    const A: f64 = 6_378_137.0;
    const B: f64 = 6_356_752.314_1;
    const F0: f64 = 0.999_601_271_7;
    const E0: f64 = 400_000.0;
    const N0: f64 = -100_000.0;
    let phi0 = 49f64.to_radians();
    let lambda0 = (-2f64).to_radians();
    let (phi, lambda) = (lat.to_radians(), lon.to_radians());
    let e2 = (A * A - B * B) / (A * A);
    let n = (A - B) / (A + B);
    let (n2, n3) = (n * n, n * n * n);
    let (s, c) = (phi.sin(), phi.cos());
    let t = phi.tan();
    let nu = A * F0 / (1.0 - e2 * s * s).sqrt();
    let rho = A * F0 * (1.0 - e2) / (1.0 - e2 * s * s).powf(1.5);
    let eta2 = nu / rho - 1.0;
    let (dp, sp) = (phi - phi0, phi + phi0);
    let m = B
        * F0
        * ((1.0 + n + 1.25 * n2 + 1.25 * n3) * dp
            - (3.0 * n + 3.0 * n2 + 21.0 / 8.0 * n3) * dp.sin() * sp.cos()
            + (15.0 / 8.0 * n2 + 15.0 / 8.0 * n3) * (2.0 * dp).sin() * (2.0 * sp).cos()
            - 35.0 / 24.0 * n3 * (3.0 * dp).sin() * (3.0 * sp).cos());
    let i = m + N0;
    let ii = nu / 2.0 * s * c;
    let iii = nu / 24.0 * s * c.powi(3) * (5.0 - t * t + 9.0 * eta2);
    let iiia = nu / 720.0 * s * c.powi(5) * (61.0 - 58.0 * t * t + t.powi(4));
    let iv = nu * c;
    let v = nu / 6.0 * c.powi(3) * (nu / rho - t * t);
    let vi = nu / 120.0
        * c.powi(5)
        * (5.0 - 18.0 * t * t + t.powi(4) + 14.0 * eta2 - 58.0 * t * t * eta2);
    let dl = lambda - lambda0;
    let north = i + ii * dl.powi(2) + iii * dl.powi(4) + iiia * dl.powi(6);
    let east = E0 + iv * dl + v * dl.powi(3) + vi * dl.powi(5);
    (east, north)
}

/// British National Grid to WGS84 lon/lat with OSTN15.
pub fn bng_to_wgs84(x: f64, y: f64) -> Result<(f64, f64), CrsError> {
    if !x.is_finite() || !y.is_finite() {
        return Err(transform_err(&Crs::Bng, x, y, "not a finite number"));
    }
    lonlat_bng::convert_osgb36_to_ll(x, y)
        .map_err(|e| transform_err(&Crs::Bng, x, y, &format!("outside the OSTN15 grid ({e:?})")))
}

fn transform_err(crs: &Crs, x: f64, y: f64, reason: &str) -> CrsError {
    CrsError::Transform {
        crs: crs.to_string(),
        x,
        y,
        reason: reason.to_string(),
    }
}

/// Transforms coordinates of one CRS into British National Grid and WGS84.
/// It is `Send + Sync`: PROJ objects (feature `proj`) are not, so each thread
/// keeps its own, created on first use.
pub struct ToWorking {
    crs: Crs,
}

#[cfg(feature = "proj")]
fn with_proj<R>(def: &str, f: impl FnOnce(&proj::Proj) -> R) -> Result<R, CrsError> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static CACHE: RefCell<HashMap<String, proj::Proj>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if !c.contains_key(def) {
            let p = proj::Proj::new_known_crs(def, "EPSG:4326", None)
                .map_err(|e| CrsError::Unknown(format!("{def}: {e}")))?;
            c.insert(def.to_string(), p);
        }
        let p = c
            .get(def)
            .ok_or_else(|| CrsError::Unknown(def.to_string()))?;
        Ok(f(p))
    })
}

impl ToWorking {
    /// Prepare a transform from `crs`.
    pub fn new(crs: &Crs) -> Result<ToWorking, CrsError> {
        #[cfg(feature = "proj")]
        if let Crs::Proj(def) = crs {
            with_proj(def, |_| ())?;
        }
        Ok(ToWorking { crs: crs.clone() })
    }

    /// The source CRS.
    pub fn crs(&self) -> &Crs {
        &self.crs
    }

    /// Source coordinates to British National Grid metres.
    pub fn to_bng(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        match &self.crs {
            Crs::Wgs84 => wgs84_to_bng(x, y),
            Crs::Bng => {
                if x.is_finite() && y.is_finite() {
                    Ok((x, y))
                } else {
                    Err(transform_err(&self.crs, x, y, "not a finite number"))
                }
            }
            #[cfg(feature = "proj")]
            Crs::Proj(_) => {
                // Through WGS84 so that the OSTN15 grid is used for the datum shift.
                let (lon, lat) = self.to_wgs84(x, y)?;
                wgs84_to_bng(lon, lat)
            }
        }
    }

    /// Source coordinates to WGS84 lon/lat.
    pub fn to_wgs84(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        match &self.crs {
            Crs::Wgs84 => {
                if x.is_finite() && y.is_finite() {
                    Ok((x, y))
                } else {
                    Err(transform_err(&self.crs, x, y, "not a finite number"))
                }
            }
            Crs::Bng => bng_to_wgs84(x, y),
            #[cfg(feature = "proj")]
            Crs::Proj(def) => with_proj(def, |p| p.convert((x, y)))?
                .map_err(|e| transform_err(&self.crs, x, y, &e.to_string())),
        }
    }
}

/// Round a lon/lat to 6 decimals (about 0.1 m) for output.
pub fn trim6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_names() {
        assert_eq!(Crs::parse("EPSG:4326"), Ok(Crs::Wgs84));
        assert_eq!(Crs::parse("epsg:27700"), Ok(Crs::Bng));
        assert_eq!(Crs::parse("urn:ogc:def:crs:OGC:1.3:CRS84"), Ok(Crs::Wgs84));
        assert_eq!(Crs::parse("urn:ogc:def:crs:EPSG::27700"), Ok(Crs::Bng));
        assert!(Crs::parse("EPSG:99999999").is_err());
        assert!(Crs::parse("banana").is_err());
    }

    #[test]
    fn transverse_mercator_matches_lonlat_bng() {
        for (lon, lat) in [
            (-3.188267, 55.953251),
            (-1.0, 52.0),
            (-6.3, 58.2),
            (1.7, 52.6),
        ] {
            let ours = etrs89_transverse_mercator(lon, lat);
            let theirs = lonlat_bng::convert_etrs89(lon, lat).expect("inside");
            assert!(
                (ours.0 - theirs.0).abs() < 0.002 && (ours.1 - theirs.1).abs() < 0.002,
                "{ours:?} {theirs:?}"
            );
        }
    }

    #[test]
    fn st_kilda_and_unst_transform() {
        assert!(wgs84_to_bng(-8.615374, 57.828322).is_ok());
        assert!(wgs84_to_bng(-0.87597, 60.845732).is_ok());
        assert!(wgs84_to_bng(40.0, 10.0).is_err());
    }

    #[test]
    fn round_trip_is_millimetric() {
        let (x, y) = wgs84_to_bng(-3.188267, 55.953251).expect("inside grid");
        let (lon, lat) = bng_to_wgs84(x, y).expect("inside grid");
        assert!((lon + 3.188267).abs() < 1e-7 && (lat - 55.953251).abs() < 1e-7);
    }
}

#[cfg(all(test, feature = "proj"))]
mod proj_tests {
    use super::*;

    #[test]
    fn web_mercator_through_proj_matches_ostn15() {
        let crs = Crs::parse("EPSG:3857").expect("PROJ knows EPSG:3857");
        let tf = ToWorking::new(&crs).expect("transform");
        for (lon, lat) in [
            (-3.188267, 55.953251),
            (-4.251806, 55.864237),
            (-1.14523, 60.155388),
        ] {
            let (x, y) = crate::spatial::tiles::lonlat_to_mercator(lon, lat);
            let (lon2, lat2) = tf.to_wgs84(x, y).expect("inverse");
            assert!(
                (lon2 - lon).abs() < 1e-9 && (lat2 - lat).abs() < 1e-9,
                "{lon2} {lat2}"
            );
            let (e, n) = tf.to_bng(x, y).expect("to BNG");
            let (e0, n0) = wgs84_to_bng(lon, lat).expect("OSTN15");
            assert!((e - e0).abs() < 0.002 && (n - n0).abs() < 0.002);
        }
    }

    #[test]
    fn utm_is_read_through_proj() {
        let crs = Crs::parse("EPSG:32630").expect("UTM 30N");
        let tf = ToWorking::new(&crs).expect("transform");
        // Edinburgh in UTM 30N, from the zone's published parameters (central meridian 3°W, k0 0.9996, false easting 500 km).
        let (lon, lat) = tf.to_wgs84(488_234.0, 6_200_000.0).expect("inverse");
        assert!(
            (-3.3..-3.1).contains(&lon) && (55.9..56.0).contains(&lat),
            "{lon} {lat}"
        );
    }
}
