"""
Receptive fields of the structural-plasticity classifier
========================================================

The hidden units learn excitatory, sparse receptive fields from the digits
without an error signal; structural plasticity keeps each unit's share of
the synapse budget. The histogram shows the learned weights with their
lognormal fit and the upper clamp ``w_max``.
"""

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from synaplast import StructuralPlasticityClassifier
from synaplast.plotting import receptive_fields, synapse_count, weight_histogram

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, random_state=0)
# One knob: 1,500 synapses; the layer sizes itself (750 units of 2 synapses).
clf = StructuralPlasticityClassifier(max_synapses=1500, random_state=0)
clf.fit(X_train, y_train)
print(f"test accuracy {clf.score(X_test, y_test):.3f} with {clf.synapses_.nnz} synapses")
print(clf.energy_)

# %%
# One colour scale for all units, so strong and weak fields compare directly;
# ``receptive_fields_`` maps the weights of the ON/OFF input stage back to pixels.
fig_receptive_fields = receptive_fields(clf.receptive_fields_, image_shape=(8, 8))

# %%
# The number of non-silent synapses per epoch falls to the budget.
fig_synapse_count = synapse_count(clf.synapse_history_)

# %%
fig_weight_histogram = weight_histogram(clf.synapses_.weights, w_max=clf.w_max)
