"""The shared setup cell, run as on Google Colab: a fake `google.colab` module, the repository URL
pointed at a local clone, a fresh working directory, and a Python that cannot import `helpers`
until the cell has fetched the course."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coursetools import setup_cell
from helpers import ROOT

# Runs in a fresh interpreter (clean sys.modules and sys.path); the cell's text comes in argv.
SIMULATION = r'''
import importlib, importlib.util, io, json, os, sys, types
from contextlib import redirect_stderr, redirect_stdout
from importlib.machinery import PathFinder


def finds_helpers(finder) -> bool:
    try:
        return finder.find_spec("helpers", None) is not None
    except Exception:
        return False


# This machine has helpers pip-installed (editable): forget every way it is found, so only the
# cell can make it importable, as on Colab.
sys.path = [p for p in sys.path if not os.path.isdir(os.path.join(p or os.getcwd(), "helpers"))]
sys.path_importer_cache.clear()
sys.meta_path = [f for f in sys.meta_path if f is PathFinder or not finds_helpers(f)]
importlib.invalidate_caches()
assert importlib.util.find_spec("helpers") is None, "helpers is still importable before the cell"

sys.modules["google.colab"] = types.ModuleType("google.colab")  # what the cell detects Colab by
cell = sys.argv[1]
printed = io.StringIO()
with redirect_stdout(printed):
    exec(compile(cell, "setup cell", "exec"), namespace := {})
    exec(compile(cell, "setup cell (run again)", "exec"), {})  # learners re-run cells

import helpers
from helpers.data import load_mnist

(x_train, y_train), (x_test, y_test) = load_mnist()
print(json.dumps({
    "course_dir": namespace["COURSE_DIR"],
    "helpers_file": helpers.__file__,
    "legacy_keras": os.environ.get("TF_USE_LEGACY_KERAS"),
    "sys_path_entries": sys.path.count(namespace["COURSE_DIR"]),
    "shapes": [list(x_train.shape), list(y_train.shape), list(x_test.shape), list(y_test.shape)],
    "printed": printed.getvalue(),
}))
'''


@pytest.fixture(scope="module")
def course_remote(tmp_path_factory) -> str:
    """A local clone of the repository's committed HEAD, standing in for the GitHub repository."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of the course")
    remote = tmp_path_factory.mktemp("remote") / "course"
    done = subprocess.run(["git", "clone", "--quiet", str(ROOT), str(remote)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"could not clone the course: {done.stderr}"
    return remote.as_uri()  # a file:// URL, so `git clone --depth 1` works as it does over https


def test_setup_cell_fetches_the_course_on_colab(course_remote, tmp_path):
    workdir = tmp_path / "content"  # Colab's working directory is /content
    workdir.mkdir()
    env = {**os.environ, "COURSE_REPO": course_remote,
           "PIP_NO_INDEX": "1",  # pip may only confirm what is installed: the test stays offline
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("TF_USE_LEGACY_KERAS", None)
    env.pop("PYTHONPATH", None)
    done = subprocess.run([sys.executable, "-c", SIMULATION, setup_cell.SETUP_CELL], cwd=workdir,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    course_dir = workdir / "model-optimization-course"
    assert Path(result["course_dir"]) == course_dir
    assert Path(result["helpers_file"]).resolve().is_relative_to(course_dir.resolve()), (
        "helpers must come from the course the cell cloned")
    assert (course_dir / "data" / "mnist.npz").is_file() and (course_dir / ".git").is_dir()
    assert result["legacy_keras"] == "1"
    assert result["sys_path_entries"] == 1, "running the cell twice must not add the path twice"
    assert result["shapes"] == [[60000, 28, 28], [60000], [10000, 28, 28], [10000]]
    assert result["printed"] == "", "the cell prints nothing when all goes well"
    assert done.stdout.strip().count("\n") == 0, f"git or pip printed: {done.stdout}"
    assert done.stderr.strip() == "", f"git or pip printed warnings: {done.stderr}"


def test_setup_cell_keeps_colabs_tensorflow_and_names_the_repository_once():
    cell = setup_cell.SETUP_CELL
    assert "tensorflow-model-optimization==0.8.1" in cell and "ai-edge-litert" in cell
    assert all(f'"{package}"' in cell for package in setup_cell.COLAB_PACKAGES)
    assert 'f"tf-keras~={tf_minor}.0"' in cell, "tf-keras must match Colab's TensorFlow"
    install = re.search(r'"pip", "install"(.*?)check=True', cell, re.DOTALL).group(1)
    assert '"tensorflow"' not in install and "--upgrade" not in install, "never reinstall TF"
    assert cell.count(setup_cell.REPO_URL) == 1 and setup_cell.GITHUB_REPO in setup_cell.REPO_URL
    assert setup_cell.colab_badge("x.ipynb").count(setup_cell.GITHUB_REPO) == 1
