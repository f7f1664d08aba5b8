//! The disclosure-control test table: each rule of the policy, and each
//! differencing attack, on a small workspace built so that the attacks work
//! against cell-by-cell protection (rounding and primary suppression alone).
//!
//! The attacker is written here, apart from the server's audit: it reads
//! every public output (the API over HTTP on loopback, and the CSV exports
//! the CLI writes), turns each published number into an interval for a sum
//! of unknown counts, and differences them to a fixed point (bounds
//! propagation, with counts whole and at least 0). As a control it first
//! attacks the cell-by-cell publication of the same counts and must succeed
//! there (one count recovered exactly, others narrowed); against what
//! needmap publishes no count below 10 may be recovered, or narrowed to
//! fewer than 5 possible values.

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::Value;

use needmap::io::workspace::{load_workspace, LoadOptions};
use needmap::io::writers;
use needmap::privacy::{Count, Disclosure, Policy, Role};
use needmap::server::{AppState, Prepared};
use needmap::Config;

/// Six 0.02 x 0.01 degree areas in a row; IZ1 = A1-A3, IZ2 = A4-A6.
const N: usize = 6;
const GROUPS: [&str; 2] = ["adults", "children"];
const YEARS: [i32; 2] = [2023, 2024];

/// Exact referrals per area, group, year: `[area][group][year]`.
///
/// - Area vs parent (A4, adults = 4): A4 = 4 + 13 gives "at most 4"; IZ2
///   adults = 4 + 12 + 17 = 33 gives "at least 4": recovered exactly.
/// - Overlapping catchments (A2 = 2): catchment set `north` has A1+A2,
///   set `south` has A1 alone; 12 and 10 both show as 10, so A2 is 0-2.
/// - Date windows (A3 in 2024 = 1): A3 = 11 and A3 in 2023 = 10 both show
///   as 10, so 2024 is 0-2.
const COUNTS: [[[u64; 2]; 2]; N] = [
    [[3, 2], [2, 3]],   // A1 = 10
    [[1, 0], [0, 1]],   // A2 = 2
    [[5, 1], [5, 0]],   // A3 = 11 (2023: 10, 2024: 1)
    [[2, 2], [7, 6]],   // A4 = 17 (adults 4, children 13)
    [[6, 6], [20, 21]], // A5 = 53 (adults 12)
    [[9, 8], [15, 14]], // A6 = 46 (adults 17)
];

fn lon(k: usize) -> f64 {
    -3.30 + 0.02 * k as f64
}

/// A rectangle over areas `from..to`, with a vertex at every area corner so
/// that it matches the areas' edges exactly.
fn ring(from: usize, to: usize) -> Value {
    let (s, n) = (55.90, 55.91);
    let mut pts: Vec<[f64; 2]> = (from..=to).map(|k| [lon(k), s]).collect();
    pts.extend((from..=to).rev().map(|k| [lon(k), n]));
    pts.push(pts[0]);
    serde_json::json!([pts])
}

fn write_workspace(dir: &std::path::Path, extra: &str) {
    let features: Vec<Value> = (0..N)
        .map(|k| {
            serde_json::json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": ring(k, k + 1)},
              "properties": {"area_code": format!("A{}", k + 1), "iz_code": if k < 3 {"IZ1"} else {"IZ2"},
                "council_code": "C1", "population": 1000, "simd_rank": 50 + 698 * (k % 5) * 2, "simd_decile": 1 + (k % 5) * 2}})
        })
        .collect();
    std::fs::write(
        dir.join("areas.geojson"),
        serde_json::json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .expect("areas");
    let set = |name: &str, units: &[(usize, usize)]| {
        let f: Vec<Value> = units
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| serde_json::json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": ring(a, b)},
                "properties": {"code": format!("{name}{}", i + 1)}}))
            .collect();
        std::fs::write(
            dir.join(format!("{name}.geojson")),
            serde_json::json!({"type": "FeatureCollection", "features": f}).to_string(),
        )
        .expect("set");
    };
    set("north", &[(0, 2), (2, 6)]);
    set("south", &[(0, 1), (1, 6)]);
    let mut csv = String::from("case_ref,lon,lat,received_at,client_group\n");
    let mut id = 0;
    for (a, by_group) in COUNTS.iter().enumerate() {
        for (g, by_year) in by_group.iter().enumerate() {
            for (y, &n) in by_year.iter().enumerate() {
                for _ in 0..n {
                    id += 1;
                    csv.push_str(&format!(
                        "R{id},{:.4},55.905,{}-06-01T10:00:00,{}\n",
                        lon(a) + 0.01,
                        YEARS[y],
                        GROUPS[g]
                    ));
                }
            }
        }
    }
    std::fs::write(dir.join("referrals.csv"), csv).expect("referrals");
    let toml = format!(
        r#"region = "Differencing test"
[areas]
path = "areas.geojson"
id = "area_code"
population = "population"
simd_rank = "simd_rank"
simd_decile = "simd_decile"
parents = ["iz_code", "council_code"]

[referrals]
path = "referrals.csv"
x = "lon"
y = "lat"
time = "received_at"
group = "client_group"

[[boundaries]]
name = "north"
path = "north.geojson"
id = "code"

[[boundaries]]
name = "south"
path = "south.geojson"
id = "code"

[need]
period = "year"
{extra}"#
    );
    std::fs::write(dir.join("needmap.toml"), toml).expect("toml");
}

fn prepared(extra: &str) -> (AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_workspace(dir.path(), extra);
    let cfg = Config::load(&dir.path().join("needmap.toml")).expect("config");
    let atlas = load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(
        atlas.referrals.referrals.len() as u64,
        total(&|_, _, _| true)
    );
    (Arc::new(Prepared::new(atlas)), dir)
}

use super::{http_raw, serve_loopback as serve};

/// `GET path` over HTTP/1.1: status and JSON body.
fn http_get(addr: SocketAddr, path: &str) -> (u16, Value) {
    let (status, _, body) = http_raw(addr, path, &[]);
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn total(pick: &dyn Fn(usize, usize, usize) -> bool) -> u64 {
    let mut t = 0;
    for (a, by_group) in COUNTS.iter().enumerate() {
        for (g, by_year) in by_group.iter().enumerate() {
            for (y, &n) in by_year.iter().enumerate() {
                if pick(a, g, y) {
                    t += n;
                }
            }
        }
    }
    t
}

// ------------------------------------------------------------------ attacker

/// Unknowns: one count per area, group and year.
fn atom(a: usize, g: usize, y: usize) -> usize {
    (a * 2 + g) * 2 + y
}
const ATOMS: usize = N * 4;

/// One published number as the attacker reads it: the atoms it sums, and
/// what it says about that sum.
#[derive(Clone, Debug)]
struct Fact {
    what: String,
    atoms: Vec<usize>,
    lo: f64,
    hi: f64,
    exact: u64,
}

/// The six-area workspace's exact atoms, in `atom` order.
fn six() -> Vec<u64> {
    (0..ATOMS)
        .map(|i| COUNTS[i / 4][(i / 2) % 2][i % 2])
        .collect()
}

fn read(what: String, atoms: Vec<usize>, shown: &Value) -> Option<Fact> {
    read_in(&six(), what, atoms, shown)
}

fn read_in(truth: &[u64], what: String, atoms: Vec<usize>, shown: &Value) -> Option<Fact> {
    let exact = atoms.iter().map(|&i| truth[i]).sum();
    let (lo, hi) = match shown {
        Value::Number(n) => {
            let r = n.as_f64()?;
            ((r - 2.0).max(10.0), r + 2.0)
        }
        Value::String(s) if s == "<10" => (0.0, 9.0),
        Value::String(s) if s.parse::<f64>().is_ok() => {
            let r: f64 = s.parse().ok()?;
            ((r - 2.0).max(10.0), r + 2.0)
        }
        // Withheld: says nothing beyond "a count".
        Value::String(s) if s == "[c]" => (0.0, f64::INFINITY),
        _ => return None,
    };
    Some(Fact {
        what,
        atoms,
        lo,
        hi,
        exact,
    })
}

/// Differencing: for each fact and each way of filling it with disjoint
/// smaller facts (started from each in turn), each of those plus the rest
/// lies in the fact less the others. Returned with the facts themselves.
fn with_differences(facts: &[Fact], truth: &[u64]) -> Vec<Fact> {
    let mut out = facts.to_vec();
    for f in facts {
        let subs: Vec<&Fact> = {
            let mut v: Vec<&Fact> = facts
                .iter()
                .filter(|g| {
                    g.atoms.len() < f.atoms.len() && g.atoms.iter().all(|a| f.atoms.contains(a))
                })
                .collect();
            v.sort_by_key(|g| std::cmp::Reverse(g.atoms.len()));
            v
        };
        for seed in 0..subs.len() {
            let mut used: Vec<usize> = Vec::new();
            let mut family: Vec<&Fact> = Vec::new();
            for g in std::iter::once(subs[seed]).chain(subs.iter().copied()) {
                if g.atoms.iter().any(|a| used.contains(a)) {
                    continue;
                }
                used.extend(&g.atoms);
                family.push(g);
            }
            let rest: Vec<usize> = f
                .atoms
                .iter()
                .copied()
                .filter(|a| !used.contains(a))
                .collect();
            if !rest.is_empty() {
                let lo: f64 = family.iter().map(|x| x.hi).sum();
                let hi: f64 = family.iter().map(|x| x.lo).sum();
                out.push(Fact {
                    what: format!("the rest of {}", f.what),
                    exact: rest.iter().map(|&i| truth[i]).sum(),
                    atoms: rest.clone(),
                    lo: (f.lo - lo).max(0.0),
                    hi: f.hi - hi,
                });
            }
            for (k, g) in family.iter().enumerate() {
                let others_lo: f64 = family
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != k)
                    .map(|(_, x)| x.lo)
                    .sum();
                let others_hi: f64 = family
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != k)
                    .map(|(_, x)| x.hi)
                    .sum();
                let mut atoms = g.atoms.clone();
                atoms.extend(&rest);
                atoms.sort_unstable();
                out.push(Fact {
                    what: format!("{} less the rest of {}", g.what, f.what),
                    exact: atoms.iter().map(|&i| truth[i]).sum(),
                    atoms,
                    lo: (f.lo - others_hi).max(0.0),
                    hi: f.hi - others_lo,
                });
            }
        }
    }
    out
}

/// Bounds propagation to a fixed point; returns each atom's interval.
fn attack(facts: &[Fact], n_atoms: usize) -> Vec<(f64, f64)> {
    let mut b = vec![(0.0f64, f64::INFINITY); n_atoms];
    loop {
        let mut changed = false;
        for f in facts {
            let lo_sum: f64 = f.atoms.iter().map(|&a| b[a].0).sum();
            let hi_sum: f64 = f.atoms.iter().map(|&a| b[a].1).sum();
            for &a in &f.atoms {
                let hi = f.hi - (lo_sum - b[a].0);
                let lo = if hi_sum.is_finite() {
                    f.lo - (hi_sum - b[a].1)
                } else {
                    0.0
                };
                let nb = (b[a].0.max(lo.ceil()), b[a].1.min(hi.floor()));
                assert!(nb.0 <= nb.1, "contradiction at {}", f.what);
                if nb != b[a] {
                    b[a] = nb;
                    changed = true;
                }
            }
        }
        if !changed {
            return b;
        }
    }
}

/// What the attacker knows about the sum of `atoms`: every fact on exactly
/// those atoms, and the sum of the atoms' intervals.
fn known(facts: &[Fact], b: &[(f64, f64)], atoms: &[usize]) -> (f64, f64) {
    let mut key = atoms.to_vec();
    key.sort_unstable();
    let mut lo = atoms.iter().map(|&a| b[a].0).sum::<f64>();
    let mut hi = atoms.iter().map(|&a| b[a].1).sum::<f64>();
    for f in facts {
        let mut k = f.atoms.clone();
        k.sort_unstable();
        if k == key {
            lo = lo.max(f.lo.ceil());
            hi = hi.min(f.hi.floor());
        }
    }
    (lo, hi)
}

/// The narrowest interval the attacker holds for any count below 10 (every
/// atom, and every published sum): `(what, exact, lo, hi)`.
fn weakest(published: &[Fact], truth: &[u64]) -> (String, u64, f64, f64) {
    let facts = with_differences(published, truth);
    let b = attack(&facts, truth.len());
    let mut worst = (String::new(), 0, 0.0, f64::INFINITY);
    let mut consider = |what: String, exact: u64, (lo, hi): (f64, f64)| {
        if exact < 10 && hi - lo < worst.3 - worst.2 {
            worst = (what, exact, lo, hi);
        }
    };
    for (i, &n) in truth.iter().enumerate() {
        consider(format!("atom {i}"), n, known(&facts, &b, &[i]));
    }
    for f in published {
        consider(f.what.clone(), f.exact, known(&facts, &b, &f.atoms));
    }
    worst
}

fn area_atoms(a: usize) -> Vec<usize> {
    (0..2)
        .flat_map(|g| (0..2).map(move |y| atom(a, g, y)))
        .collect()
}

/// Every published referral count of the public outputs, as facts.
fn public_facts(state: &AppState, addr: SocketAddr) -> Vec<Fact> {
    let mut facts = Vec::new();
    let (st, areas) = http_get(addr, "/api/areas?geometry=false");
    assert_eq!(st, 200);
    for p in areas["areas"].as_array().expect("areas") {
        let a: usize = p["area_id"].as_str().expect("id")[1..]
            .parse::<usize>()
            .expect("n")
            - 1;
        facts.extend(read(
            format!("A{} total", a + 1),
            area_atoms(a),
            &p["referrals"],
        ));
        for (g, name) in GROUPS.iter().enumerate() {
            let key = format!("referrals_{name}");
            if let Some(v) = p.get(&key) {
                facts.extend(read(
                    format!("A{} {name}", a + 1),
                    (0..2).map(|y| atom(a, g, y)).collect(),
                    v,
                ));
            }
        }
        let (st, one) = http_get(addr, &format!("/api/areas/A{}", a + 1));
        assert_eq!(st, 200);
        for (g, name) in GROUPS.iter().enumerate() {
            if let Some(v) = one["referrals_by_group"].get(name) {
                facts.extend(read(
                    format!("A{} {name} (panel)", a + 1),
                    (0..2).map(|y| atom(a, g, y)).collect(),
                    v,
                ));
            }
        }
    }
    // Roll-ups: the parents, and two overlapping sets of catchments.
    let members = |level: &str, code: &str| -> Vec<usize> {
        match (level, code) {
            ("iz_code", "IZ1") | ("north", "north1") => match code {
                "north1" => vec![0, 1],
                _ => vec![0, 1, 2],
            },
            ("iz_code", "IZ2") => vec![3, 4, 5],
            ("council_code", "C1") => (0..N).collect(),
            ("north", "north2") => vec![2, 3, 4, 5],
            ("south", "south1") => vec![0],
            ("south", "south2") => vec![1, 2, 3, 4, 5],
            _ => Vec::new(),
        }
    };
    for level in ["iz_code", "council_code", "north", "south"] {
        let (st, r) = http_get(addr, &format!("/api/rollup?to={level}"));
        assert_eq!(st, 200, "{level}: {r}");
        for u in r["units"].as_array().expect("units") {
            let code = u["code"].as_str().expect("code");
            let areas = members(level, code);
            assert!(!areas.is_empty(), "{level} {code}");
            let atoms = areas.iter().flat_map(|&a| area_atoms(a)).collect();
            facts.extend(read(format!("{level} {code}"), atoms, &u["referrals"]));
        }
        // The CSV export of the same roll-up carries the groups (as the CLI writes it).
        let need = &state.public.need;
        let rollup = match state.atlas.boundary_sets.iter().find(|b| b.name == level) {
            Some(set) => {
                needmap::analysis::rollup::rollup_to_boundaries(&state.atlas.areas, need, set)
            }
            None => needmap::analysis::rollup::rollup_by_column(&state.atlas.areas, need, level),
        };
        let (h, rows) = writers::rollup_rows(&rollup, Disclosure::Public(&state.public.counts));
        for row in rows {
            let areas = members(level, &row[0]);
            if areas.is_empty() {
                continue;
            }
            for (g, name) in GROUPS.iter().enumerate() {
                if let Some(col) = h.iter().position(|c| c == &format!("referrals_{name}")) {
                    let atoms = areas
                        .iter()
                        .flat_map(|&a| (0..2).map(move |y| atom(a, g, y)))
                        .collect();
                    facts.extend(read(
                        format!("{level} {} {name}", row[0]),
                        atoms,
                        &Value::String(row[col].clone()),
                    ));
                }
            }
        }
    }
    // The equity table: SIMD quintiles and their groups.
    let (st, e) = http_get(addr, "/api/equity");
    assert_eq!(st, 200);
    for r in e["rows"].as_array().expect("rows") {
        let q = r["simd_quintile"].as_u64();
        let areas: Vec<usize> = (0..N)
            .filter(|&k| Some(((1 + (k % 5) * 2) as u64).div_ceil(2)) == q)
            .collect();
        let atoms = areas.iter().flat_map(|&a| area_atoms(a)).collect();
        facts.extend(read(format!("quintile {q:?}"), atoms, &r["referrals"]));
        for (g, name) in GROUPS.iter().enumerate() {
            if let Some(v) = r["referrals_by_group"].get(name) {
                let atoms = areas
                    .iter()
                    .flat_map(|&a| (0..2).map(move |y| atom(a, g, y)))
                    .collect();
                facts.extend(read(format!("quintile {q:?} {name}"), atoms, v));
            }
        }
    }
    let all = (0..ATOMS).collect::<Vec<_>>();
    facts.extend(read("region".into(), all, &e["total"]["referrals"]));
    // Periods: the need CSV export (fixed periods, the configured years).
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("need.csv");
    writers::write_need_csv(
        &path,
        &state.atlas.areas,
        &state.public.need,
        Disclosure::Public(&state.public.counts),
    )
    .expect("csv");
    let text = std::fs::read_to_string(&path).expect("read csv");
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().expect("header").split(',').collect();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let a: usize = cells[0][1..].parse::<usize>().expect("n") - 1;
        for (y, year) in YEARS.iter().enumerate() {
            let col = head
                .iter()
                .position(|h| *h == format!("referrals_{year}"))
                .expect("period column");
            facts.extend(read(
                format!("A{} {year}", a + 1),
                (0..2).map(|g| atom(a, g, y)).collect(),
                &Value::String(cells[col].to_string()),
            ));
        }
    }
    facts
}

/// The same cells published one by one (rounding and primary suppression only).
fn cell_by_cell(facts: &[Fact]) -> Vec<Fact> {
    cell_by_cell_in(facts, &six())
}

fn cell_by_cell_in(facts: &[Fact], truth: &[u64]) -> Vec<Fact> {
    let p = Policy::default();
    facts
        .iter()
        .map(|f| {
            let v = match p.count(f.exact as f64, Role::Public) {
                Count::Value(v) => serde_json::json!(v),
                Count::Suppressed(s) => Value::String(s),
            };
            read_in(truth, f.what.clone(), f.atoms.clone(), &v).expect("a shown cell")
        })
        .collect()
}

#[test]
fn differencing_attacks_recover_nothing_from_public_outputs() {
    let (state, _dir) = prepared("\n[privacy]\npublic_group_level = \"area\"\n");
    let addr = serve(state.clone());
    let public = public_facts(&state, addr);

    // Control: with every cell protected on its own, the attacks work.
    let naive = cell_by_cell(&public);
    let facts = with_differences(&naive, &six());
    let b = attack(&facts, ATOMS);
    let narrowed = |atoms: Vec<usize>| known(&facts, &b, &atoms);
    assert_eq!(
        narrowed(vec![atom(3, 0, 0), atom(3, 0, 1)]),
        (4.0, 4.0),
        "area vs parent: A4 adults should be recovered from the unprotected table"
    );
    // Overlapping catchments (A2 = 2) and date windows (A3 in 2024 = 1)
    // narrow to fewer than 5 values without the audit.
    for (what, atoms, exact) in [
        ("A2", area_atoms(1), 2.0),
        ("A3 in 2024", vec![atom(2, 0, 1), atom(2, 1, 1)], 1.0),
    ] {
        let (lo, hi) = narrowed(atoms);
        assert!(
            hi - lo + 1.0 < 5.0 && lo <= exact && exact <= hi,
            "{what}: {lo}..={hi}"
        );
    }

    // What needmap publishes: no small count can be narrowed below 5 values.
    let (what, exact, lo, hi) = weakest(&public, &six());
    eprintln!(
        "weakest small count: {what} (exact {exact}) in {lo}..={hi}; {} of {} cells withheld",
        state.public.counts.withheld, state.public.counts.published
    );
    assert!(
        hi - lo + 1.0 >= 5.0,
        "{what} (exact {exact}) narrowed to {lo}..={hi} from the public outputs"
    );
    // Nothing was lost that did not have to be: the big totals are still there.
    let region = public.iter().find(|f| f.what == "region").expect("region");
    assert_eq!((region.lo, region.hi), (138.0, 142.0)); // 139 shown as 140
    assert!(state.public.counts.withheld > 0);
}

#[test]
fn each_rule_of_the_policy_holds_in_the_public_outputs() {
    let (state, _dir) = prepared("");
    let addr = serve(state.clone());
    let (_, areas) = http_get(addr, "/api/areas?geometry=false");
    let areas = areas["areas"].as_array().expect("areas").clone();
    let by_code = |c: &str| areas.iter().find(|p| p["area_id"] == c).expect(c).clone();
    // 0-9 as "<10", zero included: A2 has 0 adults in 2024 and 2 in all.
    assert_eq!(by_code("A2")["referrals"], "<10");
    // Others to the nearest 5: A4 17 -> 15, A5 53 -> 55, A6 46 -> 45.
    assert_eq!(by_code("A4")["referrals"], 15);
    assert_eq!(by_code("A5")["referrals"], 55);
    assert_eq!(by_code("A6")["referrals"], 45);
    // Rates withheld where the count is, else from the shown count.
    assert!(by_code("A2")["rate_per_1000"].is_null());
    assert_eq!(by_code("A5")["rate_per_1000"], 55.0);
    // Totals from the unrounded counts, then protected: 139 -> 140, where the
    // shown areas would add to at most 10+10+10+15+55+45 = 145.
    let (_, e) = http_get(addr, "/api/equity");
    assert_eq!(e["total"]["referrals"], 140);
    // No breakdown by group below the configured geography (default: the
    // first parent column): none per area, present per IZ.
    for p in &areas {
        assert!(
            p.as_object()
                .expect("props")
                .keys()
                .all(|k| !k.starts_with("referrals_")),
            "group counts per area for the public: {p}"
        );
    }
    let (_, one) = http_get(addr, "/api/areas/A5");
    assert!(one["referrals_by_group"]
        .as_object()
        .expect("groups")
        .is_empty());
    let need = &state.public.need;
    let iz = needmap::analysis::rollup::rollup_by_column(&state.atlas.areas, need, "iz_code");
    let (h, _) = writers::rollup_rows(&iz, Disclosure::Public(&state.public.counts));
    assert!(h.iter().any(|c| c == "referrals_adults"), "{h:?}");
    // Planners see the groups per area, exactly.
    let d = Disclosure::Exact;
    let props =
        writers::area_properties(&state.atlas.areas[4], &state.need.areas[4], &state.need, d);
    assert_eq!(props["referrals_adults"], 12);
    // Fixed periods only: the public gets the configured years, and no
    // route takes a date window.
    for uri in [
        "/api/areas?from=2024-01-01",
        "/api/rollup?to=iz_code&to_date=2024-03-01",
        "/api/equity?period=2024-03",
    ] {
        let (st, body) = http_get(addr, uri);
        assert_eq!(st, 400, "{uri}: {body}");
    }
    // The need score does not carry the exact rate: it is the score of the
    // published rates (A1 and A3 both show 10 per 1,000, so their referral
    // components tie although 10 < 11).
    let s1 = by_code("A1")["need_score"].as_f64().expect("score");
    let s3 = by_code("A3")["need_score"].as_f64().expect("score");
    let rates: Vec<Option<f64>> = areas.iter().map(|p| p["rate_per_1000"].as_f64()).collect();
    let expect =
        needmap::analysis::need::need_scores(&state.atlas.areas, &rates, &state.atlas.config.need);
    assert_eq!(Some(s1), expect[0].map(|x| (x * 100.0).round() / 100.0));
    assert_eq!(Some(s3), expect[2].map(|x| (x * 100.0).round() / 100.0));
}

#[test]
fn hours_gaps_cannot_be_differenced_with_the_area_counts() {
    // Sparse regions, where "met = timed - unmet" and "a catchment less its
    // other areas" are small counts: the audited outputs hold in each. (The
    // mechanism against a case built to break cell-by-cell protection is
    // `privacy::release::tests::hours_counts_are_audited_against_the_area_counts`.)
    for (areas, referrals, seed) in [
        (40, 500, 21),
        (40, 700, 22),
        (60, 900, 23),
        (30, 400, 24),
        (50, 600, 25),
    ] {
        let small = hours_case(areas, referrals, seed);
        assert!(
            small > 0,
            "seed {seed}: no small hours count, nothing to protect"
        );
    }
}

/// One region: attacks its public outputs; returns how many hours counts are small.
fn hours_case(areas: usize, referrals: usize, seed: u64) -> usize {
    use needmap::analysis::access::nearest_by_cost;
    use needmap::analysis::hours::referral_hours;
    use needmap::demo::{write_demo, DemoSpec};
    const KIND: &str = "social_work_office";
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = DemoSpec {
        areas,
        referrals,
        seed,
    };
    let summary = write_demo(dir.path(), &spec).expect("demo");
    let cfg = Config::load(&summary.config).expect("config");
    let atlas = load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    let state: AppState = Arc::new(Prepared::new(atlas));
    let a = &state.atlas;
    // Atoms: area x (untimed, then timed by unmet x nearest-closed): 5 per area.
    let study = a.kind_study(KIND, 900.0).expect("kind");
    let flags = referral_hours(&a.referrals, &study.costs, 900.0, &study.hours(), |_| true);
    let n = a.areas.len();
    let mut truth = vec![0u64; n * 5];
    for (r, f) in a.referrals.referrals.iter().zip(&flags) {
        let Some(area) = r.area else { continue };
        let k = match f {
            None => 0,
            Some(f) => 1 + usize::from(f.unmet) * 2 + usize::from(f.nearest.is_some_and(|x| x.1)),
        };
        truth[area.index() * 5 + k] += 1;
    }
    let catchment: Vec<Option<u32>> = nearest_by_cost(&study.costs)
        .iter()
        .map(|x| x.map(|y| y.0))
        .collect();
    let addr = serve(state.clone());
    let mut facts = Vec::new();
    let (_, areas) = http_get(addr, "/api/areas?geometry=false");
    // What the public knows of the premises: which are in reach of each
    // area and which is nearest, so which outcomes cannot happen there (and
    // count 0): "unmet while the nearest is open" if the nearest is in
    // reach, "met while it is closed" if it is the only one in reach, "met"
    // if none is.
    let reach: Vec<Vec<u32>> = study
        .costs
        .rows
        .iter()
        .map(|r| r.iter().filter(|x| x.1 <= 900.0).map(|x| x.0).collect())
        .collect();
    // A region with no untimed referrals says so (as the audit assumes a
    // reader may know): then there is no untimed count to protect.
    let any_untimed = truth.iter().step_by(5).any(|&c| c > 0);
    let can = |i: usize, k: usize| -> bool {
        if k == 0 {
            return any_untimed;
        }
        let (unmet, closed) = ((k - 1) / 2 == 1, (k - 1) % 2 == 1);
        let near = catchment[i];
        let r = &reach[i];
        match (unmet, closed) {
            (false, _) if r.is_empty() => false,
            (_, true) if near.is_none() => false,
            (true, false) => !near.is_some_and(|j| r.contains(&j)),
            (false, true) => r.iter().any(|&j| Some(j) != near),
            _ => true,
        }
    };
    let pick = |i: usize, f: &dyn Fn(usize) -> bool| -> Vec<usize> {
        (0..5)
            .filter(|&k| f(k) && can(i, k))
            .map(|k| i * 5 + k)
            .collect()
    };
    for (i, p) in areas["areas"].as_array().expect("areas").iter().enumerate() {
        facts.extend(read_in(
            &truth,
            format!("area {i}"),
            pick(i, &|_| true),
            &p["referrals"],
        ));
    }
    let (st, gap) = http_get(addr, &format!("/api/hours/gap?kind={KIND}"));
    assert_eq!(st, 200, "{gap}");
    let timed = |k: usize| k >= 1;
    let unmet = |k: usize| k >= 3;
    let closed = |k: usize| k >= 1 && (k - 1) % 2 == 1;
    for (i, row) in gap["areas"].as_array().expect("areas").iter().enumerate() {
        facts.extend(read_in(
            &truth,
            format!("area {i} timed"),
            pick(i, &timed),
            &row["timed"],
        ));
        facts.extend(read_in(
            &truth,
            format!("area {i} unmet"),
            pick(i, &unmet),
            &row["unmet"],
        ));
    }
    for (j, row) in gap["premises"]
        .as_array()
        .expect("premises")
        .iter()
        .enumerate()
    {
        let members: Vec<usize> = (0..n).filter(|&i| catchment[i] == Some(j as u32)).collect();
        let all: Vec<usize> = members.iter().flat_map(|&i| pick(i, &timed)).collect();
        let shut: Vec<usize> = members.iter().flat_map(|&i| pick(i, &closed)).collect();
        if !all.is_empty() {
            facts.extend(read_in(
                &truth,
                format!("catchment {j}"),
                all,
                &row["catchment_timed"],
            ));
            facts.extend(read_in(
                &truth,
                format!("catchment {j} closed"),
                shut,
                &row["while_closed"],
            ));
        }
    }
    let every: Vec<usize> = (0..n).flat_map(|i| pick(i, &timed)).collect();
    let unmet_all: Vec<usize> = (0..n).flat_map(|i| pick(i, &unmet)).collect();
    facts.extend(read_in(
        &truth,
        "region timed".into(),
        every,
        &gap["totals"]["timed"],
    ));
    facts.extend(read_in(
        &truth,
        "region unmet".into(),
        unmet_all,
        &gap["totals"]["unmet"],
    ));

    let small = facts.iter().filter(|f| f.exact < 10 && f.hi <= 9.0).count();
    // No small count below 5 values.
    let (what, exact, lo, hi) = weakest(&facts, &truth);
    eprintln!(
        "seed {seed}: {} facts, {small} small; weakest {what} (exact {exact}) in {lo}..={hi}",
        facts.len()
    );
    assert!(
        hi - lo + 1.0 >= 5.0,
        "seed {seed}: {what} (exact {exact}) narrowed to {lo}..={hi}"
    );
    small
}
