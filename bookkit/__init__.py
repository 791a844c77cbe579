"""The book's tooling, beside the library: papermill execution with a hash cache, staging and
building the HTML with jupyter-book 1, the scoreboard, the PDF, and the headless-browser check.
The CLI is `dcca-book` (or `python -m bookkit`). A reader who installs `dcca_core` gets none of it.

Nothing here imports from the top-level `book/` folder or from any notebook; paths come in through
a `BookLayout`, so tests can run the machinery on tiny books in temporary folders.
"""

from .layout import BookLayout, TocEntry, read_toc
from .notebooks import declared_parameters, load_params_file, parse_override, resolve_parameters

__all__ = [
    "BookLayout",
    "TocEntry",
    "read_toc",
    "declared_parameters",
    "load_params_file",
    "parse_override",
    "resolve_parameters",
]
