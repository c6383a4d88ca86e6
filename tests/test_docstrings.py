"""Every public estimator and report has a complete numpydoc docstring, and
``_core.pyi`` matches the compiled module (``mypy.stubtest``, run by ``make test``)."""

import inspect

import pytest

import synaplast

numpydoc_validate = pytest.importorskip("numpydoc.validate")

ESTIMATORS = [
    "AssociativeMemory",
    "CompetitivePlasticityClassifier",
    "EPropClassifier",
    "EPropRegressor",
    "StructuralPlasticityClassifier",
    "EnergyReport",
    "CapacityReport",
    "SynapseMatrix",
    "encoding.OnOffEncoder",
]
FUNCTIONS = ["frugal_preprocess", "get_num_threads", "kwta", "set_num_threads", "threads"]
# no docstring, undocumented or unknown parameters, parameters or returns
# without description, no Returns section, no summary
CHECKS = {"GL08", "PR01", "PR02", "PR07", "RT01", "RT03", "SS01"}


def _public_methods(cls):
    names = []
    for klass in cls.__mro__:
        if not klass.__module__.startswith("synaplast"):
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") and inspect.isfunction(value) and name not in names:
                names.append(name)
    return names


@pytest.mark.parametrize("name", ESTIMATORS)
def test_public_docstrings_are_complete(name):
    cls = synaplast
    for part in name.split("."):
        cls = getattr(cls, part)
    targets = [f"synaplast.{name}"] + [f"synaplast.{name}.{m}" for m in _public_methods(cls)]
    problems = [
        f"{t}: {code} {msg}"
        for t in targets
        for code, msg in numpydoc_validate.validate(t)["errors"]
        if code in CHECKS
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_public_function_docstrings_are_complete(name):
    errors = numpydoc_validate.validate(f"synaplast.{name}")["errors"]
    problems = [f"{code} {msg}" for code, msg in errors if code in CHECKS]
    assert not problems, "\n".join(problems)
