//! Benjamini-Hochberg false discovery rate (Benjamini & Hochberg 1995).
//!
//! With the `m` p-values sorted, `p₍₁₎ ≤ … ≤ p₍ₘ₎`, the adjusted value (q-value)
//! of the i-th is `q₍ᵢ₎ = min_{j ≥ i} min(1, m·p₍ⱼ₎/j)`; rejecting every
//! hypothesis with `q ≤ α` is the BH step-up procedure at level α. Missing
//! p-values (`None`) are left out of `m` and stay `None`.

/// BH q-values, in the order of `p`.
pub fn benjamini_hochberg(p: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut order: Vec<usize> = (0..p.len())
        .filter(|&i| p[i].is_some_and(|v| !v.is_nan()))
        .collect();
    let m = order.len();
    let mut q = vec![None; p.len()];
    if m == 0 {
        return q;
    }
    let value = |i: usize| p[i].unwrap_or(f64::NAN);
    order.sort_by(|&a, &b| value(a).total_cmp(&value(b)).then(a.cmp(&b)));
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        let adjusted = (value(i) * m as f64 / (rank + 1) as f64).min(1.0);
        running = running.min(adjusted);
        q[i] = Some(running);
    }
    q
}

/// BH q-values of p-values that are all present.
pub fn benjamini_hochberg_all(p: &[f64]) -> Vec<f64> {
    let wrapped: Vec<Option<f64>> = p.iter().map(|&v| Some(v)).collect();
    benjamini_hochberg(&wrapped)
        .into_iter()
        .map(|q| q.unwrap_or(f64::NAN))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: p = 0.01, 0.04, 0.03, 0.005, 0.5 (m = 5). Sorted: 0.005, 0.01,
    /// 0.03, 0.04, 0.5; m·p/rank = 0.025, 0.025, 0.05, 0.05, 0.5; the running
    /// minimum from the top leaves them as they are.
    #[test]
    fn hand_example() {
        let q = benjamini_hochberg_all(&[0.01, 0.04, 0.03, 0.005, 0.5]);
        let want = [0.025, 0.05, 0.05, 0.025, 0.5];
        for (a, b) in q.iter().zip(want) {
            assert!((a - b).abs() < 1e-15, "{q:?}");
        }
        // A step-up case: 0.02, 0.021, 0.9 → 0.06, 0.0315, 0.9 → the running minimum gives 0.0315 to both.
        let q = benjamini_hochberg_all(&[0.02, 0.021, 0.9]);
        assert!((q[0] - 0.0315).abs() < 1e-15 && (q[1] - 0.0315).abs() < 1e-15);
        assert!((q[2] - 0.9).abs() < 1e-15);
        // Missing values are skipped: m = 2.
        let q = benjamini_hochberg(&[Some(0.04), None, Some(0.01)]);
        assert_eq!(q, vec![Some(0.04), None, Some(0.02)]);
    }
}
