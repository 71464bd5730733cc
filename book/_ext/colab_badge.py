"""Serve the "Open in Colab" badge from the book itself, so that a page loads nothing from
elsewhere (a classroom without a network, the offline browser test).

The notebooks keep the badge's public address, which GitHub and Colab show; in the built book
every image with that address points at the book's own copy, ``colab-badge.svg`` (drawn for
this book)."""
from pathlib import Path

from docutils import nodes
from sphinx.util.osutil import relative_uri

PUBLIC = "https://colab.research.google.com/assets/colab-badge.svg"
LOCAL = Path(__file__).with_name("colab-badge.svg")


def _add_static(app, config):
    config.html_static_path.append(str(LOCAL))  # copied to _static/ of the build


def _point_at_local_copy(app, doctree, docname):
    here = app.builder.get_target_uri(docname)
    for image in doctree.findall(nodes.image):
        if image["uri"] == PUBLIC:
            image["uri"] = relative_uri(here, f"_static/{LOCAL.name}")


def setup(app):
    app.connect("config-inited", _add_static)
    app.connect("doctree-resolved", _point_at_local_copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
