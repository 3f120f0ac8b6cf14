"""Sphinx configuration: builds the Markdown pages of docs/ into HTML (``pip install -e '.[docs]'``).

    sphinx-build -b html docs docs/_build/html
"""

project = "hunt-clusters"
extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "alabaster"
