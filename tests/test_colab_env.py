"""Colab as it really is: its own (different) TensorFlow, Keras 3 already installed, no `helpers`.

A fresh virtual environment gets what a Colab runtime ships that matters here (TensorFlow 2.20,
not the 2.21 the course pins; Keras 3; Jupyter's kernel; NumPy, Matplotlib, tqdm), a fake
`google.colab` module, and `COURSE_REPO` pointing at a local clone of the course. Notebooks 01
and 04 are then copied into an empty working folder, as Colab opens them from GitHub, and run top
to bottom with COURSE_QUICK=1: their setup cell installs what it installs and fetches the course.

Heavy (a TensorFlow download and two notebook runs, several minutes): it runs only when selected
with `-m colab_env`; `.ci/run` does so after the main suite.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import venv
from pathlib import Path

import nbformat
import pytest

from conftest import noise_in_outputs
from helpers import ROOT

pytestmark = pytest.mark.colab_env

COLAB_TENSORFLOW = "tensorflow==2.20.0"  # one minor version behind the course's pin, as on Colab
COLAB_PREINSTALLED = [COLAB_TENSORFLOW, "keras>=3.10", "ipykernel", "numpy", "matplotlib", "tqdm",
                      "ipywidgets"]
NOTEBOOKS = ["01_background.ipynb", "04_mnist_project.ipynb"]
FAKE_COLAB = 'import sys, types\nsys.modules.setdefault("google.colab", types.ModuleType("google.colab"))\n'


def _pip(python: Path, *args: str) -> None:
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"pip install {' '.join(args)} failed:\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def colab_runtime(tmp_path_factory) -> dict:
    """A Colab-like Python with its kernel registered, and a local 'GitHub' clone of the course."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of the course")
    base = tmp_path_factory.mktemp("colab")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    _pip(python, *COLAB_PREINSTALLED)
    site = Path(subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True).strip())
    (site / "sitecustomize.py").write_text(FAKE_COLAB)  # every process of this Python "is" Colab
    kernels = base / "jupyter" / "kernels" / "colab-sim"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab simulation", "language": "python"}))
    remote = base / "github" / "course"
    done = subprocess.run(["git", "clone", "--quiet", str(ROOT), str(remote)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return {"python": python, "jupyter_path": base / "jupyter", "remote": remote.as_uri(),
            "content": base / "content", "outputs": base / "outputs"}


def test_the_simulated_runtime_is_not_the_tested_one(colab_runtime):
    code = ("import importlib.metadata as m, google.colab; "
            "print(m.version('tensorflow'), m.version('keras'))")
    done = subprocess.run([str(colab_runtime["python"]), "-c", code], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    tensorflow, keras = done.stdout.split()
    assert tensorflow.startswith("2.20.") and keras.startswith("3."), done.stdout


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom_as_on_colab(colab_runtime, name, monkeypatch):
    import nbclient

    content = colab_runtime["content"]  # Colab's /content: the notebook alone, no course files
    content.mkdir(exist_ok=True)
    shutil.copy2(ROOT / "notebooks" / name, content / name)
    notebook = nbformat.read(content / name, as_version=4)
    monkeypatch.setenv("JUPYTER_PATH", str(colab_runtime["jupyter_path"]))
    monkeypatch.setenv("COURSE_REPO", colab_runtime["remote"])
    monkeypatch.setenv("COURSE_QUICK", "1")
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(colab_runtime["outputs"]))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    for variable in ("TF_USE_LEGACY_KERAS", "PYTHONPATH", "VIRTUAL_ENV"):
        monkeypatch.delenv(variable, raising=False)
    client = nbclient.NotebookClient(notebook, kernel_name="colab-sim", timeout=1800,
                                     resources={"metadata": {"path": str(content)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, if a cell fails

    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    shown = "\n".join(o.get("text", "") for c in code_cells for o in c.outputs)
    assert "the course was tested with tensorflow 2.21.0" in shown, (
        "import helpers must say that this TensorFlow is not the tested one")
    noise = [line for c in code_cells for line in noise_in_outputs(c.outputs)]
    assert noise == [], f"library output on a Colab learner's screen: {noise[:5]}"
    course = content / "model-optimization-course"
    assert (course / "helpers" / "__init__.py").is_file(), "the setup cell fetched the course"
    if name == "04_mnist_project.ipynb":
        assert (colab_runtime["outputs"] / "04_mnist_project" / "final_model.tflite").is_file()
