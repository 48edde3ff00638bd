"""Two packages, packaged as the ecosystem expects: `helpers` (what the notebooks import, the
learners' runtime only) and `coursetools` (the instructors' tools, one command with subcommands).

A built wheel holds every module of both (helpers/checks/ included) and the `coursetools` script;
`import helpers` loads neither nbgrader nor the tools; the heavy test (`pytest tests -m packaging`)
installs the course with no extras into a fresh virtual environment and imports every learner
module there.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from coursetools import cli, pins
from helpers import ROOT

PACKAGES = ("helpers", "coursetools")
TOOL_MODULES = {"nbgrader", "nbclient", "nbformat", "coursetools"}  # never loaded by `import helpers`
SCRIPT = Path(sys.executable).with_name("coursetools")  # the installed console script
# What the wheel build needs of the checkout: everything but history, environments and outputs.
NOT_COPIED = {".git", ".venv", "outputs", "student", "build", "dist", "data"}


def _modules(package: str) -> set[str]:
    """The .py files of `package` in the checkout, as wheel paths (helpers/checks/_common.py)."""
    return {p.relative_to(ROOT).as_posix() for p in (ROOT / package).rglob("*.py")
            if "__pycache__" not in p.parts}


def _ignore(folder: str, names: list[str]) -> set[str]:
    """shutil.copytree's filter: skip NOT_COPIED at the top, and build leftovers everywhere."""
    skipped = {n for n in names if n in {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
               or n.endswith(".egg-info")}
    return skipped | (NOT_COPIED & set(names) if Path(folder) == ROOT else set())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The course's wheel, built offline (no build isolation) from a copy of the working tree."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=_ignore)
    done = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                           str(base / "dist"), str(source)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [built] = (base / "dist").glob("*.whl")
    return built


def _dist_info(archive: zipfile.ZipFile, name: str) -> str:
    """The text of a file in the wheel's .dist-info folder."""
    [path] = [n for n in archive.namelist() if n.endswith(f".dist-info/{name}")]
    return archive.read(path).decode()


def test_the_wheel_holds_every_module_of_both_packages_and_nothing_else(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    checks = {n for n in _modules("helpers") if n.startswith("helpers/checks/")}
    assert "helpers/checks/__init__.py" in checks and len(checks) >= 7
    assert "helpers/locale/zh_CN/LC_MESSAGES/checks.mo" in names, "the checks' Chinese messages"
    for package in PACKAGES:
        missing = sorted(_modules(package) - names)
        assert not missing, f"the wheel lacks {missing}"
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == set(PACKAGES), tops


def test_the_wheel_declares_the_command_python_and_dependencies(wheel):
    with zipfile.ZipFile(wheel) as archive:
        entry_points, metadata = _dist_info(archive, "entry_points.txt"), _dist_info(archive, "METADATA")
    assert "[console_scripts]\ncoursetools = coursetools.cli:main" in entry_points
    assert "Requires-Python: >=3.11" in metadata
    requires = [line.removeprefix("Requires-Dist: ") for line in metadata.splitlines()
                if line.startswith("Requires-Dist: ")]
    runtime = {Requirement(r).name for r in requires if "extra ==" not in r}
    assert {"tensorflow", "tf-keras", "keras", "tensorflow-model-optimization", "ai-edge-litert",
            "ai-edge-quantizer", "numpy", "matplotlib", "tqdm", "optuna", "tflite-micro"} == runtime
    assert any(r.startswith("nbgrader") and 'extra == "tools"' in r for r in requires)
    assert not any(r.startswith(("nbgrader", "pytest", "ruff")) and "extra ==" not in r for r in requires)


def test_import_helpers_loads_neither_nbgrader_nor_the_tools():
    code = ("import helpers, sys; import helpers.checks, helpers.data, helpers.versions; "
            f"loaded = {sorted(TOOL_MODULES)!r}; print([m for m in loaded if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("path", sorted((ROOT / "helpers").rglob("*.py")), ids=lambda p: p.name)
def test_no_learner_module_imports_the_tools(path):
    """The arrow points one way: coursetools imports helpers, no helpers module imports a tool."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.add(node.module.split(".")[0])
    assert not imported & TOOL_MODULES, f"{path.relative_to(ROOT)} imports {imported & TOOL_MODULES}"


def test_the_command_lists_its_subcommands():
    assert SCRIPT.is_file(), "pip install -e . installs the coursetools script"
    done = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for name, (_, summary) in cli.COMMANDS.items():
        assert name in done.stdout and summary.split()[0] in done.stdout, name
    assert {"student", "grade", "nbgrader", "setup-cell", "data", "results", "pins"} <= set(cli.COMMANDS)
    same = subprocess.run([sys.executable, "-m", "coursetools", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert same.stdout == done.stdout


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_each_subcommand_has_its_own_help(name):
    done = subprocess.run([str(SCRIPT), name, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: coursetools {name}")


def test_an_unknown_subcommand_is_refused_with_the_list():
    done = subprocess.run([str(SCRIPT), "publish"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "invalid choice: 'publish'" in done.stderr and "student" in done.stderr


# --- heavy: a fresh virtual environment, `pip install -e .` with no extras --------------------------

LEARNER_IMPORTS = r'''
import importlib, importlib.util, json, pkgutil, sys
import helpers, helpers.checks
names = ["helpers"] + [f"helpers.{m.name}" for m in pkgutil.iter_modules(helpers.__path__)]
names += [f"helpers.checks.{m.name}" for m in pkgutil.iter_modules(helpers.checks.__path__)]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "helpers_file": helpers.__file__,
                  "nbgrader_installed": importlib.util.find_spec("nbgrader") is not None,
                  "loaded_tools": sorted(m for m in sys.modules if m.split(".")[0] in TOOLS)}))
'''


@pytest.mark.packaging
def test_a_fresh_install_without_extras_runs_every_learner_module(tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    constraints = tmp_path / "constraints.txt"  # the tested versions, so pip's cache has the wheels
    lock = pins.lock_pins((ROOT / "requirements.txt").read_text())
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in lock.items()))
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", str(ROOT), "-c",
                           str(constraints)], capture_output=True, text=True, timeout=1800, env=env,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]

    code = f"TOOLS = {sorted(TOOL_MODULES)!r}\n{LEARNER_IMPORTS}"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=600,
                          env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(result["helpers_file"]).is_relative_to(ROOT), "the editable install serves the checkout"
    expected = {p.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
                for p in (ROOT / "helpers").rglob("*.py") if "__pycache__" not in p.parts}
    assert set(result["modules"]) == expected
    assert not result["nbgrader_installed"] and result["loaded_tools"] == []

    tool = env_dir / "bin" / "coursetools"  # the script is installed; its notebook tools need [tools]
    data = subprocess.run([str(tool), "data"], capture_output=True, text=True, timeout=120, env=env)
    assert data.returncode == 0 and "is intact" in data.stdout, data.stderr
    student = subprocess.run([str(tool), "student", "--help"], capture_output=True, text=True,
                             timeout=120, env=env)
    assert student.returncode != 0 and "pip install -e '.[tools]'" in student.stderr
