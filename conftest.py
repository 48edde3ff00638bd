"""Shared fixtures, test ordering, and two checks on every notebook cell nbval runs: the notebook's
time budget, and a quiet screen (no library log lines, warnings or needless progress bars).

It lives at the repository root so that its hooks also see the notebook items nbval collects.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict

import pytest

import helpers  # noqa: F401  (sets TF_USE_LEGACY_KERAS before any test imports TensorFlow)

# Seconds each notebook may take from a clean kernel on the course's reference machine (2 CPU cores).
NOTEBOOK_BUDGET_S = {
    "01_background.ipynb": 120,
    "02_pruning.ipynb": 240,  # issue 20: section 9 trains to convergence with both controls (160 s measured)
    "03_quantization.ipynb": 240,
    "04_mnist_project.ipynb": 360,  # issue 12: a record recipe with a margin (at most 420)
    "05_applications.ipynb": 300,
    "06_beyond_tfmot.ipynb": 180,
}
_notebook_seconds: dict[str, float] = defaultdict(float)


@pytest.fixture(scope="session")
def mnist():
    """The course's MNIST, loaded once per test session."""
    from helpers.data import load_mnist

    return load_mnist()


# Checks too heavy for the README's test command (a second environment, a fresh clone, several
# seeds): they run only when `-m` names them, as `.ci/run` does after the main suite.
HEAVY_MARKERS = {
    "colab_env": "a Colab-like environment (other TensorFlow, Keras 3, fake google.colab)",
    "standalone": "a notebook alone in a fresh output folder, nothing run before it",
    "benchmark": "a benchmark command run end to end",
    "nbgrader": "nbgrader autograde on three submissions of every notebook",
    "packaging": "pip install -e . (no extras) into a fresh virtual environment",
    "site": "the course's web site built by `coursetools site` and read in headless Chromium",
}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "after_notebooks: reads files the notebooks write; runs after every notebook")
    for name, what in HEAVY_MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {what}; runs only with -m {name}")


def pytest_collection_modifyitems(session, config, items):
    """Run tests marked after_notebooks last, so the notebooks have written their outputs; skip
    the heavy ones unless `-m` asks for them."""
    selected = config.getoption("markexpr", "") or ""
    for item in items:
        for name in HEAVY_MARKERS:
            if item.get_closest_marker(name) and name not in selected:
                item.add_marker(pytest.mark.skip(reason=f"heavy ({HEAVY_MARKERS[name]}): "
                                                        f"run it with `pytest -m {name}`"))
    items.sort(key=lambda item: item.get_closest_marker("after_notebooks") is not None)


# What the libraries' plumbing prints; a learner should see none of it. A cell that shows such a
# line on purpose, to explain it, carries the cell tag "shows-library-output".
NOISE_PATTERNS = [
    r"absl::InitializeLog",                     # absl, at TensorFlow's import
    r"oneDNN custom operations",                # TensorFlow's oneDNN notice
    r"cuda drivers|cudart_stub|cuInit",          # TensorFlow looking for a GPU
    r"XNNPACK delegate",                        # LiteRT's delegate notice
    r"fully_quantize: \d|inference_type: \d",   # the TFLite converter's calibration log
    r"^[IWEF]\d{4} \d\d:\d\d:\d\d",              # any glog/absl-formatted native log line
    r"^(WARNING|INFO|ERROR):(tensorflow|absl)",  # Python-side TensorFlow/absl logging
    r"\b\w*Warning: ",                          # a Python warning (file:line: UserWarning: ...)
]
_NOISE = re.compile("|".join(f"(?:{p})" for p in NOISE_PATTERNS), re.MULTILINE)
QUIET_TAG = "shows-library-output"
PROGRESS_BAR = re.compile(r"\d+%\|")  # tqdm's text: " 40%|████      | 4/10 [...]"
MIN_SECONDS_FOR_A_PROGRESS_BAR = 1.0  # a bar on sub-second work shows as 0%; margin for 3x faster machines


def noise_in_outputs(outputs: list) -> list[str]:
    """The lines of a cell's stream outputs that come from library plumbing, not the lesson."""
    found = []
    for output in outputs:
        if output.get("output_type") == "stream":
            found += [line for line in output.get("text", "").splitlines() if _NOISE.search(line)]
    return found


def has_progress_bar(outputs: list) -> bool:
    """Whether a cell's outputs include a tqdm progress bar (widget or text)."""
    for output in outputs:
        texts = [output.get("text", "")] + [str(v) for v in output.get("data", {}).values()]
        if any(PROGRESS_BAR.search(text) for text in texts):
            return True
    return False


def quiet_screen_problems(item, outputs: list, seconds: float) -> list[str]:
    """What is wrong with what a notebook cell showed: library noise, or a bar on quick work."""
    if QUIET_TAG in item.cell.get("metadata", {}).get("tags", []):
        return []
    problems = [f"library output on the learner's screen: {line!r}"
                for line in noise_in_outputs(outputs)]
    if has_progress_bar(outputs) and seconds < MIN_SECONDS_FOR_A_PROGRESS_BAR:
        problems.append(f"a progress bar on work that took {seconds:.1f} s (< "
                        f"{MIN_SECONDS_FOR_A_PROGRESS_BAR:.0f} s): static viewers show it as 0%")
    return problems


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Add up the time spent executing each notebook's cells, and check each cell is quiet."""
    start = time.perf_counter()
    result = yield
    if item.path.suffix == ".ipynb":
        seconds = time.perf_counter() - start
        _notebook_seconds[item.path.name] += seconds
        outputs = getattr(item, "test_outputs", None) or []
        problems = quiet_screen_problems(item, outputs, seconds) if hasattr(item, "cell") else []
        if problems:
            raise AssertionError(f"{item.path.name}, cell {item.cell_num}: " + "; ".join(problems))
    return result


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
