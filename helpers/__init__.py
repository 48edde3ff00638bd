"""Shared helpers for the course "Model Optimization in Practice".

Importing this package sets ``TF_USE_LEGACY_KERAS=1`` *before* TensorFlow loads, because the
TensorFlow Model Optimization Toolkit (TFMOT 0.8.1) only works with legacy Keras (``tf_keras``).
Always ``import helpers`` before ``import tensorflow``. ``helpers.keras`` is the Keras to use and
``helpers.tf`` is TensorFlow; both load lazily, so data-only code never pays for TensorFlow.

A program that uses only Keras 3 (notebook 06's path: ``helpers.keras3_pruning``,
``helpers.litert_quantizer``, no TFMOT) may set ``TF_USE_LEGACY_KERAS=0`` before ``import helpers``:
helpers then leaves the flag alone, TensorFlow loads no ``tf_keras`` (with the flag on, TensorFlow's
own import loads it), and ``helpers.keras`` refuses with a message saying why.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from pathlib import Path

# TensorFlow reads the flag as on only for "1"/"true"/"True"; "0" or "false" is an explicit opt-out.
LEGACY_KERAS = os.environ.get("TF_USE_LEGACY_KERAS", "").strip().lower() not in {"0", "false"}
if LEGACY_KERAS:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide TensorFlow's C++ log lines (not errors)

if "tensorflow" in sys.modules and not os.environ.get("_HELPERS_TF_WARNED"):
    os.environ["_HELPERS_TF_WARNED"] = "1"
    warnings.warn(
        "TensorFlow was imported before helpers, so TF_USE_LEGACY_KERAS may have been set too late "
        "and TFMOT may reject Keras 3 models. Restart the kernel and `import helpers` first.",
        stacklevel=2,
    )

from helpers import quiet as _quiet  # noqa: E402  (after the flags above, before TensorFlow loads)
from helpers.versions import warn_if_untested as _warn_if_untested  # noqa: E402

_quiet.quiet_tensorflow_import()  # TensorFlow's absl/oneDNN/CUDA lines never reach a notebook
_warn_if_untested()

ROOT = Path(__file__).resolve().parent.parent
# Where notebooks write models and results: outputs/ (git-ignored), or $COURSE_OUTPUT_DIR, so that
# graders and parallel runs need not share files.
OUTPUT_DIR = Path(os.environ.get("COURSE_OUTPUT_DIR") or ROOT / "outputs").expanduser().resolve()


def output_dir(notebook: str) -> Path:
    """Return (and create) <OUTPUT_DIR>/<notebook>/, where a notebook writes its files."""
    if not isinstance(notebook, str) or not notebook or any(c in notebook for c in "/\\"):
        raise ValueError(f"notebook must be a folder name like '04_mnist_project', got {notebook!r}")
    path = OUTPUT_DIR / notebook
    path.mkdir(parents=True, exist_ok=True)
    return path


# What the notebooks import. The instructors' tools (student copies, grading, nbgrader metadata, the
# setup cell) are the separate package coursetools, which imports helpers, never the other way.
_SUBMODULES = {
    "checks", "data", "deploy", "keras3_pruning", "litert_quantizer", "masks", "metrics", "micro", "models", "pipeline",
    "plots", "pruning", "quantization", "quiet", "search", "tflite_anatomy", "training", "versions",
}

__all__ = sorted(_SUBMODULES | {"keras", "tf", "ROOT", "OUTPUT_DIR", "output_dir", "LEGACY_KERAS"})


def __getattr__(name: str):
    """Load TensorFlow, tf_keras and the submodules only when first used."""
    if name == "tf":
        tensorflow = importlib.import_module("tensorflow")
        tensorflow.get_logger().setLevel("ERROR")  # hide "Assets written to ..." chatter
        return tensorflow
    if name == "keras":
        if not LEGACY_KERAS:
            raise RuntimeError(
                "helpers.keras is legacy Keras (tf_keras), which this process opted out of with "
                "TF_USE_LEGACY_KERAS=0; use Keras 3 (`import keras`) and helpers.keras3_pruning, or "
                "restart without that setting to use TFMOT.")
        return importlib.import_module("tf_keras")
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")
