"""The type stubs in ``_core.pyi`` cover every public name of the binding."""

import ast
from pathlib import Path

import synaplast
from synaplast import _core


def _stub_names():
    tree = ast.parse((Path(synaplast.__file__).parent / "_core.pyi").read_text())
    names = {"<module>": set()}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
        elif isinstance(node, ast.FunctionDef):
            names["<module>"].add(node.name)
    return names


def test_every_public_binding_name_has_a_stub():
    stubs = _stub_names()
    missing = []
    for name in dir(_core):
        obj = getattr(_core, name)
        if name.startswith("_"):
            continue
        if isinstance(obj, type):
            public = {a for a in dir(obj) if not a.startswith("_")}
            missing += [f"{name}.{a}" for a in sorted(public - stubs.get(name, set()))]
        elif callable(obj) and name not in stubs["<module>"]:
            missing.append(name)
    assert not missing, f"missing from _core.pyi: {missing}"
