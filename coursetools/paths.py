"""Where the course's files live, for every tool: one definition, built on ``helpers.ROOT``.

The tools work on a checkout of the course (they rewrite notebooks, README.md, pyproject.toml), and
``helpers.ROOT`` already is that checkout's root: the notebooks need it for ``outputs/``. Deriving
the root again from this file would be a second definition of the same fact, and the two packages
always sit side by side in one checkout (one distribution installs both), so the tools take it
from ``helpers``. ``import helpers`` is cheap (it loads neither TensorFlow nor NumPy).
"""

from __future__ import annotations

from helpers import ROOT

NOTEBOOK_DIR = ROOT / "notebooks"
README = ROOT / "README.md"
ZH_NOTEBOOK_DIR = ROOT / "notebooks_zh"  # the Chinese edition (coursetools translate)
ZH_README = ROOT / "README.zh-CN.md"
PYPROJECT = ROOT / "pyproject.toml"
REQUIREMENTS = ROOT / "requirements.txt"
RESULTS_DIR = ROOT / "benchmarks" / "results"
VERSIONS_MODULE = ROOT / "helpers" / "versions.py"

__all__ = ["NOTEBOOK_DIR", "PYPROJECT", "README", "REQUIREMENTS", "RESULTS_DIR", "ROOT", "VERSIONS_MODULE",
           "ZH_NOTEBOOK_DIR", "ZH_README"]
