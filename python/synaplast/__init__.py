"""synaplast: biologically inspired, energy-aware learning with a Rust core.

Sparse synapses with structural plasticity (:class:`SynapseMatrix`), energy
and capacity reports (:class:`EnergyReport`, :class:`CapacityReport`) and
scikit-learn estimators built on them.
"""

from synaplast import analysis as analysis
from synaplast import datasets
from synaplast import info as info
from synaplast._core import __version__
from synaplast._threads import get_num_threads, set_num_threads, threads
from synaplast.energy import DEFAULT_COST_TABLE, CapacityReport, EnergyReport
from synaplast.structural import StructuralPlasticityClassifier
from synaplast.synapses import SynapseMatrix, kwta

__all__ = [
    "DEFAULT_COST_TABLE",
    "CapacityReport",
    "EnergyReport",
    "StructuralPlasticityClassifier",
    "SynapseMatrix",
    "analysis",
    "__version__",
    "datasets",
    "get_num_threads",
    "info",
    "kwta",
    "set_num_threads",
    "threads",
]
