"""Sphinx configuration of the synaplast documentation (``make docs``)."""

import os
import sys
import warnings

import synaplast

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "sphinxext"))

project = "synaplast"
author = "synaplast developers"
copyright = "2026, synaplast developers"
release = synaplast.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax shipped with the site: equations render offline
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "**/*.zip"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# The documentation builds offline: no intersphinx inventories are fetched.
intersphinx_mapping: dict = {}

html_theme = "pydata_sphinx_theme"
html_title = f"synaplast {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_static_path: list = []

# SYNAPLAST_DOCS_QUICK=1 builds without running the gallery examples (make test).
quick = os.environ.get("SYNAPLAST_DOCS_QUICK") == "1"
sphinx_gallery_conf = {
    "image_scrapers": ("figure_scraper.scrape",),
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": "False" if quick else "True",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
}

# Matplotlib is headless while the gallery runs.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document only what synaplast defines (not scikit-learn's metadata-routing setters)."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
