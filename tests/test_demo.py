"""synaplast.demo: the sparse softmax layer of the foundation example."""


def test_demo_learns_digits():
    from synaplast.demo import sparse_layer_demo

    res = sparse_layer_demo(dataset="digits", epochs=6, verbose=False, random_state=1)
    assert res["accuracy"] > 0.85
    e = res["energy"]
    assert e.writes >= e.min_writes > 0 and e.synapses_grown > 0 and e.synapses_pruned > 0
    assert res["capacity"].n_synapses <= res["capacity"].n_potential * 0.45
