"""EnergyReport and CapacityReport."""

import math

import numpy as np
import pytest

import synaplast
from synaplast import CapacityReport, EnergyReport, SynapseMatrix
from synaplast.energy import DEFAULT_COST_TABLE, synaptic_ops


def test_report_from_synapses_matches_recount():
    rng = np.random.default_rng(0)
    d = np.abs(rng.standard_normal((5, 7))).astype(np.float32)
    W = SynapseMatrix.from_dense(d)
    initial = W.copy()
    W.hebbian_update(np.ones((1, 5)), np.ones((1, 7)), 0.1)
    W.prune(threshold=0.5)
    W.grow_random(1, init=0.3, random_state=0)
    rep = EnergyReport.from_synapses([(W, initial)], prediction_ops=synaptic_ops(W.nnz))
    assert rep.writes == 35 and rep.abs_change == pytest.approx(3.5, rel=1e-5)
    diff = W.to_dense() - d
    assert rep.min_writes == np.count_nonzero(diff)
    assert rep.min_abs_change == pytest.approx(np.abs(diff).sum(), rel=1e-5)
    assert rep.write_inefficiency == pytest.approx(rep.writes / rep.min_writes)
    assert rep.change_inefficiency == pytest.approx(rep.abs_change / rep.min_abs_change)
    assert rep.synapses_grown == W.counters["grown"] > 0
    assert rep.synapses_pruned == W.counters["pruned"] > 0
    assert rep.ops_per_prediction == W.nnz
    per_syn = (
        DEFAULT_COST_TABLE["add"]
        + DEFAULT_COST_TABLE["mult"]
        + 2 * DEFAULT_COST_TABLE["sram_read_32bit"]
    )
    assert rep.joules_per_prediction == pytest.approx(W.nnz * per_syn)
    d2 = rep.to_dict()
    assert d2["write_inefficiency"] == rep.write_inefficiency
    assert "synaptic writes (M0)" in str(rep)


def test_cost_table_override_and_binary_ops():
    ops = synaptic_ops(100, binary=True)
    assert ops == {"mult": 0.0, "add": 100.0, "sram_read_32bit": 100.0}
    rep = EnergyReport(
        prediction_ops=ops, cost_table={"add": 1.0, "mult": 1.0, "sram_read_32bit": 0.0}
    )
    assert rep.joules_per_prediction == 100.0
    with pytest.raises(KeyError, match="cost_table"):
        _ = EnergyReport(prediction_ops={"fancy": 1}).joules_per_prediction


def test_inefficiency_edge_cases():
    assert EnergyReport().write_inefficiency == 1.0
    assert math.isinf(EnergyReport(writes=3).write_inefficiency)


def test_capacity_report():
    rep = CapacityReport(n_synapses=50, n_potential=200, memory_bytes=400, stored_bits=25.0)
    assert rep.bits_per_synapse == 0.125
    assert rep.bits_per_nonsilent_synapse == 0.5
    assert rep.density == 0.25 and rep.bytes_per_synapse == 8
    assert rep.to_dict()["bits_per_nonsilent_synapse"] == 0.5
    assert "bits per synapse" in str(rep)
    empty = CapacityReport()
    assert empty.bits_per_synapse is None and empty.bits_per_nonsilent_synapse is None
    assert synaplast.CapacityReport is CapacityReport
