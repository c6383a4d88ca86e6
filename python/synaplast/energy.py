"""Energy and capacity reports shared by every estimator.

The energy of learning follows van Rossum & Pache (2024): synaptic writes
(``M0``) and the summed absolute weight change ``Σ|Δw|`` (``M1``), each next to
its minimum (the synapses whose final weight differs from the initial one,
and ``Σ|w_final − w_init|``). The counters are advanced inside the Rust
kernels; these classes only present them.

The energy of one prediction is estimated from counted operations and a
per-operation cost table. The default table holds 45 nm CMOS figures
(Horowitz, ISSCC 2014): fp32 add 0.9 pJ, fp32 multiply 3.7 pJ, 32-bit SRAM
read 5 pJ. Override it per report (``cost_table=``) or globally by editing a
copy of :data:`DEFAULT_COST_TABLE`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

__all__ = ["DEFAULT_COST_TABLE", "CapacityReport", "EnergyReport", "synaptic_ops"]

#: Joules per operation (45 nm, Horowitz 2014).
DEFAULT_COST_TABLE: dict[str, float] = {
    "add": 0.9e-12,
    "mult": 3.7e-12,
    "sram_read_32bit": 5.0e-12,
}


def synaptic_ops(n_synapses: float, *, binary: bool = False, sparse: bool = True) -> dict:
    """Operations of one pass through ``n_synapses`` synapses.

    A weighted synapse costs a multiply, an add and a weight read; a sparse
    store also reads the presynaptic index (one 32-bit read). Binary synapses
    need no multiply and no weight (only the index read and an add).
    """
    n = float(n_synapses)
    reads = (0.0 if binary else n) + (n if sparse else 0.0)
    return {"mult": 0.0 if binary else n, "add": n, "sram_read_32bit": reads}


def _ratio(num: float, den: float) -> float:
    if den == 0:
        return 1.0 if num == 0 else math.inf
    return num / den


def _fmt(v) -> str:
    if isinstance(v, float):
        if v == 0 or math.isinf(v) or math.isnan(v):
            return str(v)
        return f"{v:.4g}"
    return str(v)


@dataclass
class EnergyReport:
    """What learning cost and what a prediction costs.

    Parameters
    ----------
    writes : int
        Synaptic writes with a non-zero change (``M0``).
    abs_change : float
        ``Σ|Δw|`` over all writes (``M1``).
    min_writes : int
        Synapses whose final weight differs from the initial one (``M0_min``).
    min_abs_change : float
        ``Σ|w_final − w_init|`` (``M1_min``).
    synapses_grown, synapses_pruned : int
        Structural plasticity events.
    ops_per_prediction : float
        Synaptic operations (one per synapse read) for one prediction.
    prediction_ops : dict
        Primitive operations per prediction by kind (keys of ``cost_table``).
    cost_table : dict
        Joules per primitive operation.
    details : dict
        Rule-specific extras (per-layer counters, consolidation energy, ...).
    """

    writes: int = 0
    abs_change: float = 0.0
    min_writes: int = 0
    min_abs_change: float = 0.0
    synapses_grown: int = 0
    synapses_pruned: int = 0
    ops_per_prediction: float = 0.0
    prediction_ops: dict = field(default_factory=dict)
    cost_table: dict = field(default_factory=lambda: dict(DEFAULT_COST_TABLE))
    details: dict = field(default_factory=dict)

    @property
    def write_inefficiency(self) -> float:
        """``writes / min_writes`` (1 is optimal)."""
        return _ratio(self.writes, self.min_writes)

    @property
    def change_inefficiency(self) -> float:
        """``abs_change / min_abs_change`` (1 is optimal)."""
        return _ratio(self.abs_change, self.min_abs_change)

    @property
    def joules_per_prediction(self) -> float:
        """Estimated energy of one prediction from ``prediction_ops`` and ``cost_table``."""
        missing = set(self.prediction_ops) - set(self.cost_table)
        if missing:
            raise KeyError(f"cost_table has no entry for {sorted(missing)}")
        return float(sum(n * self.cost_table[k] for k, n in self.prediction_ops.items()))

    @classmethod
    def from_synapses(cls, pairs, *, prediction_ops=None, cost_table=None, details=None):
        """Sum the counters of ``(final, initial)`` :class:`SynapseMatrix` pairs."""
        rep = cls(details=dict(details or {}))
        if cost_table is not None:
            rep.cost_table = dict(cost_table)
        for final, initial in pairs:
            c = final.counters
            rep.writes += c["writes"]
            rep.abs_change += c["abs_change"]
            rep.synapses_grown += c["grown"]
            rep.synapses_pruned += c["pruned"]
            w, a = final.minimal_energy_from(initial)
            rep.min_writes += w
            rep.min_abs_change += a
        if prediction_ops is not None:
            rep.prediction_ops = dict(prediction_ops)
            rep.ops_per_prediction = float(prediction_ops.get("add", 0.0))
        return rep

    def to_dict(self) -> dict:
        """The report as a plain dict (for JSON and tables).

        Returns
        -------
        report : dict
            Every field, and the derived energy figures.
        """
        d = asdict(self)
        d["write_inefficiency"] = self.write_inefficiency
        d["change_inefficiency"] = self.change_inefficiency
        d["joules_per_prediction"] = self.joules_per_prediction
        return d

    def __str__(self) -> str:
        rows = [
            ("synaptic writes (M0)", self.writes),
            ("  minimum (M0_min)", self.min_writes),
            ("  inefficiency M0/M0_min", self.write_inefficiency),
            ("sum |dw| (M1)", self.abs_change),
            ("  minimum (M1_min)", self.min_abs_change),
            ("  inefficiency M1/M1_min", self.change_inefficiency),
            ("synapses grown / pruned", f"{self.synapses_grown} / {self.synapses_pruned}"),
            ("synaptic ops per prediction", self.ops_per_prediction),
            ("joules per prediction", self.joules_per_prediction),
        ]
        rows += [(f"{k}", v) for k, v in self.details.items() if not isinstance(v, dict | list)]
        return "EnergyReport\n" + "\n".join(f"  {k:<30} {_fmt(v)}" for k, v in rows)


@dataclass
class CapacityReport:
    """How much a network stores and in how many synapses.

    Parameters
    ----------
    n_synapses : int
        Non-silent synapses that exist.
    n_potential : int
        Synapses a dense network of the same shape would have.
    memory_bytes : int
        Bytes the synapse store actually holds.
    stored_bits : float or None
        Stored information, when the estimator defines it.
    details : dict
        Estimator-specific measures (e.g. ``p1``, ``C_I``).
    """

    n_synapses: int = 0
    n_potential: int = 0
    memory_bytes: int = 0
    stored_bits: float | None = None
    details: dict = field(default_factory=dict)

    @property
    def density(self) -> float:
        return _ratio(self.n_synapses, self.n_potential) if self.n_potential else 0.0

    @property
    def bits_per_synapse(self) -> float | None:
        """Stored bits per potential synapse (``C``)."""
        if self.stored_bits is None or self.n_potential == 0:
            return None
        return self.stored_bits / self.n_potential

    @property
    def bits_per_nonsilent_synapse(self) -> float | None:
        """Stored bits per existing synapse (``C^S``)."""
        if self.stored_bits is None or self.n_synapses == 0:
            return None
        return self.stored_bits / self.n_synapses

    @property
    def bytes_per_synapse(self) -> float | None:
        return self.memory_bytes / self.n_synapses if self.n_synapses else None

    def to_dict(self) -> dict:
        """The report as a plain dict (for JSON and tables).

        Returns
        -------
        report : dict
            Every field, and the derived capacity figures.
        """
        d = asdict(self)
        d["density"] = self.density
        d["bits_per_synapse"] = self.bits_per_synapse
        d["bits_per_nonsilent_synapse"] = self.bits_per_nonsilent_synapse
        d["bytes_per_synapse"] = self.bytes_per_synapse
        return d

    def __str__(self) -> str:
        rows = [
            ("non-silent synapses", self.n_synapses),
            ("potential synapses", self.n_potential),
            ("density", self.density),
            ("memory bytes", self.memory_bytes),
            ("bytes per synapse", self.bytes_per_synapse),
            ("stored bits", self.stored_bits),
            ("bits per synapse (C)", self.bits_per_synapse),
            ("bits per non-silent synapse", self.bits_per_nonsilent_synapse),
        ]
        rows += [(k, v) for k, v in self.details.items() if not isinstance(v, dict | list)]
        return "CapacityReport\n" + "\n".join(f"  {k:<30} {_fmt(v)}" for k, v in rows)
