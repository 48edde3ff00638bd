"""The setup cell shared by every notebook, and the repository the Colab badges point at.

`python -m helpers.setup_cell` writes the setup cell and the Colab badge into every notebook under
notebooks/ and the badges into README.md; `--check` only reports what differs (the test suite runs
the same check). A fork runs `python -m helpers.setup_cell --repo OWNER/NAME` once: it records the
new repository below and rewrites every setup cell, badge and link to the old one.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
README = ROOT / "README.md"
# The public repository the course is served from: the Colab badges and the setup cell use it.
# Change it with `python -m helpers.setup_cell --repo OWNER/NAME`, which rewrites this line too.
GITHUB_REPO = "model-optimization-in-practice/course"
REPO_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*"
MARKER = "# Setup cell (the same in every notebook"
# What the setup cell installs on Colab beside Colab's own TensorFlow: the versions the course was
# tested with (helpers.versions.TESTED and requirements.txt hold the same pins).
COLAB_PACKAGES = ["tensorflow-model-optimization==0.8.1", "ai-edge-litert==2.3.0",
                  "ai-edge-quantizer==0.10.0", "optuna>=4.0,<6", "keras>=3.15.1"]


def repo_url(repo: str = GITHUB_REPO) -> str:
    """The https clone URL of a GitHub repository named OWNER/NAME."""
    return f"https://github.com/{validate_repo(repo)}.git"


def validate_repo(repo: str) -> str:
    """Return `repo` if it is a GitHub OWNER/NAME; ValueError otherwise."""
    if not isinstance(repo, str) or not re.fullmatch(REPO_PATTERN, repo) or repo.endswith(".git"):
        raise ValueError(f"repo must be a GitHub repository as OWNER/NAME (e.g. 'someone/course'), "
                         f"got {repo!r}")
    return repo


def setup_cell_source(repo: str = GITHUB_REPO) -> str:
    """The text of the shared setup cell for a course served from `repo`."""
    packages = ",\n                    ".join(
        ", ".join(f'"{p}"' for p in COLAB_PACKAGES[i:i + 3]) for i in range(0, len(COLAB_PACKAGES), 3))
    return f'''{MARKER}; edit helpers/setup_cell.py, not this copy).
# On Google Colab it installs what Colab lacks and fetches the course; elsewhere it does nothing.
import importlib.metadata, importlib.util, os, subprocess, sys

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


def set_repo(repo: str, module_file: Path = Path(__file__)) -> None:
    """Record `repo` as GITHUB_REPO in this module's source file (the one place it is kept)."""
    validate_repo(repo)
    source = Path(module_file).read_text(encoding="utf-8")
    new, count = re.subn(r'^GITHUB_REPO = ".*"$', f'GITHUB_REPO = "{repo}"', source, flags=re.MULTILINE)
    if count != 1:
        raise ValueError(f"{module_file} must have exactly one GITHUB_REPO line, found {count}")
    Path(module_file).write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Command line: sync setup cells and badges, --check them, or --repo OWNER/NAME for a fork."""
    parser = argparse.ArgumentParser(prog="python -m helpers.setup_cell", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report differences, change nothing")
    parser.add_argument("--repo", metavar="OWNER/NAME",
                        help="serve the course from this GitHub repository (a fork)")
    args = parser.parse_args(argv)
    if args.check and args.repo:
        parser.error("--check and --repo do not go together: --check compares with the repository "
                     "recorded in helpers/setup_cell.py")
    repo = GITHUB_REPO
    if args.repo:
        try:
            repo = validate_repo(args.repo)
        except ValueError as error:
            parser.error(str(error))
    differing = sync(check_only=args.check, repo=repo)
    if args.repo and repo != GITHUB_REPO:
        set_repo(repo)
        print(f"recorded {repo} in helpers/setup_cell.py (was {GITHUB_REPO})")
    for path in differing:
        print(f"{'differs' if args.check else 'updated'}: {path.relative_to(ROOT)}")
    if not differing:
        print(f"every setup cell and Colab badge points at {repo}")
    return 1 if args.check and differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
