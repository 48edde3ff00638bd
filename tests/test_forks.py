"""A fork serves the course from its own repository with one command; student copies open themselves.

Each test works on a copy of the course's files (README, pyproject.toml, notebooks, helpers,
coursetools, tests), so the repository under test is never rewritten. The copy runs its own tools
with `python -m coursetools` from its folder (the current folder comes first on sys.path): the
installed `coursetools` script would serve the checkout it was installed from.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from coursetools import setup_cell
from helpers import ROOT

UPSTREAM = setup_cell.GITHUB_REPO


@pytest.fixture
def course_copy(tmp_path) -> Path:
    """The course's working files, copied to a temporary folder."""
    copy = tmp_path / "course"
    copy.mkdir()
    for name in ("README.md", "conftest.py", "pyproject.toml", "requirements.txt"):
        shutil.copy2(ROOT / name, copy / name)
    for folder in ("notebooks", "helpers", "coursetools", "tests"):
        shutil.copytree(ROOT / folder, copy / folder,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    return copy


def _run(copy: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=copy, capture_output=True, text=True,
                          timeout=300)


def _tool(copy: Path, *args: str) -> subprocess.CompletedProcess:
    """Run `coursetools ARGS` on the course in `copy` (its own packages, not the installed ones)."""
    return _run(copy, "-m", "coursetools", *args)


def _recorded(pyproject: Path) -> list[str]:
    """The repositories pyproject.toml records, line by line; and what tomllib reads agrees."""
    text = pyproject.read_text()
    lines = re.findall(r'^github-repo = "(.*)"$', text, re.MULTILINE)
    assert lines == [tomllib.loads(text)["tool"]["coursetools"]["github-repo"]]
    return lines


def _colab_links(text: str) -> list[tuple[str, str]]:
    return setup_cell.COLAB_URL.findall(text)


def test_the_repository_is_recorded_once_and_everything_matches_it():
    assert _tool(ROOT, "setup-cell", "--check").returncode == 0
    assert _recorded(ROOT / "pyproject.toml") == [UPSTREAM]
    sources = [p for p in (ROOT / "coursetools").rglob("*.py") if UPSTREAM in p.read_text()]
    assert sources == [], f"the repository is written into {sources}: read it from pyproject.toml"


def test_a_fork_rewrites_every_setup_cell_badge_and_link(course_copy):
    done = _tool(course_copy, "setup-cell", "--repo", "someone/fork")
    assert done.returncode == 0, done.stderr
    assert "recorded someone/fork in pyproject.toml" in done.stdout
    files = [course_copy / "README.md", *sorted((course_copy / "notebooks").glob("*.ipynb"))]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert UPSTREAM not in text, f"{path.name} still names {UPSTREAM}"
        assert all(repo == "someone/fork" for repo, _ in _colab_links(text)), path.name
    for path in files[1:]:
        cells = json.loads(path.read_text())["cells"]
        title = "".join(cells[0]["source"])
        assert _colab_links(title) == [("someone/fork", f"notebooks/{path.name}")]
        assert any('"https://github.com/someone/fork.git"' in "".join(c["source"]) for c in cells)
    assert _recorded(course_copy / "pyproject.toml") == ["someone/fork"]
    assert _recorded(ROOT / "pyproject.toml") == [UPSTREAM], "the fork's copy only"
    check = _tool(course_copy, "setup-cell", "--check")
    assert check.returncode == 0, check.stdout
    # the course's own convention tests pass in the fork
    tests = _run(course_copy, "-m", "pytest", "-q", "-p", "no:randomly",
                 "tests/test_notebooks_structure.py", "tests/test_forks.py::"
                 "test_the_repository_is_recorded_once_and_everything_matches_it")
    assert tests.returncode == 0, tests.stdout[-3000:]


def test_check_reports_a_badge_that_points_elsewhere(course_copy):
    readme = course_copy / "README.md"
    readme.write_text(readme.read_text().replace(UPSTREAM, "stale/upstream", 1))
    done = _tool(course_copy, "setup-cell", "--check")
    assert done.returncode == 1 and "differs: README.md" in done.stdout


def test_check_reports_a_title_badge_that_opens_another_notebook(course_copy):
    path = course_copy / "notebooks" / "02_pruning.ipynb"
    path.write_text(path.read_text().replace("notebooks/02_pruning.ipynb",
                                             "notebooks/01_background.ipynb", 1))
    done = _tool(course_copy, "setup-cell", "--check")
    assert done.returncode == 1 and "differs: notebooks/02_pruning.ipynb" in done.stdout
    assert _tool(course_copy, "setup-cell").returncode == 0
    assert _tool(course_copy, "setup-cell", "--check").returncode == 0


@pytest.mark.parametrize("bad", ["someone", "someone/fork.git", "https://github.com/a/b", "a/b/c"])
def test_a_malformed_repo_is_refused_with_the_rule(course_copy, bad):
    done = _tool(course_copy, "setup-cell", "--repo", bad)
    assert done.returncode == 2 and "OWNER/NAME" in done.stderr
    assert _recorded(course_copy / "pyproject.toml") == [UPSTREAM], "nothing changed"


def test_check_and_repo_together_are_refused(course_copy):
    done = _tool(course_copy, "setup-cell", "--check", "--repo", "someone/fork")
    assert done.returncode == 2 and "do not go together" in done.stderr
    assert _recorded(course_copy / "pyproject.toml") == [UPSTREAM], "nothing changed"


def test_student_copies_open_themselves_on_colab(course_copy):
    done = _tool(course_copy, "student", "notebooks", "--out", "student")
    assert done.returncode == 0, done.stderr
    copies = sorted((course_copy / "student").glob("*.ipynb"))
    assert len(copies) == len(list((course_copy / "notebooks").glob("*.ipynb")))
    for path in copies:
        title = "".join(json.loads(path.read_text())["cells"][0]["source"])
        assert _colab_links(title) == [(UPSTREAM, f"student/{path.name}")], path.name
