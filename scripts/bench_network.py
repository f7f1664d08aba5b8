#!/usr/bin/env python3
"""Peer for network one-to-all: scipy.sparse.csgraph.dijkstra on the graph needmap exported.

    target/release/needmap bench-network --roads ../shared/geodata/os_open_roads_edinburgh_6km.geojson \\
        --export bench-out/network
    bench-out/.venv/bin/python scripts/bench_network.py bench-out/network

Builds an undirected CSR graph from edges.csv (from, to, time_s; parallel edges keep the
quickest), times dijkstra from the listed sources (index build excluded, as for needmap's
graph build), and prints the sum of finite travel times, which must equal needmap's
`sum_reached_s` (needmap adds in f32, so agreement is to about 1e-6 relative).
"""
import sys
import time

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra


def main():
    d = sys.argv[1]
    e = pd.read_csv(f"{d}/edges.csv")
    src = np.loadtxt(f"{d}/sources.txt", dtype=np.int64)
    n = int(max(e["from"].max(), e["to"].max())) + 1
    e = e[e["from"] != e["to"]]
    # Keep the quickest of parallel edges, both directions.
    a = np.minimum(e["from"].values, e["to"].values)
    b = np.maximum(e["from"].values, e["to"].values)
    g = pd.DataFrame({"a": a, "b": b, "t": e["time_s"].values}).groupby(["a", "b"], as_index=False)["t"].min()
    rows = np.concatenate([g.a.values, g.b.values])
    cols = np.concatenate([g.b.values, g.a.values])
    vals = np.concatenate([g.t.values, g.t.values])
    m = coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    ts = []
    out = None
    for _ in range(5):
        t0 = time.perf_counter()
        out = dijkstra(m, directed=False, indices=src)
        ts.append(time.perf_counter() - t0)
    ts.sort()
    finite = out[np.isfinite(out)]
    print({"peer": "scipy.sparse.csgraph.dijkstra (1 thread)", "nodes": n, "sources": len(src),
           "median_s": round(ts[len(ts) // 2], 4), "min_s": round(ts[0], 4), "sum_reached_s": float(finite.sum())})


if __name__ == "__main__":
    main()
