"""A pytest plugin that stores every notebook nbval executes in the site's jupyter-cache.

`pytest notebooks/02_pruning.ipynb -p coursetools.site_cache --site-cache build/site/jupyter_cache`
executes the notebook as the tests always do (nbval, a clean kernel, the root conftest's budget and
quiet-screen checks) and, when every cell of it passed, stores the executed notebook in the cache
`coursetools site` reads (keyed like `coursetools.site.executed_notebooks` looks it up: the
notebook's code and the fingerprint of the checkout it ran in). The standalone check
(tests/test_standalone.py) loads it, so the site reuses those executions instead of running the
course once more.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class _Run:
    """What one notebook's nbval run produced: its cells' outputs, time, and whether any cell failed."""

    notebook: object
    path: Path
    nodeid: str
    outputs: dict[int, list] = field(default_factory=dict)  # by id() of the notebook's cell
    seconds: float = 0.0
    failed: bool = False


_runs: dict[str, _Run] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    """The plugin's option: where the site's jupyter-cache lives."""
    parser.addoption("--site-cache", metavar="FOLDER", default=None,
                     help="store each fully passing notebook's execution in this jupyter-cache "
                          "(coursetools site reads build/site/jupyter_cache)")


def _run_of(item: pytest.Item) -> _Run | None:
    """The run record of an nbval cell item (None for other tests, or without --site-cache)."""
    if not item.config.getoption("site_cache") or not hasattr(item, "cell") or not hasattr(item.parent, "nb"):
        return None
    key = str(item.parent.path)
    if key not in _runs:
        _runs[key] = _Run(item.parent.nb, Path(item.parent.path), item.parent.nodeid)
    return _runs[key]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Keep the outputs nbval collected for each cell."""
    try:
        return (yield)
    finally:
        run = _run_of(item)
        if run is not None and getattr(item, "test_outputs", None) is not None:
            run.outputs[id(item.cell)] = item.test_outputs


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """A failed or skipped cell (any phase) means the notebook's execution is not stored."""
    for run in _runs.values():
        if report.nodeid.startswith(run.nodeid + "::"):
            run.failed |= report.failed or report.skipped
            if report.when == "call":
                run.seconds += report.duration


def executed_copy(run: _Run):
    """The notebook with the outputs of this run and consecutive execution counts, or None if incomplete."""
    notebook = copy.deepcopy(run.notebook)
    count = 0
    for original, cell in zip(run.notebook.cells, notebook.cells, strict=True):
        if cell.cell_type != "code":
            continue
        if id(original) not in run.outputs:
            return None
        count += 1
        cell.outputs, cell.execution_count = copy.deepcopy(run.outputs[id(original)]), count
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
    return notebook


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Store every notebook whose cells all ran and passed."""
    folder = session.config.getoption("site_cache")
    if not folder:
        return
    from coursetools import site  # the site extra's jupyter-cache, only when asked for

    cache, fingerprint = site.open_cache(Path(folder)), site.execution_fingerprint()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for run in _runs.values():
        notebook = None if run.failed else executed_copy(run)
        if notebook is not None:
            uri = run.path.relative_to(session.config.rootpath) if run.path.is_relative_to(session.config.rootpath) \
                else run.path  # the clone the standalone check runs in is deleted afterwards
            site.store_executed(cache, notebook, str(uri), fingerprint, run.seconds)
        if reporter:
            reporter.write_line(f"site cache: {run.path.name} " + ("stored" if notebook is not None
                                                                 else "not stored (a cell failed or was skipped)"))
