"""Sphinx configuration of servicekit's documentation site (furo theme, MyST Markdown).

Build it as CI does, with every warning an error and every reference checked:
``sphinx-build -W --keep-going -n -b html docs docs/_build/html``.
"""

from __future__ import annotations

import re
from importlib.metadata import version as _version
from typing import Any

from sphinx.application import Sphinx

project = "servicekit"
author = "The servicekit developers"
copyright = "the servicekit developers"  # noqa: A001 - the name Sphinx reads
release = _version("servicekit")
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # the docstrings are Google style
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
root_doc = "index"

myst_heading_anchors = 3  # links such as desk.md#retries-are-safe
myst_enable_extensions = ["colon_fence", "deflist"]

html_theme = "furo"
html_title = f"servicekit {release}"

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
python_use_unqualified_type_names = True
add_module_names = False  # "ServiceDesk", not "servicekit.desk.ServiceDesk"
default_role = "code"  # docstrings quote names in single backticks, as Markdown does

_PLURAL = re.compile(r"`(\w+)`s\b")
_INLINE_TYPE = re.compile(r"^[^`:]+:\s")
_PARSED = {"module", "class", "exception", "function", "method", "classmethod", "staticmethod"}
"""What napoleon reads as sections; the rest (attributes, data, properties) may look typed."""

# -n checks every reference. The standard library's and third-party names cannot be
# linked without intersphinx, which needs the network: those are left unlinked.
# servicekit's own names are never ignored, so a broken one fails the build.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(?!servicekit\b)[\w.]+"),
    # names in private modules (servicekit.metrics._report.Cell) are not documented, by design
    (r"py:.*", r"servicekit(\.\w+)*\._\w+(\.\w+)*"),
    (r"py:.*", r"(Any|Self|TypeAlias|Callable|Iterable|Iterator|Mapping|Sequence)"),
]


def _plain_docstring(
    _app: Sphinx, what: str, _name: str, _obj: object, _options: object, lines: list[str]
) -> None:
    """Read the docstrings as written, before napoleon parses them.

    "`Target`s" is a plural, not broken markup; and an attribute documented as
    "Who acts: an Agent, ..." is a sentence, not napoleon's "type: description"
    (an empty comment as the first line tells napoleon there is no inline type).
    """
    lines[:] = [_PLURAL.sub(r"`\1`\\ s", line) for line in lines]
    if what not in _PARSED and lines and _INLINE_TYPE.match(lines[0]):
        lines[:0] = ["..", ""]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the docstring reader, before napoleon's."""
    app.connect("autodoc-process-docstring", _plain_docstring, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
