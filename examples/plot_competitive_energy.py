"""
The energy of learning with competitive plasticity
==================================================

Plain online backprop writes every synapse at every sample. Writing only the
largest 10 % of the updates of each layer reaches a similar accuracy with
far fewer synaptic writes (``M0``), at the cost of more samples.
"""

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from synaplast import CompetitivePlasticityClassifier
from synaplast.plotting import accuracy_vs_energy

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, random_state=0)
rows = []
for name, p in [("plain backprop", 1.0), ("top 10% of |Δw|", 0.1)]:
    clf = CompetitivePlasticityClassifier(
        hidden_layer_sizes=(50,),
        learning_rate=0.02,
        update_fraction=p,
        target_accuracy=0.93,
        eval_every=200,
        max_epochs=10,
        random_state=0,
    ).fit(X_train, y_train, eval_set=(X_test, y_test))
    print(f"{name}: {clf.epochs_:.2f} epochs, M0 = {clf.energy_.writes:.3g}")
    rows.append(
        {
            "algorithm": name,
            "n_hidden": 50,
            "seed": 0,
            "reached": clf.reached_target_,
            "history": clf.history_,
        }
    )

# %%
fig_accuracy_vs_energy = accuracy_vs_energy(rows, [r["algorithm"] for r in rows], n_hidden=50)
