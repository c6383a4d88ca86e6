"""synaplast.compare: the main comparison and its table."""

import pytest


def test_compare_smoke(tmp_path):
    pytest.importorskip("matplotlib")
    from synaplast.compare import compare, table

    rows = compare(
        subset=(1, 2, 6),
        hidden_sizes=(10,),
        max_synapses=200,
        methods=("rule", "bp", "bp_nonneg"),
        rule_params={"max_iter": 2, "readout_max_iter": 5},
        bp_max_iter=3,
        n_info=300,
        plot_dir=str(tmp_path),
        verbose=False,
        dataset="digits",
    )
    assert [r["method"] for r in rows] == ["rule", "bp", "bp_nonneg"]
    assert rows[0]["synapses"] <= 200 and rows[1]["synapses"] == 10 * 64
    assert all(r["I_XZ_bits"] > 0 for r in rows)
    assert "C_S rule/BP" in table(rows)
    assert len(list(tmp_path.glob("*.png"))) == 3
