"""`import helpers` names, in one line, the libraries whose versions differ from the tested ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, versions


def test_tested_versions_are_the_ones_requirements_txt_pins():
    from coursetools.pins import lock_pins  # the one parser of the lock (markers and comments included)

    pins = lock_pins((ROOT / "requirements.txt").read_text())
    for name, version in versions.TESTED.items():
        assert pins.get(name) == version, f"requirements.txt pins {name}=={pins.get(name)}"


def test_this_environment_is_the_tested_one():
    assert versions.untested_report(versions.installed_versions()) is None


def test_a_different_runtime_is_named_in_one_line():
    found = {**versions.TESTED, "tensorflow": "2.20.0", "tf-keras": None}
    report = versions.untested_report(found)
    assert report.count("\n") == 0
    assert "tensorflow 2.20.0" in report and "tf-keras (not installed)" in report
    assert "tested with tensorflow 2.21.0, tf-keras 2.21.0" in report
    assert "pip install -r requirements.txt" in report
    assert "ai-edge-litert" not in report, "only what differs is named"


def test_unknown_package_names_are_rejected():
    with pytest.raises(ValueError, match="no tested version"):
        versions.untested_report({"torch": "2.0"})


def test_import_helpers_prints_nothing_in_the_tested_environment():
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    done = subprocess.run([sys.executable, "-c", "import helpers"], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""


def test_output_dir_follows_course_output_dir(tmp_path):
    code = "import helpers; print(helpers.output_dir('04_mnist_project'))"
    env = {**os.environ, "COURSE_OUTPUT_DIR": str(tmp_path / "grader-7")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == (tmp_path / "grader-7" / "04_mnist_project").resolve()
    assert Path(done.stdout.strip()).is_dir()
    env.pop("COURSE_OUTPUT_DIR")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60)
    assert Path(done.stdout.strip()) == ROOT / "outputs" / "04_mnist_project", "default unchanged"


@pytest.mark.parametrize("bad", ["", "a/b", "..\\\\x", None])
def test_output_dir_rejects_paths(bad):
    import helpers

    with pytest.raises(ValueError, match="notebook must be a folder name"):
        helpers.output_dir(bad)


def test_the_license_file_is_apache_2_and_names_the_data_license():
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert "CC BY-SA 3.0" in text and "data/mnist.npz" in text
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text()
