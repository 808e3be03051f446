# Sphinx configuration of the mtif documentation site (scripts/docs.sh builds it).
#
# Everything generated comes from the built program and the benchmark results, so
# the pages cannot drift from them: before the pages are read, the CLI reference is
# written from each subcommand's --help and the plots are drawn from
# bench/results/*.json, both into docs/_generated/ (ignored by git). The Python API
# page documents the built module, found through MTIF_PYTHON_PATH.
#
# Environment: MTIF_BIN (default ../build/mtif), MTIF_PYTHON_PATH (default ../build/python).
import os
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
GENERATED = DOCS / "_generated"
MTIF_BIN = Path(os.environ.get("MTIF_BIN", ROOT / "build" / "mtif"))
PYTHON_PATH = Path(os.environ.get("MTIF_PYTHON_PATH", ROOT / "build" / "python"))

sys.path.insert(0, str(PYTHON_PATH))
sys.path.insert(0, str(DOCS / "tools"))
import cli_reference  # noqa: E402  (docs/tools)

sys.path.insert(0, str(ROOT / "bench"))
import plot_results  # noqa: E402  (bench/plot_results.py)

GENERATED.mkdir(exist_ok=True)
cli_reference.write(MTIF_BIN, GENERATED / "cli_reference.md")
plot_results.draw_all(ROOT / "bench" / "results", GENERATED / "plots")

project = "mtif"
author = "the mtif authors"
copyright = "2026, the mtif authors"
version = release = "0.1.0"

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
napoleon_numpy_docstring = True
napoleon_use_ivar = True  # attributes as a field list, not as duplicate entries beside :members:
source_suffix = {".md": "markdown"}
master_doc = "index"
exclude_patterns = ["_build", "_generated", "tools", "README.md"]

# Every reference must resolve (with -n -W a broken link or anchor fails the build).
nitpicky = True
# Type names in docstrings ("array_like, shape (n, d)", "{'tasks', 'rows'}", numpy.ndarray) are
# prose, not references; every other reference (documents, anchors, :meth:, :func:) is checked.
nitpick_ignore_regex = [("py:class", r".*")]
# Headings up to level 4 get anchors, so [text](page.md#a-heading) links are checked too.
myst_heading_anchors = 4
# Pages written by others under results/ may skip a heading level; that is not worth failing on.
suppress_warnings = ["myst.header"]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"

# alabaster (Sphinx's own theme): Debian's furo loads normalize.css from /javascript/ and an
# unbundled ES module, so it does not render from disk; the docs test caught it.
html_theme = "alabaster"
html_theme_options = {"description": "multitask influence functions", "fixed_sidebar": True, "page_width": "1100px"}
html_title = "mtif"
html_static_path = []
pygments_style = "sphinx"
