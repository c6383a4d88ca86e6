"""The explorer's screens: one module per model, plus the runs table."""

from synaplast.explore.screens.competitive import CompetitiveScreen
from synaplast.explore.screens.eprop import EPropScreen
from synaplast.explore.screens.memory import MemoryScreen
from synaplast.explore.screens.runs import RunsScreen
from synaplast.explore.screens.structural import StructuralScreen

__all__ = ["CompetitiveScreen", "EPropScreen", "MemoryScreen", "RunsScreen", "StructuralScreen"]

#: Tab order of the application.
SCREENS = (
    ("Associative memory", MemoryScreen),
    ("Structural plasticity", StructuralScreen),
    ("Competitive plasticity", CompetitiveScreen),
    ("e-prop", EPropScreen),
    ("Runs", RunsScreen),
)
