"""The setup cell shared by every notebook, and the repository the Colab badges point at.

`coursetools setup-cell` writes the setup cell and the Colab badge into every notebook under
notebooks/ (and notebooks_zh/, whose badges open the Chinese notebooks) and the badges into README.md
(and README.zh-CN.md); `--check` only reports what differs (the test suite runs
the same check). A fork runs `coursetools setup-cell --repo OWNER/NAME` once: it records the new
repository in pyproject.toml (`[tool.coursetools] github-repo`) and rewrites every setup cell,
badge and link to the old one.
"""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

import nbformat

from coursetools.cli import UsageError
from coursetools.paths import NOTEBOOK_DIR, PYPROJECT, README, ROOT, ZH_NOTEBOOK_DIR, ZH_README
from helpers.versions import TESTED

REPO_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*"
REPO_LINE = re.compile(r'^github-repo = "(.*)"$', re.MULTILINE)  # in [tool.coursetools]
MARKER = "# Setup cell (the same in every notebook"
# What the setup cell installs on Colab beside Colab's own TensorFlow (and a tf-keras that matches
# it): the tested versions, from helpers.versions.TESTED, which `coursetools pins` generates from
# requirements.txt. Keras may be newer than the tested one: Colab's TensorFlow may need it.
COLAB_SPECIFIERS = {"tensorflow-model-optimization": "==", "ai-edge-litert": "==",
                    "ai-edge-quantizer": "==", "optuna": "==", "keras": ">=", "tflite-micro": "=="}


def recorded_repo(pyproject: Path = PYPROJECT) -> str:
    """The GitHub repository recorded in pyproject.toml's `[tool.coursetools] github-repo`."""
    try:
        table = tomllib.loads(Path(pyproject).read_text(encoding="utf-8"))["tool"]["coursetools"]
        return validate_repo(table["github-repo"])
    except (OSError, KeyError) as error:
        raise ValueError(f"{pyproject} must record the course's repository as github-repo = "
                         f'"OWNER/NAME" under [tool.coursetools] ({error!r})') from None


def colab_packages(tested: dict[str, str] = TESTED) -> list[str]:
    """The requirement strings the setup cell installs on Colab, from the tested versions."""
    return [f"{name}{operator}{tested[name]}" for name, operator in COLAB_SPECIFIERS.items()]


def validate_repo(repo: str) -> str:
    """Return `repo` if it is a GitHub OWNER/NAME; ValueError otherwise."""
    if not isinstance(repo, str) or not re.fullmatch(REPO_PATTERN, repo) or repo.endswith(".git"):
        raise ValueError(f"repo must be a GitHub repository as OWNER/NAME (e.g. 'someone/course'), "
                         f"got {repo!r}")
    return repo


# The public repository the course is served from: the Colab badges and the setup cell use it.
# Change it with `coursetools setup-cell --repo OWNER/NAME`, which rewrites pyproject.toml's line.
GITHUB_REPO = recorded_repo()
COLAB_PACKAGES = colab_packages()


def repo_url(repo: str = GITHUB_REPO) -> str:
    """The https clone URL of a GitHub repository named OWNER/NAME."""
    return f"https://github.com/{validate_repo(repo)}.git"


def setup_cell_source(repo: str = GITHUB_REPO) -> str:
    """The text of the shared setup cell for a course served from `repo`."""
    packages = ",\n                    ".join(
        ", ".join(f'"{p}"' for p in COLAB_PACKAGES[i:i + 3]) for i in range(0, len(COLAB_PACKAGES), 3))
    return f'''{MARKER}; edit coursetools/setup_cell.py, not this copy).
# On Google Colab it installs what Colab lacks and fetches the course; elsewhere it does nothing.
import importlib.metadata
import importlib.util
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    COURSE_REPO = os.environ.get("COURSE_REPO", "{repo_url(repo)}")
    COURSE_DIR = os.path.abspath("model-optimization-course")
    if not os.path.isdir(os.path.join(COURSE_DIR, "helpers")):
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", COURSE_REPO, COURSE_DIR], check=True)
    tf_version = importlib.metadata.version("tensorflow")  # keep Colab's TensorFlow as it is
    tf_minor = ".".join(tf_version.split(".")[:2])
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", f"tf-keras~={{tf_minor}}.0",
                    {packages}], check=True,
                   env={{**os.environ, "PIP_ROOT_USER_ACTION": "ignore"}})  # Colab runs as root
    if COURSE_DIR not in sys.path:
        sys.path.insert(0, COURSE_DIR)
elif importlib.util.find_spec("helpers") is None:  # a local copy that was not pip-installed
    sys.path.insert(0, os.path.abspath(".."))'''


SETUP_CELL = setup_cell_source()
REPO_URL = repo_url()
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
COLAB_URL = re.compile(r"https://colab\.research\.google\.com/github/(" + REPO_PATTERN
                       + r")/blob/main/([\w./-]+\.ipynb)")


def colab_badge(notebook_name: str, repo: str = GITHUB_REPO, folder: str = "notebooks") -> str:
    """Markdown for the 'Open in Colab' badge of `folder/notebook_name` in `repo`."""
    url = f"https://colab.research.google.com/github/{validate_repo(repo)}/blob/main/{folder}/{notebook_name}"
    return f"[![Open In Colab]({BADGE_IMAGE})]({url})"


def point_badges(text: str, repo: str, path: str | None = None) -> str:
    """Rewrite every Colab link in `text` to open `repo` (and the notebook at `path`, when given)."""
    def fix(match: re.Match) -> str:
        return f"https://colab.research.google.com/github/{repo}/blob/main/{path or match.group(2)}"

    return COLAB_URL.sub(fix, text)


def setup_cell_index(notebook) -> int:
    """Index of the notebook's setup cell; ValueError if it has none."""
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and cell.source.startswith(MARKER):
            return i
    raise ValueError("no setup cell (a code cell starting with the setup marker)")


def _replace_repo(text: str, old: str, new: str) -> str:
    """`text` with every link to the repository `old` (Colab or GitHub) pointing at `new`."""
    text = point_badges(text, new)
    return re.sub(r"github\.com/" + re.escape(old) + r"(?=[/.)\s\]\"'#]|$)", f"github.com/{new}", text)


def sync(notebook_dir: Path = NOTEBOOK_DIR, check_only: bool = False, repo: str = GITHUB_REPO,
         readme: Path | None = README) -> list[Path]:
    """Bring every notebook's setup cell and Colab badge, and README's badges, in line with `repo`;
    return the files that differed (changed unless `check_only`)."""
    validate_repo(repo)
    cell_source = setup_cell_source(repo)
    differing = []
    for path in sorted(Path(notebook_dir).glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        try:
            index = setup_cell_index(notebook)
        except ValueError as error:
            raise ValueError(f"{path.name}: {error}") from None
        changed = notebook.cells[index].source != cell_source
        notebook.cells[index].source = cell_source
        for number, cell in enumerate(notebook.cells):
            if cell.cell_type == "markdown":
                fixed = _replace_repo(cell.source, GITHUB_REPO, repo)
                if number == 0:  # the title's badge opens this very notebook
                    fixed = point_badges(fixed, repo, f"{Path(notebook_dir).name}/{path.name}")
                changed |= fixed != cell.source
                cell.source = fixed
        if changed:
            differing.append(path)
            if not check_only:
                nbformat.write(notebook, path)
    if readme is not None and Path(readme).is_file():
        text = Path(readme).read_text(encoding="utf-8")
        fixed = _replace_repo(text, GITHUB_REPO, repo)
        if fixed != text:
            differing.append(Path(readme))
            if not check_only:
                Path(readme).write_text(fixed, encoding="utf-8")
    return differing


def sync_editions(check_only: bool = False, repo: str = GITHUB_REPO) -> list[Path]:
    """`sync` for each edition present: notebooks/ with README.md, notebooks_zh/ with README.zh-CN.md."""
    differing = []
    for notebook_dir, readme in ((NOTEBOOK_DIR, README), (ZH_NOTEBOOK_DIR, ZH_README)):
        if Path(notebook_dir).is_dir():
            differing += sync(notebook_dir, check_only, repo, readme)
    return differing


def set_repo(repo: str, pyproject: Path = PYPROJECT) -> None:
    """Record `repo` in pyproject.toml's `[tool.coursetools] github-repo` line (the one place it is kept)."""
    validate_repo(repo)
    text = Path(pyproject).read_text(encoding="utf-8")
    new, count = REPO_LINE.subn(f'github-repo = "{repo}"', text)
    if count != 1:
        raise ValueError(f"{pyproject} must have exactly one github-repo line, found {count}")
    Path(pyproject).write_text(new, encoding="utf-8")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `coursetools setup-cell`."""
    parser.add_argument("--check", action="store_true", help="report differences, change nothing")
    parser.add_argument("--repo", metavar="OWNER/NAME",
                        help="serve the course from this GitHub repository (a fork)")


def run(args: argparse.Namespace) -> int:
    """Sync setup cells and badges, --check them, or --repo OWNER/NAME for a fork."""
    if args.check and args.repo:
        raise UsageError("--check and --repo do not go together: --check compares with the "
                         "repository recorded in pyproject.toml")
    repo = GITHUB_REPO
    if args.repo:
        try:
            repo = validate_repo(args.repo)
        except ValueError as error:
            raise UsageError(str(error)) from None
    differing = sync_editions(check_only=args.check, repo=repo)
    if args.repo and repo != GITHUB_REPO:
        set_repo(repo)
        print(f"recorded {repo} in pyproject.toml (was {GITHUB_REPO})")
    for path in differing:
        print(f"{'differs' if args.check else 'updated'}: {path.relative_to(ROOT)}")
    if not differing:
        print(f"every setup cell and Colab badge points at {repo}")
    return 1 if args.check and differing else 0
