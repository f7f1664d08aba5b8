//! The composite need score, worked by hand from the formula documented in
//! `src/analysis/need.rs` and the weights in `src/config.rs`:
//! component `c = (below + (equal - 1)/2) / (n - 1)` over the areas that have
//! it (oriented so higher = more need), score `100 * sum(w*c) / sum(w)` over
//! the components an area has; defaults deprivation 0.5, referral rate 0.5.

use std::collections::BTreeMap;

use geo::MultiPolygon;
use needmap::analysis::need_map;
use needmap::config::{Config, NeedConfig, NeedIndicator};
use needmap::model::{Area, AreaId, Referral, ReferralId, ReferralSet, Simd};

use super::Prng;

fn area(i: u32, rank: Option<u32>, population: Option<f64>, income: Option<f64>) -> Area {
    let mut numbers = BTreeMap::new();
    if let Some(v) = income {
        numbers.insert("income_rate".to_string(), v);
    }
    Area {
        id: AreaId(i),
        code: format!("Z{i}"),
        name: None,
        geometry: MultiPolygon(vec![]),
        geometry_wgs84: MultiPolygon(vec![]),
        population,
        simd: rank.map(|r| Simd {
            rank: r,
            decile: 1,
            quintile: 1,
        }),
        numbers,
        texts: BTreeMap::new(),
    }
}

/// `counts[i]` referrals in area i, plus `outside` referrals in no area.
fn referrals(counts: &[u64], outside: u64) -> ReferralSet {
    let mut v = Vec::new();
    let places = counts
        .iter()
        .enumerate()
        .flat_map(|(i, &c)| std::iter::repeat_n(Some(AreaId(i as u32)), c as usize))
        .chain(std::iter::repeat_n(None, outside as usize));
    for (k, area) in places.enumerate() {
        v.push(Referral {
            id: ReferralId(k as u32),
            x_m: 0.0,
            y_m: 0.0,
            received: None,
            group: None,
            area,
            row: k + 1,
        });
    }
    ReferralSet {
        referrals: v,
        groups: Vec::new(),
    }
}

/// Five areas:
///
/// | area | SIMD rank | population | referrals | rate /1000 | income_rate |
/// |------|-----------|------------|-----------|------------|-------------|
/// | Z0   | 1         | 1000       | 10        | 10         | 5           |
/// | Z1   | 2         | 500        | 10        | 20         | 9           |
/// | Z2   | 3         | 2000       | 4         | 2          | 7           |
/// | Z3   | 4         | 1000       | 10        | 10         | —           |
/// | Z4   | —         | —          | 3         | —          | 3           |
fn five() -> (Vec<Area>, ReferralSet) {
    let areas = vec![
        area(0, Some(1), Some(1000.0), Some(5.0)),
        area(1, Some(2), Some(500.0), Some(9.0)),
        area(2, Some(3), Some(2000.0), Some(7.0)),
        area(3, Some(4), Some(1000.0), None),
        area(4, None, None, Some(3.0)),
    ];
    (areas, referrals(&[10, 10, 4, 10, 3], 1))
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    }
}

#[test]
fn need_score_by_hand_with_default_weights() {
    let (areas, refs) = five();
    // The documented defaults.
    let cfg = Config::parse("[areas]\npath = 'a.geojson'\nid = 'c'\n").expect("parses");
    assert_eq!(cfg.need.deprivation_weight, 0.5);
    assert_eq!(cfg.need.referral_rate_weight, 0.5);
    let need = need_map(&areas, &refs, &cfg.need);

    let counts: Vec<u64> = need.areas.iter().map(|a| a.referrals).collect();
    assert_eq!(counts, [10, 10, 4, 10, 3]);
    assert_eq!(need.outside, 1);
    let rates: Vec<Option<f64>> = need.areas.iter().map(|a| a.rate_per_1000).collect();
    assert_eq!(rates, [Some(10.0), Some(20.0), Some(2.0), Some(10.0), None]);

    // Deprivation (-rank, n = 4): Z3 0, Z2 1/3, Z1 2/3, Z0 1.
    // Rate (n = 4; sorted 2, 10, 10, 20): Z2 0, Z0 and Z3 tie at (1 + 1/2)/3 = 0.5, Z1 1.
    // Score = 100 * (0.5 d + 0.5 r) / 1.
    let expected = [
        Some(100.0 * (1.0 + 0.5) / 2.0),       // Z0: 75
        Some(100.0 * (2.0 / 3.0 + 1.0) / 2.0), // Z1: 83.33
        Some(100.0 * (1.0 / 3.0 + 0.0) / 2.0), // Z2: 16.67
        Some(100.0 * (0.0 + 0.5) / 2.0),       // Z3: 25
        None,                                  // Z4: no component
    ];
    for (i, (a, e)) in need.areas.iter().zip(expected).enumerate() {
        assert!(close(a.need_score, e), "Z{i}: {:?} vs {e:?}", a.need_score);
    }
}

#[test]
fn need_score_by_hand_with_configured_weights_and_an_indicator() {
    let (areas, refs) = five();
    let cfg = Config::parse(
        "[areas]\npath = 'a.geojson'\nid = 'c'\n[need]\ndeprivation_weight = 3\nreferral_rate_weight = 1\n\
         [[need.indicators]]\ncolumn = 'income_rate'\nweight = 1\n",
    )
    .expect("parses");
    assert!(cfg.need.indicators[0].higher_is_worse, "documented default");
    let need = need_map(&areas, &refs, &cfg.need);
    // income_rate (n = 4; sorted 3, 5, 7, 9): Z4 0, Z0 1/3, Z2 2/3, Z1 1; Z3 has none.
    let expected = [
        Some(100.0 * (3.0 * 1.0 + 0.5 + 1.0 / 3.0) / 5.0), // Z0: 76.67
        Some(100.0 * (3.0 * 2.0 / 3.0 + 1.0 + 1.0) / 5.0), // Z1: 80
        Some(100.0 * (3.0 / 3.0 + 0.0 + 2.0 / 3.0) / 5.0), // Z2: 33.33
        Some(100.0 * (0.0 + 0.5) / 4.0),                   // Z3: 12.5 (no indicator)
        Some(0.0),                                         // Z4: indicator only
    ];
    for (i, (a, e)) in need.areas.iter().zip(expected).enumerate() {
        assert!(close(a.need_score, e), "Z{i}: {:?} vs {e:?}", a.need_score);
    }

    // Lower is worse flips the indicator: Z1 0, Z2 1/3, Z0 2/3, Z4 1.
    let mut flipped = cfg.need.clone();
    flipped.indicators[0].higher_is_worse = false;
    let need = need_map(&areas, &refs, &flipped);
    assert!(close(need.areas[4].need_score, Some(100.0)));
    assert!(close(
        need.areas[0].need_score,
        Some(100.0 * (3.0 + 0.5 + 2.0 / 3.0) / 5.0)
    ));
}

#[test]
fn zero_weight_leaves_a_component_out_and_negative_weights_are_refused() {
    let (areas, refs) = five();
    let cfg = NeedConfig {
        deprivation_weight: 1.0,
        referral_rate_weight: 0.0,
        ..NeedConfig::default()
    };
    let need = need_map(&areas, &refs, &cfg);
    // Deprivation alone: Z0 100, Z1 66.67, Z2 33.33, Z3 0, Z4 none.
    let expected = [
        Some(100.0),
        Some(200.0 / 3.0),
        Some(100.0 / 3.0),
        Some(0.0),
        None,
    ];
    for (a, e) in need.areas.iter().zip(expected) {
        assert!(close(a.need_score, e), "{:?} vs {e:?}", a.need_score);
    }
    let e = Config::parse("[areas]\npath = 'a'\nid = 'c'\n[need]\nreferral_rate_weight = -1\n")
        .expect_err("negative weight");
    assert!(e.contains("weights"), "{e}");
}

/// Property (STYLE B4.3: need scores >= 0), on seeded random worlds: every
/// score is within [0, 100], and an area has a score exactly when it has a
/// component with a positive weight.
#[test]
fn need_scores_are_within_0_and_100_on_random_worlds() {
    let mut rng = Prng::new(99);
    for world in 0..300 {
        let n = 1 + rng.below(40);
        let areas: Vec<Area> = (0..n)
            .map(|i| {
                let rank = (rng.f64() < 0.8).then(|| 1 + rng.below(n.max(2)) as u32);
                let pop = match rng.below(5) {
                    0 => None,
                    1 => Some(0.0),
                    _ => Some(rng.range(1.0, 3000.0).round()),
                };
                let ind = (rng.f64() < 0.7).then(|| rng.range(-50.0, 50.0));
                area(i as u32, rank, pop, ind)
            })
            .collect();
        let counts: Vec<u64> = (0..n).map(|_| rng.below(30) as u64).collect();
        let refs = referrals(&counts, rng.below(3) as u64);
        let weight = |rng: &mut Prng| {
            if rng.f64() < 0.2 {
                0.0
            } else {
                rng.range(0.0, 5.0)
            }
        };
        let cfg = NeedConfig {
            deprivation_weight: weight(&mut rng),
            referral_rate_weight: weight(&mut rng),
            indicators: vec![NeedIndicator {
                column: "income_rate".into(),
                weight: weight(&mut rng),
                higher_is_worse: rng.f64() < 0.5,
            }],
            ..NeedConfig::default()
        };
        let need = need_map(&areas, &refs, &cfg);
        assert_eq!(need.areas.len(), n);
        for (a, x) in areas.iter().zip(&need.areas) {
            let has_component = (cfg.deprivation_weight > 0.0 && a.simd.is_some())
                || (cfg.referral_rate_weight > 0.0 && x.rate_per_1000.is_some())
                || (cfg.indicators[0].weight > 0.0 && a.numbers.contains_key("income_rate"));
            match x.need_score {
                Some(s) => {
                    assert!((0.0..=100.0).contains(&s), "world {world}, {}: {s}", a.code);
                    assert!(
                        has_component,
                        "world {world}, {}: score without a component",
                        a.code
                    );
                }
                None => assert!(!has_component, "world {world}, {}: no score", a.code),
            }
        }
    }
}
