"""The setup cell shared by every notebook, kept here in one place.

`python -m helpers.setup_cell` writes it into every notebook under notebooks/; `--check` only
reports notebooks whose copy differs (the test suite runs the same check).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
# The public repository the course is served from: the Colab badges and the setup cell use it.
GITHUB_REPO = "model-optimization-in-practice/course"
REPO_URL = f"https://github.com/{GITHUB_REPO}.git"
MARKER = "# Setup cell (the same in every notebook"

SETUP_CELL = f'''{MARKER}; edit helpers/setup_cell.py, not this copy).
# On Google Colab it installs what Colab lacks and fetches the course; elsewhere it does nothing.
import importlib.metadata, importlib.util, os, subprocess, sys

if "google.colab" in sys.modules:
    COURSE_REPO = os.environ.get("COURSE_REPO", "{REPO_URL}")
    COURSE_DIR = os.path.abspath("model-optimization-course")
    if not os.path.isdir(os.path.join(COURSE_DIR, "helpers")):
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", COURSE_REPO, COURSE_DIR], check=True)
    tf_version = importlib.metadata.version("tensorflow")  # keep Colab's TensorFlow as it is
    tf_minor = ".".join(tf_version.split(".")[:2])
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", f"tf-keras~={{tf_minor}}.0",
                    "tensorflow-model-optimization==0.8.1", "ai-edge-litert"], check=True,
                   env={{**os.environ, "PIP_ROOT_USER_ACTION": "ignore"}})  # Colab runs as root
    if COURSE_DIR not in sys.path:
        sys.path.insert(0, COURSE_DIR)
elif importlib.util.find_spec("helpers") is None:  # a local copy that was not pip-installed
    sys.path.insert(0, os.path.abspath(".."))'''


def colab_badge(notebook_name: str) -> str:
    """Markdown for the 'Open in Colab' badge of a notebook in notebooks/."""
    url = f"https://colab.research.google.com/github/{GITHUB_REPO}/blob/main/notebooks/{notebook_name}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def setup_cell_index(notebook) -> int:
    """Index of the notebook's setup cell; ValueError if it has none."""
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and cell.source.startswith(MARKER):
            return i
    raise ValueError("no setup cell (a code cell starting with the setup marker)")


def sync(notebook_dir: Path = NOTEBOOK_DIR, check_only: bool = False) -> list[Path]:
    """Rewrite every notebook's setup cell from SETUP_CELL; return the notebooks that differed."""
    differing = []
    for path in sorted(Path(notebook_dir).glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        try:
            index = setup_cell_index(notebook)
        except ValueError as error:
            raise ValueError(f"{path.name}: {error}") from None
        if notebook.cells[index].source != SETUP_CELL:
            differing.append(path)
            if not check_only:
                notebook.cells[index].source = SETUP_CELL
                nbformat.write(notebook, path)
    return differing


def main(argv: list[str] | None = None) -> int:
    """Command line: sync the setup cell into every notebook, or --check that all copies match."""
    parser = argparse.ArgumentParser(prog="python -m helpers.setup_cell", description=__doc__)
    parser.add_argument("--check", action="store_true", help="report differences, change nothing")
    args = parser.parse_args(argv)
    differing = sync(check_only=args.check)
    for path in differing:
        print(f"{'differs' if args.check else 'updated'}: {path.relative_to(ROOT)}")
    if not differing:
        print("every notebook's setup cell matches helpers/setup_cell.py")
    return 1 if args.check and differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
