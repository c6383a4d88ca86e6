"""sphinx-gallery scraper for the figures of ``synaplast.plotting``."""


def scrape(block, block_vars, gallery_conf):
    """Save the Matplotlib figures an example block bound to names.

    ``synaplast.plotting`` builds figures with the object-oriented API, which
    pyplot (and so sphinx-gallery's default scraper) never sees.
    """
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    seen = block_vars.setdefault("_synaplast_saved", set())
    paths = []
    for value in list(block_vars["example_globals"].values()):
        if isinstance(value, Figure) and id(value) not in seen:
            seen.add(id(value))
            path = next(block_vars["image_path_iterator"])
            value.savefig(path, dpi=90)
            paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])
