"""Shared fixtures, test ordering, and the per-notebook time budgets the issues set (checked on every run).

It lives at the repository root so that its hooks also see the notebook items nbval collects.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import pytest

import helpers  # noqa: F401  (sets TF_USE_LEGACY_KERAS before any test imports TensorFlow)

ROOT = Path(__file__).resolve().parent
# Seconds each notebook may take from a clean kernel on the course's reference machine (2 CPU cores).
NOTEBOOK_BUDGET_S = {
    "01_background.ipynb": 120,
    "02_pruning.ipynb": 180,
    "03_quantization.ipynb": 240,
    "04_mnist_project.ipynb": 300,
    "05_applications.ipynb": 300,
}
_notebook_seconds: dict[str, float] = defaultdict(float)


@pytest.fixture(scope="session")
def mnist():
    """The course's MNIST, loaded once per test session."""
    from helpers.data import load_mnist

    return load_mnist()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "after_notebooks: reads files the notebooks write; runs after every notebook")


def pytest_collection_modifyitems(session, config, items):
    """Run tests marked after_notebooks last, so the notebooks have written their outputs."""
    items.sort(key=lambda item: item.get_closest_marker("after_notebooks") is not None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Add up the time spent executing each notebook's cells."""
    start = time.perf_counter()
    yield
    if item.path.suffix == ".ipynb":
        _notebook_seconds[item.path.name] += time.perf_counter() - start


def pytest_sessionfinish(session, exitstatus):
    """Report notebook run times and fail the run if one exceeds its budget."""
    if not _notebook_seconds:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    over = []
    for name, seconds in sorted(_notebook_seconds.items()):
        budget = NOTEBOOK_BUDGET_S.get(name)
        line = f"{name}: {seconds:.0f} s" + (f" (budget {budget} s)" if budget else "")
        if reporter:
            reporter.write_line(line)
        if budget and seconds > budget:
            over.append(line)
    if over:
        if reporter:
            reporter.write_line("notebooks over their time budget: " + "; ".join(over), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
