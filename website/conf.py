"""Sphinx settings of the course website (``make site``; website/build.py stages the sources).

Offline by design: the notebooks are never executed here (their committed outputs are what the strict
suite checks), no widget manager or require.js is loaded from a CDN, and the theme's assets are served
from the site itself (tests/test_site.py proves that no request leaves the local server).
"""
project = "PyTorch and TensorFlow, side by side"
html_title = project            # else the theme appends "documentation"
author = "the course's authors"
copyright = "the course's authors"

extensions = ["myst_nb"]
# The committed, executed notebooks as they are: what `make test` compares, never re-run for the site.
nb_execution_mode = "off"
# No require.js / @jupyter-widgets from a CDN: widget outputs (tqdm) show their text form.
nb_ipywidgets_js = {}
nb_merge_streams = True
myst_enable_extensions = ["colon_fence"]
# Anchors for every heading, so claims.md (and readers) can link to a lesson's section.
myst_heading_anchors = 6
# lessons start at "#", sections may skip a level; a traceback the IPython lexer cannot colour is shown plain
suppress_warnings = ["myst.header", "misc.highlighting_failure"]

exclude_patterns = ["downloads/**"]   # the notebooks offered for download are not pages themselves
templates_path = []
html_static_path = ["static"]
html_css_files = ["site.css"]

html_theme = "sphinx_book_theme"
html_theme_options = {
    "show_navbar_depth": 1,
    "home_page_in_toc": True,
    "use_download_button": False,     # the page's own stamp links the notebook and the learner copy
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "navigation_with_keys": False,
}
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
