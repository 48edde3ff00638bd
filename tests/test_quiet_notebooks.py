"""A learner sees the lesson, not the libraries' plumbing.

The root conftest checks every notebook cell that nbval runs (the README's test command executes
all notebooks); these tests prove that check can fail, on the exact lines TensorFlow, LiteRT and the
converter print, and that the course's own imports and LiteRT calls really print none of them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from conftest import has_progress_bar, noise_in_outputs
from helpers import ROOT

# Lines measured on a clean run before the course silenced them (issue 10).
LIBRARY_LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1764356273.140519   4401 port.cc:153] oneDNN custom operations are on. You may "
    "see slightly different numerical results due to floating-point round-off errors.",
    "I0000 00:00:1764356273.141039   4401 cudart_stub.cc:31] Could not find cuda drivers on your "
    "machine, GPU will not be used.",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    "fully_quantize: 0, inference_type: 6, input_inference_type: INT8, output_inference_type: INT8",
    "/usr/lib/python3/site-packages/tensorflow/lite/python/convert.py:854: UserWarning: Statistics "
    "for quantized inputs were expected, but not specified; continuing anyway.",
    "WARNING:tensorflow:Compiled the loaded model, but the compiled metrics have yet to be built.",
]
LESSON_LINES = [
    "Epoch 1/5", "422/422 - 3s - loss: 0.31 - accuracy: 0.91", "test accuracy: 97.34%",
    "int8 is 2.1x faster than float32 here", "a warning sign: accuracy fell by 3 points",
]


@pytest.mark.parametrize("line", LIBRARY_LINES)
def test_each_library_line_is_caught(line):
    for stream in ("stderr", "stdout"):
        outputs = [{"output_type": "stream", "name": stream, "text": f"before\n{line}\nafter\n"}]
        assert noise_in_outputs(outputs) == [line]


def test_lesson_lines_are_not_noise():
    outputs = [{"output_type": "stream", "name": "stdout", "text": "\n".join(LESSON_LINES)}]
    assert noise_in_outputs(outputs) == []


def test_progress_bars_are_recognised():
    widget = {"output_type": "display_data", "data": {
        "text/plain": "  0%|          | 0/8 [00:00<?, ?it/s]",
        "application/vnd.jupyter.widget-view+json": {"model_id": "x"}}}
    assert has_progress_bar([widget])
    assert not has_progress_bar([{"output_type": "stream", "name": "stdout", "text": "97.3% | ok"}])


def _run_notebook(cells: list[nbformat.NotebookNode]) -> subprocess.CompletedProcess:
    """Run one small notebook through the README's test command (pytest + nbval + root conftest)."""
    folder = Path(tempfile.mkdtemp(prefix=".quiet-check-", dir=ROOT))  # under the root conftest
    try:
        path = folder / "probe.ipynb"
        notebook = nbformat.v4.new_notebook(cells=cells)
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                           "language": "python"}
        nbformat.write(notebook, path)
        env = {**os.environ, "COURSE_OUTPUT_DIR": str(folder / "outputs")}
        return subprocess.run([sys.executable, "-m", "pytest", str(path), "-q", "-p", "no:randomly"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_notebook_that_prints_library_lines_fails():
    code = nbformat.v4.new_code_cell
    done = _run_notebook([
        code("print('the lesson')"),
        code("import sys\nprint(" + repr(LIBRARY_LINES[3]) + ", file=sys.stderr)"),
        code("import warnings\nwarnings.warn('Statistics for quantized inputs were expected')"),
        code("from tqdm.auto import tqdm\nfor _ in tqdm(range(3)):\n    pass"),
    ])
    assert done.returncode != 0, done.stdout[-2000:]
    assert "XNNPACK delegate" in done.stdout and "UserWarning" in done.stdout
    assert "a progress bar on work that took" in done.stdout
    assert "1 passed, 3 failed" in done.stdout or "3 failed, 1 passed" in done.stdout, done.stdout[-2000:]


def test_the_course_imports_and_litert_calls_are_quiet():
    """The real thing: TensorFlow, TFMOT, a conversion and a LiteRT run, as a notebook does them."""
    code = nbformat.v4.new_code_cell
    shown = code("import sys\nprint('I0000 00:00:1.0 1 port.cc:1] shown on purpose', file=sys.stderr)")
    shown.metadata["tags"] = ["shows-library-output"]
    done = _run_notebook([
        code("import helpers\nimport tensorflow as tf\nimport tensorflow_model_optimization as tfmot"),
        code("from helpers import deploy, keras, metrics\nimport numpy as np\n"
             "model = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)),"
             " keras.layers.Dense(10)])\n"
             "blob = deploy.to_tflite(model, 'int8', np.random.rand(20, 28, 28).astype('float32'))\n"
             "print(metrics.litert_latency(blob, np.zeros((28, 28), np.uint8), runs=5)['median_us'] > 0)"),
        shown,
    ])
    assert done.returncode == 0, done.stdout[-3000:]
    assert "3 passed" in done.stdout
