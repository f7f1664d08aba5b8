#!/usr/bin/env python3
"""Cross-check needmap's Getis-Ord Gi* and local Moran's I against PySAL esda.

For each case, `needmap hotspots` builds rook contiguity from the polygons, writes
the neighbour list it used (`--gal`) and its statistics (`--exact`, full precision)
for both Gi* weightings; esda then computes the same statistics from the same
neighbour list and the same values:

- Gi*, binary: `esda.G_Local(y, w, transform="B", star=True)` (G, E[G], Var[G], z,
  and 2 x esda's one-sided `p_norm` against needmap's two-sided p);
- Gi*, row-standardised: `G_Local(y, fill_diagonal(w, 1), transform="R", star=True)`
  (the self-weight set to 1 before standardising, as needmap does; esda's own
  default fills the diagonal with the row maximum, which is the same 1 except for
  islands, where it is 0: checked too, on the zones that are not islands);
- local Moran's I: `esda.Moran_Local(y, w, transformation="r")` (I, the analytic
  E[I] and Var[I] under total randomisation and conditional on z_i, their
  z-scores, the quadrants); the conditional-permutation pseudo p-values come
  from different random draws, so they are compared statistically (the share
  of zones whose two p_sim differ by more than 4.5 Monte Carlo standard errors).

Every analytic statistic must agree to `--tolerance` (1e-9) relative, or the
script exits 1. Relative error is |a - b| / max(|a|, |b|) (0 where both are 0
or both NaN); a NaN on one side only is a failure.

Cases: the 6,976 real data zones (`--geodata`, default ../shared/geodata or
$NEEDMAP_GEODATA) with (1) the SIMD 2020v2 income rate and (2) a referral rate
per 1,000 per year from a seeded synthetic extract placed by postcode through
the Scottish Postcode Directory (`--referrals`, default 60,000); and (3) the
demo region's referral rate (`needmap demo`, needmap's own seeded generator).

Run with the benchmark venv (esda 2.9, libpysal 4.14):
    bench-out/.venv/bin/python scripts/crosscheck_hotspots.py [--needmap target/release/needmap]
"""
import argparse
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
import libpysal
from esda.getisord import G_Local
from esda.moran import Moran_Local

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUADRANT = {"HH": 1, "LH": 2, "LL": 3, "HL": 4}


def rel_err(ours, ref):
    """Max relative error and the number of one-sided NaNs."""
    a = np.asarray(ours, dtype=float)
    b = np.asarray(ref, dtype=float)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    one_nan = int((nan_a ^ nan_b).sum())
    ok = ~(nan_a | nan_b)
    a, b = a[ok], b[ok]
    denom = np.maximum(np.abs(a), np.abs(b))
    err = np.where(denom > 0, np.abs(a - b) / np.where(denom > 0, denom, 1.0), 0.0)
    return (float(err.max()) if err.size else 0.0), one_nan


def run(cmd):
    t = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    return p.stderr, time.time() - t


def fresh_w(gal):
    # libpysal prints a line per island; the count is reported once below.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return libpysal.io.open(gal, "r").read()


def needmap_case(a, tmp, tag, config, value):
    """Run needmap for both Gi* weightings; return the two tables and the GAL path."""
    gal = f"{tmp}/{tag}.gal"
    tables = {}
    for std in ("binary", "row"):
        out = f"{tmp}/{tag}-{std}.csv"
        log, secs = run([a.needmap, "hotspots", "--config", config, "--value", value,
                         "--weights", "rook", "--standardisation", std,
                         "--permutations", str(a.permutations), "--seed", "1",
                         "--exact", "--gal", gal, "-o", out])
        if std == "binary":
            said = [line for line in log.splitlines() if line.startswith("Gi* (")]
            print(f"  needmap ({secs:.1f} s): {said[0] if said else ''}")
        tables[std] = pd.read_csv(out, dtype={"area_id": str}).set_index("area_id")
    return tables, gal


def compare(a, tag, tables, gal):
    """Compare one case; returns the list of (statistic, max rel err, one-sided NaNs)."""
    w = fresh_w(gal)
    ids = [str(i) for i in w.id_order]
    b = tables["binary"].loc[ids]
    r = tables["row"].loc[ids]
    y = b["value"].to_numpy(dtype=float)
    islands = set(str(i) for i in w.islands)
    print(f"  {len(ids)} zones, {int(w.s0 / 2)} neighbour pairs, {len(islands)} islands, "
          f"mean {w.mean_neighbors:.2f} neighbours")
    rows = []
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        g = G_Local(y, fresh_w(gal), transform="B", star=True, permutations=0)
        for name, ours, ref in [("Gi* binary G", b.gi_g, g.Gs), ("Gi* binary E[G]", b.gi_expected, g.EGs),
                                ("Gi* binary Var[G]", b.gi_variance, g.VGs), ("Gi* binary z", b.gi_z, g.Zs),
                                ("Gi* binary p (two-sided)", b.gi_p, 2 * g.p_norm)]:
            rows.append((name,) + rel_err(ours, ref))
        filled = libpysal.weights.fill_diagonal(fresh_w(gal), 1.0)
        gr = G_Local(y, filled, transform="R", star=True, permutations=0)
        for name, ours, ref in [("Gi* row G", r.gi_g, gr.Gs), ("Gi* row z", r.gi_z, gr.Zs),
                                ("Gi* row Var[G]", r.gi_variance, gr.VGs)]:
            rows.append((name,) + rel_err(ours, ref))
        gd = G_Local(y, fresh_w(gal), transform="R", star=True, permutations=0)
        keep = np.array([i not in islands for i in ids])
        rows.append(("Gi* row z, esda default (non-islands)",)
                    + rel_err(r.gi_z.to_numpy()[keep], np.asarray(gd.Zs)[keep]))
        m = Moran_Local(y, fresh_w(gal), transformation="r", permutations=a.permutations,
                        seed=a.seed, n_jobs=1)
        z = (m.Is - m.EI) / np.sqrt(m.VI)
        zc = (m.Is - m.EIc) / np.sqrt(m.VIc)
        for name, ours, ref in [("Moran I", b.moran_i, m.Is), ("Moran E[I]", b.moran_expected, m.EI),
                                ("Moran Var[I]", b.moran_variance, m.VI), ("Moran z", b.moran_z, z),
                                ("Moran E[I] conditional", b.moran_expected_conditional, m.EIc),
                                ("Moran Var[I] conditional", b.moran_variance_conditional, m.VIc),
                                ("Moran z conditional", b.moran_z_conditional, zc)]:
            rows.append((name,) + rel_err(ours, ref))
        quads = b.quadrant.map(QUADRANT).to_numpy()
        rows.append(("Moran quadrant (mismatches)", float((quads != m.q).sum()), 0))
        # Pseudo p-values: different draws; compare within Monte Carlo error.
        ps, pe = b.moran_p_sim.to_numpy(dtype=float), np.asarray(m.p_sim, dtype=float)
        ok = ~(np.isnan(ps) | np.isnan(pe))
        p = (ps[ok] + pe[ok]) / 2
        se = np.sqrt(2 * np.maximum(p, 1e-3) * (1 - p) / a.permutations)
        off = np.abs(ps[ok] - pe[ok]) > 4.5 * se + 2.0 / (a.permutations + 1)
        said = (f"  Moran p_sim vs esda's: mean |difference| {np.abs(ps[ok] - pe[ok]).mean():.4f}, "
                f"{int(off.sum())} of {int(ok.sum())} zones beyond 4.5 Monte Carlo SE")
        rows.append(("Moran p_sim beyond 4.5 SE (share)", float(off.mean()), 0))
    print(said)
    return rows


def real_workspace_with_referrals(a, tmp):
    """A workspace over the real data zones with a seeded synthetic referral extract, by postcode."""
    geo = a.geodata
    pc = pd.read_csv(f"{geo}/postcodes_scotland_spd2019.csv", usecols=["postcode", "dz11_code"])
    simd = pd.read_csv(f"{geo}/simd2020v2_withinds.csv", usecols=["Data_Zone", "income_rate"])
    income = simd.set_index("Data_Zone")["income_rate"].astype(str).str.rstrip("%")
    income = pd.to_numeric(income, errors="coerce")
    # More referrals from postcodes in income-deprived zones: spatial structure to find.
    weight = pc["dz11_code"].map(income).fillna(income.mean()).to_numpy() + 2.0
    rng = np.random.default_rng(a.seed)
    n = a.referrals
    idx = rng.choice(len(pc), size=n, p=weight / weight.sum())
    day = rng.integers(0, 731, size=n)
    minute = rng.integers(9 * 60, 17 * 60, size=n)
    t = pd.Timestamp("2023-01-01") + pd.to_timedelta(day, "D") + pd.to_timedelta(minute, "min")
    df = pd.DataFrame({
        "case_ref": [f"R{i:07d}" for i in range(n)],
        "postcode": pc["postcode"].to_numpy()[idx],
        "received_at": t.strftime("%Y-%m-%dT%H:%M:00"),
        "client_group": rng.choice(["adults", "children_families", "older_people"], size=n),
    })
    df.to_csv(f"{tmp}/referrals.csv", index=False)
    q = lambda p: '"' + str(p).replace("\\", "\\\\").replace('"', '\\"') + '"'
    toml = f"""region = "Scotland (cross-check)"
[areas]
path = {q(f"{geo}/dz2011_scotland.geojson")}
id = "dz11_code"
name = "dz11_name"
population = "Total_population"
[[indicators]]
path = {q(f"{geo}/simd2020v2_withinds.csv")}
key = "Data_Zone"
[referrals]
path = {q(f"{tmp}/referrals.csv")}
postcode = "postcode"
time = "received_at"
group = "client_group"
[postcodes]
path = {q(f"{geo}/postcodes_scotland_spd2019.csv")}
"""
    path = f"{tmp}/needmap.toml"
    with open(path, "w") as f:
        f.write(toml)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--needmap", default=os.environ.get("NEEDMAP_BIN", "target/release/needmap"))
    ap.add_argument("--geodata", default=os.environ.get("NEEDMAP_GEODATA",
                                                        os.path.join(REPO, "..", "shared", "geodata")))
    ap.add_argument("--permutations", type=int, default=999)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--referrals", type=int, default=60_000)
    ap.add_argument("--tolerance", type=float, default=1e-9)
    a = ap.parse_args()
    a.geodata = os.path.abspath(a.geodata)
    if not os.path.isfile(os.path.join(a.geodata, "dz2011_scotland.geojson")):
        sys.exit(f"no data zones in {a.geodata} (set --geodata or NEEDMAP_GEODATA)")
    print(f"esda {__import__('esda').__version__}, libpysal {libpysal.__version__}, needmap {a.needmap}")
    failures = 0
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = real_workspace_with_referrals(a, tmp)
        # The repository's workspace over the real data reads ../shared/geodata; with
        # another --geodata the synthetic workspace (which joins the same SIMD table) serves.
        real = os.path.join(REPO, "geodata", "scotland", "needmap.toml")
        if os.path.abspath(a.geodata) != os.path.abspath(os.path.join(REPO, "..", "shared", "geodata")):
            real = synthetic
        run([a.needmap, "demo", "--out", f"{tmp}/demo", "--areas", "2000", "--referrals", "60000",
             "--seed", "3"])
        cases = [
            ("real data zones, SIMD income rate", real, "income_rate"),
            (f"real data zones, synthetic referral rate ({a.referrals} by postcode, seed {a.seed})",
             synthetic, "rate"),
            ("demo region (2,000 areas), referral rate", f"{tmp}/demo/needmap.toml", "rate"),
        ]
        for k, (label, config, value) in enumerate(cases):
            print(f"case {k + 1}: {label}")
            tables, gal = needmap_case(a, tmp, f"case{k}", config, value)
            rows = compare(a, label, tables, gal)
            for name, err, one_nan in rows:
                limit = 0.01 if "p_sim" in name else (0 if "quadrant" in name else a.tolerance)
                ok = err <= limit and one_nan == 0
                failures += 0 if ok else 1
                shown = f"{err:.3e}" if "quadrant" not in name else f"{int(err)}"
                print(f"    {name:45s} {shown:>10s}  {'OK' if ok else 'MISMATCH'}"
                      + (f" ({one_nan} NaN on one side)" if one_nan else ""))
                results.append((label, name, err))
    worst = max((e for _, n, e in results if "p_sim" not in n and "quadrant" not in n), default=0.0)
    print(f"max relative error of the analytic statistics over all cases: {worst:.3e} "
          f"(tolerance {a.tolerance:g}): {'OK' if failures == 0 else f'{failures} MISMATCH(ES)'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
