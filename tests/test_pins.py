"""One source of version pins: requirements.txt (the lock). helpers.versions.TESTED is generated from
it, the Colab setup cell and the benchmarks read TESTED, and `coursetools pins --check` fails as soon
as the lock and the generated pins (or pyproject.toml's ranges) drift apart."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from coursetools import pins, setup_cell
from coursetools.paths import PYPROJECT, REQUIREMENTS, ROOT, VERSIONS_MODULE
from helpers import versions


def _check(requirements) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coursetools", "pins", "--check", "--requirements",
                           str(requirements)], capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.fixture
def lock_copy(tmp_path):
    """A copy of requirements.txt to edit."""
    path = tmp_path / "requirements.txt"
    shutil.copy2(REQUIREMENTS, path)
    return path


def test_the_generated_pins_match_the_lock():
    done = _check(REQUIREMENTS)
    assert done.returncode == 0, done.stderr
    assert "every pin matches requirements.txt" in done.stdout


def test_a_changed_lock_pin_makes_the_check_fail(lock_copy):
    lock_copy.write_text(lock_copy.read_text().replace("tensorflow==2.21.0", "tensorflow==2.21.1"))
    done = _check(lock_copy)
    assert done.returncode == 1
    assert "helpers/versions.py's TESTED differs from" in done.stderr and "coursetools pins" in done.stderr


def test_a_lock_pin_outside_the_declared_range_makes_the_check_fail(lock_copy):
    lock_copy.write_text(lock_copy.read_text().replace("numpy==2.4.6", "numpy==1.26.4"))
    done = _check(lock_copy)
    assert done.returncode == 1
    assert "requirements.txt pins numpy==1.26.4, outside pyproject.toml's range" in done.stderr


def test_a_declared_dependency_missing_from_the_lock_makes_the_check_fail(lock_copy):
    lock_copy.write_text(re.sub(r"^nbclient==.*\n", "", lock_copy.read_text(), flags=re.MULTILINE))
    done = _check(lock_copy)
    assert done.returncode == 1 and "requirements.txt does not pin nbclient" in done.stderr


def test_the_lock_holds_exact_pins_only():
    with pytest.raises(ValueError, match=r"line 2: the lock pins exact versions .*'numpy>=2.0'"):
        pins.lock_pins("tensorflow==2.21.0\nnumpy>=2.0  # a range\n-e .[tools,dev]\n")
    assert pins.lock_pins("tf_keras==2.21.0  # note\n\n# comment\n-e .\n") == {"tf-keras": "2.21.0"}


def test_regenerating_rewrites_only_the_versions(lock_copy, tmp_path):
    module = tmp_path / "versions.py"
    shutil.copy2(VERSIONS_MODULE, module)
    lock_copy.write_text(lock_copy.read_text().replace("ai-edge-litert==2.3.0", "ai-edge-litert==2.3.1"))
    assert pins.sync(lock_copy, PYPROJECT, module, check_only=True) != []
    assert pins.sync(lock_copy, PYPROJECT, module) == []
    before, after = VERSIONS_MODULE.read_text(), module.read_text()
    assert after == before.replace('"ai-edge-litert": "2.3.0"', '"ai-edge-litert": "2.3.1"')
    assert pins.sync(lock_copy, PYPROJECT, module, check_only=True) == []


def test_tested_versions_cover_the_libraries_that_decide_the_numbers():
    assert {"tensorflow", "tf-keras", "keras", "tensorflow-model-optimization", "ai-edge-litert",
            "ai-edge-quantizer"} <= set(versions.TESTED)
    assert list(versions.TESTED)[:2] == ["tensorflow", "tf-keras"], "the report names TF first"


def test_the_colab_cell_installs_the_tested_versions():
    assert setup_cell.COLAB_PACKAGES == setup_cell.colab_packages(versions.TESTED)
    changed = {**versions.TESTED, "ai-edge-quantizer": "9.9.9", "keras": "3.99.0"}
    packages = setup_cell.colab_packages(changed)
    assert "ai-edge-quantizer==9.9.9" in packages and "keras>=3.99.0" in packages
    assert not any(p.startswith(("tensorflow==", "tf-keras")) for p in packages), "Colab keeps its TF"


def test_the_benchmarks_record_the_tested_versions_from_helpers_versions():
    scripts = sorted((ROOT / "benchmarks").glob("*.py"))
    recording = [p for p in scripts if '"versions"' in p.read_text()]
    assert len(recording) >= 3, "mnist_record, tfmot_tutorial and search record versions"
    for path in recording:
        text = path.read_text()
        assert "installed_versions()" in text, f"{path.name} must record helpers.versions' packages"
        assert "importlib.metadata" not in text, f"{path.name} lists package versions of its own"
