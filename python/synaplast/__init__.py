"""synaplast: biologically inspired, energy-aware learning with a Rust core.

Sparse synapses with structural plasticity (:class:`SynapseMatrix`), energy
and capacity reports (:class:`EnergyReport`, :class:`CapacityReport`) and
scikit-learn estimators built on them.
"""

from synaplast import analysis, datasets, encoding, info, memory
from synaplast._core import __version__
from synaplast._threads import get_num_threads, set_num_threads, threads
from synaplast.associative import AssociativeMemory
from synaplast.competitive import CompetitivePlasticityClassifier, frugal_preprocess
from synaplast.energy import DEFAULT_COST_TABLE, CapacityReport, EnergyReport
from synaplast.eprop import EPropClassifier, EPropRegressor
from synaplast.structural import StructuralPlasticityClassifier
from synaplast.synapses import SynapseMatrix, kwta

__all__ = [
    "AssociativeMemory",
    "CompetitivePlasticityClassifier",
    "DEFAULT_COST_TABLE",
    "CapacityReport",
    "EPropClassifier",
    "EPropRegressor",
    "EnergyReport",
    "StructuralPlasticityClassifier",
    "SynapseMatrix",
    "__version__",
    "analysis",
    "datasets",
    "encoding",
    "frugal_preprocess",
    "get_num_threads",
    "info",
    "kwta",
    "memory",
    "set_num_threads",
    "threads",
]
