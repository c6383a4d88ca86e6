"""
Capacity of a Willshaw associative memory
=========================================

Storing more pairs of sparse patterns fills the binary synapse matrix; the
information retrieved per synapse first grows, then collapses as false
alarms take over. The measured capacity follows the binomial theory.
"""

import numpy as np

import synaplast
from synaplast import memory as mem
from synaplast.plotting import capacity_curve

n, k = 300, 6
stored = np.unique(np.geomspace(100, 4000, 10).astype(int))
measured, theory = [], []
for M in stored:
    U = mem.exact_k_patterns(M, n, k, random_state=1, sparse=True)
    V = mem.exact_k_patterns(M, n, k, random_state=2, sparse=True)
    Y = synaplast.AssociativeMemory().fit(U, V).predict(U[:300])
    # retrieved information per output unit, from the pooled error rates
    hit = np.asarray(Y.multiply(V[:300]).sum())
    ones = V[:300].sum()
    q01 = 1 - hit / ones
    q10 = (Y.sum() - hit) / (300 * n - ones)
    measured.append(M * n * mem.transinformation(k / n, q01, q10) / n**2)
    p1 = 1 - (1 - k * k / n**2) ** M
    theory.append(M * n * mem.transinformation(k / n, 0.0, p1**k) / n**2)

m_eps = mem.willshaw_theory(n, n, k, k, 0.01)["M_eps"]
fig_capacity_curve = capacity_curve(
    stored, measured, theory, m_eps, f"Willshaw, n = m = {n}, k = l = {k}"
)
