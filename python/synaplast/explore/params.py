"""Parameter classes of the screens: typed, bounded, documented, saved as JSON.

IVISIT declares each parameter twice (a class attribute and a
``#@IVISIT:SLIDER`` comment). Here a parameter is declared once, as a
:mod:`param` parameter; Panel turns it into a widget, and the run store saves
it as JSON (without param's automatic ``name``).

Each screen subclasses :class:`ModelParams`, declares its parameters and
maps them to the estimator in one method (``estimator_params``): the only
place that knows the estimator's parameter names, so a change there is a
change in one place.
"""

from __future__ import annotations

import json
from typing import ClassVar

import param

__all__ = ["ModelParams"]


class ModelParams(param.Parameterized):
    """Base of the screens' parameters: the seed, JSON round trips, validation."""

    #: Name of the model in the run store (one per screen).
    model: ClassVar[str] = ""

    seed = param.Integer(0, bounds=(0, 2**31 - 1), doc="random_state of the run (reproducible)")

    def names(self) -> list[str]:
        """The saved parameters (every parameter but param's ``name``)."""
        return [k for k in self.param if k != "name"]

    def to_dict(self) -> dict:
        """Plain values, through param's own JSON serialisation."""
        return json.loads(self.param.serialize_parameters(subset=self.names()))

    def from_dict(self, values: dict) -> list[str]:
        """Apply saved values; all or nothing.

        Unknown keys (a set saved by another version) are ignored and
        returned; a value out of bounds or of the wrong type raises
        ``ValueError`` naming the parameter, and nothing changes.
        """
        known = set(self.names())
        ignored = sorted(k for k in values if k not in known)
        raw = json.dumps({k: v for k, v in values.items() if k in known})
        try:
            clean = self.param.deserialize_parameters(raw)
            trial = type(self)(**{k: getattr(self, k) for k in self.names()})
            trial.param.update(**clean)
        except Exception as exc:  # param raises ValueError/TypeError with the name
            raise ValueError(f"cannot load these parameters: {exc}") from None
        self.param.update(**clean)
        return ignored

    def estimator_params(self) -> dict:
        """Keyword arguments for the estimator (overridden by each screen)."""
        raise NotImplementedError
