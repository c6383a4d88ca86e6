"""
A spiking network learns with e-prop
====================================

Two classes of spike trains differ in which inputs fire more. A recurrent
network of 40 LIF neurons learns to tell them apart with e-prop; the loss
falls over the epochs and the raster shows the recurrent activity of one
sequence.
"""

import numpy as np

from synaplast import EPropClassifier
from synaplast.plotting import loss_curve, spike_raster

rng = np.random.default_rng(0)
y = np.arange(80) % 2
rates = np.where(y[:, None, None] == 1, [0.3, 0.02, 0.3, 0.02], [0.02, 0.3, 0.02, 0.3])
X = (rng.random((80, 40, 4)) < rates).astype(np.uint8)
clf = EPropClassifier(n_rec=40, max_iter=15, batch_size=8, random_state=0).fit(X, y)
print(f"training accuracy {clf.score(X, y):.2f}")

# %%
fig_loss_curve = loss_curve(clf.loss_curve_, "cross-entropy over the window")

# %%
fig_spike_raster = spike_raster(X[0], "input spikes of one sequence")
