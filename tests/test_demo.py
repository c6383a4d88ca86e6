"""synaplast.demo: the sparse softmax layer of the foundation example."""


def test_demo_learns_digits():
    from synaplast.demo import sparse_layer_demo

    res = sparse_layer_demo(dataset="digits", epochs=6, verbose=False, random_state=1)
    assert res["accuracy"] > 0.85
    e = res["energy"]
    assert e.writes >= e.min_writes > 0 and e.synapses_grown > 0 and e.synapses_pruned > 0
    assert res["capacity"].n_synapses <= res["capacity"].n_potential * 0.45


def test_verdict_never_calls_a_ratio_a_win_near_chance():
    from synaplast.demo import verdict

    def rows(rule_acc, bp_acc):
        base = {"synapses": 100, "C_S": 0.1, "fit_time_s": 1.0}
        return [
            {**base, "method": "structural rule (defaults)", "test_acc": rule_acc, "C_S": 1.0},
            {**base, "method": "MLPClassifier(100), 20 epochs", "test_acc": bp_acc},
        ]

    assert "near chance" in verdict(rows(0.15, 0.95), n_classes=10)
    assert "not a win" in verdict(rows(0.80, 0.95), n_classes=10)
    close = verdict(rows(0.95, 0.955), n_classes=10)
    assert "10.0x its bits per synapse" in close and "not a win" not in close
