"""Paired check behind the figure-3 table in benches/RESULTS.md.

Mean output noise of iterative retrieval (5 steps, l-WTA, half cues) at fixed
numbers of stored patterns, on the same patterns and cues for every rule
(``RecallTask`` draws 0, 1, 2, 1,000 cues each): Willshaw, BCPNN, Bayes with
plain ANE, and query-anchored Bayes without and with ANE.

Usage: python benches/assoc_anchor_paired.py
"""

import numpy as np

import synaplast
import synaplast.memory as mem

LOADS = [(1000, (3456, 3584)), (2000, (12672, 13312))]


def main():
    for n, loads in LOADS:
        k = int(round(np.log2(n)))
        task = mem.RecallTask(m=n, k=k, auto=True, miss=k // 2, n_queries=1000)
        p01 = (k // 2) / k
        configs = {
            "willshaw": dict(rule="willshaw"),
            "bcpnn": dict(rule="bcpnn"),
            "bayes+ANE": dict(rule="bayes", p01=p01, noise_estimation="adaptive"),
            "bayes anchored": dict(rule="bayes", p01=p01, anchor=True),
            "bayes anchored+ANE": dict(
                rule="bayes", p01=p01, anchor=True, noise_estimation="adaptive"
            ),
        }
        for M in loads:
            noise = {c: [] for c in configs}
            for seed in (0, 1, 2):
                U, _, Q, T = task(M, seed)
                for c, kw in configs.items():
                    est = synaplast.AssociativeMemory(retrieval="wta", l=k, n_iter=5, **kw)
                    noise[c].append(mem.output_noise(est.fit(U).predict(Q), T).mean())
            print(
                f"n={n} M={M}  " + "  ".join(f"{c}={np.mean(v):.4f}" for c, v in noise.items()),
                flush=True,
            )


if __name__ == "__main__":
    main()
