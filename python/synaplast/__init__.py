"""synaplast: biologically inspired, energy-aware learning with a Rust core.

Sparse synapses with structural plasticity (:class:`SynapseMatrix`), energy
and capacity reports (:class:`EnergyReport`, :class:`CapacityReport`) and
scikit-learn estimators built on them.
"""

from synaplast import datasets
from synaplast._core import __version__
from synaplast._threads import get_num_threads, set_num_threads, threads
from synaplast.energy import DEFAULT_COST_TABLE, CapacityReport, EnergyReport
from synaplast.eprop import EPropClassifier, EPropRegressor
from synaplast.synapses import SynapseMatrix, kwta

__all__ = [
    "DEFAULT_COST_TABLE",
    "CapacityReport",
    "EPropClassifier",
    "EPropRegressor",
    "EnergyReport",
    "SynapseMatrix",
    "__version__",
    "datasets",
    "get_num_threads",
    "kwta",
    "set_num_threads",
    "threads",
]
