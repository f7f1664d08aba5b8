//! Mapbox Vector Tile (version 2.1) encoding: a small protobuf writer for
//! polygon layers. Geometry comes clipped and quantised from
//! [`crate::spatial::tiles`].

use std::collections::HashMap;

use crate::spatial::tiles::{TilePolygon, EXTENT};

/// A property value.
#[derive(Clone, Debug, PartialEq)]
pub enum MvtValue {
    Str(String),
    Int(i64),
    Double(f64),
}

fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn key(buf: &mut Vec<u8>, field: u32, wire: u8) {
    varint(buf, (u64::from(field) << 3) | u64::from(wire));
}

fn bytes_field(buf: &mut Vec<u8>, field: u32, data: &[u8]) {
    key(buf, field, 2);
    varint(buf, data.len() as u64);
    buf.extend_from_slice(data);
}

fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

fn command(id: u32, count: u32) -> u32 {
    (id & 0x7) | (count << 3)
}

/// Geometry commands for polygon rings.
fn polygon_commands(rings: &[Vec<[i32; 2]>]) -> Vec<u32> {
    let mut out = Vec::new();
    let (mut cx, mut cy) = (0i32, 0i32);
    for r in rings {
        let Some(first) = r.first() else { continue };
        out.push(command(1, 1));
        out.push(zigzag(first[0] - cx));
        out.push(zigzag(first[1] - cy));
        cx = first[0];
        cy = first[1];
        out.push(command(2, (r.len() - 1) as u32));
        for p in &r[1..] {
            out.push(zigzag(p[0] - cx));
            out.push(zigzag(p[1] - cy));
            cx = p[0];
            cy = p[1];
        }
        out.push(command(7, 1));
    }
    out
}

fn value_bytes(v: &MvtValue) -> Vec<u8> {
    let mut b = Vec::new();
    match v {
        MvtValue::Str(s) => bytes_field(&mut b, 1, s.as_bytes()),
        MvtValue::Double(d) => {
            key(&mut b, 3, 1);
            b.extend_from_slice(&d.to_le_bytes());
        }
        MvtValue::Int(i) => {
            key(&mut b, 6, 0);
            varint(&mut b, ((i << 1) ^ (i >> 63)) as u64);
        }
    }
    b
}

/// Encode one polygon layer as a whole tile message (concatenate the bytes of
/// several layers to make a multi-layer tile). `props(feature)` gives each
/// feature's id and properties.
pub fn encode_polygon_layer<F>(name: &str, polygons: &[TilePolygon], mut props: F) -> Vec<u8>
where
    F: FnMut(u32) -> (u64, Vec<(&'static str, MvtValue)>),
{
    let mut layer = Vec::with_capacity(polygons.len() * 64);
    key(&mut layer, 15, 0);
    varint(&mut layer, 2);
    bytes_field(&mut layer, 1, name.as_bytes());
    let mut keys: Vec<&'static str> = Vec::new();
    let mut key_ix: HashMap<&'static str, u32> = HashMap::new();
    let mut values: Vec<Vec<u8>> = Vec::new();
    let mut value_ix: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut feat = Vec::new();
    let mut packed = Vec::new();
    for p in polygons {
        let (id, ps) = props(p.feature);
        feat.clear();
        key(&mut feat, 1, 0);
        varint(&mut feat, id);
        packed.clear();
        for (k, v) in ps {
            let ki = *key_ix.entry(k).or_insert_with(|| {
                keys.push(k);
                (keys.len() - 1) as u32
            });
            let vb = value_bytes(&v);
            let vi = match value_ix.get(&vb) {
                Some(i) => *i,
                None => {
                    values.push(vb.clone());
                    let i = (values.len() - 1) as u32;
                    value_ix.insert(vb, i);
                    i
                }
            };
            varint(&mut packed, u64::from(ki));
            varint(&mut packed, u64::from(vi));
        }
        bytes_field(&mut feat, 2, &packed);
        key(&mut feat, 3, 0);
        varint(&mut feat, 3); // POLYGON
        packed.clear();
        for c in polygon_commands(&p.rings) {
            varint(&mut packed, u64::from(c));
        }
        bytes_field(&mut feat, 4, &packed);
        bytes_field(&mut layer, 2, &feat);
    }
    for k in &keys {
        bytes_field(&mut layer, 3, k.as_bytes());
    }
    for v in &values {
        bytes_field(&mut layer, 4, v);
    }
    key(&mut layer, 5, 0);
    varint(&mut layer, EXTENT as u64);
    let mut tile = Vec::with_capacity(layer.len() + 8);
    bytes_field(&mut tile, 3, &layer);
    tile
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_for_a_square() {
        // The example from the MVT 2.1 specification, section 4.3.5 (polygon).
        let c = polygon_commands(&[vec![[3, 6], [8, 12], [20, 34]]]);
        assert_eq!(c, vec![9, 6, 12, 18, 10, 12, 24, 44, 15]);
    }

    #[test]
    fn zigzag_values() {
        assert_eq!(zigzag(0), 0);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(zigzag(-2), 3);
    }
}
