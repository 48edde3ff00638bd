"""Notebook 06 (Keras 3 + ai-edge-quantizer): its full-integer model re-checked independently on
the full test set, its code cells free of TFMOT and legacy Keras, and helpers.litert_quantizer."""

from __future__ import annotations

import gzip
import json
import re

import nbformat
import numpy as np
import pytest

import helpers
from helpers import litert_quantizer, tflite_anatomy

OUT = helpers.OUTPUT_DIR / "06_beyond_tfmot"
NOTEBOOK = helpers.ROOT / "notebooks" / "06_beyond_tfmot.ipynb"
RUN_FIRST = ("run notebooks/06_beyond_tfmot.ipynb first (e.g. `pytest notebooks/06_beyond_tfmot."
             "ipynb` or Run All in JupyterLab), without COURSE_QUICK=1")
MIN_ACCURACY, MAX_GZIPPED = 0.985, 7000
LEGACY_TAG = "legacy-keras-comparison"  # the one cell allowed to show tf.keras, to compare
LEGACY = re.compile(r"tensorflow_model_optimization|\btfmot\b|tf_keras|\btf\.keras\b"
                    r"|helpers\.keras\b|from helpers import[^\n]*\bkeras\b(?!3)")


def _require(path):
    if not path.is_file():
        pytest.fail(f"{path} is missing: {RUN_FIRST}")
    return path


@pytest.mark.after_notebooks
def test_full_int8_model_meets_the_target_on_the_full_test_set(mnist):
    from ai_edge_litert.interpreter import Interpreter

    data = _require(OUT / "full_int8.tflite").read_bytes()
    summary = json.loads(_require(OUT / "summary.json").read_text())
    if summary.get("quick_run"):
        pytest.fail(f"summary.json comes from a COURSE_QUICK=1 run: {RUN_FIRST}")
    gzipped = len(gzip.compress(data, 9))
    interpreter = Interpreter(model_content=data)  # not helpers: an independent LiteRT loop
    interpreter.allocate_tensors()
    detail, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    assert detail["dtype"] == np.int8, f"input should be int8 (full integer), got {detail['dtype']}"
    assert out["dtype"] == np.int8, f"output should be int8 (full integer), got {out['dtype']}"
    (_, _), (x_test, y_test) = mnist
    assert len(x_test) == 10_000
    scale, zero_point = detail["quantization"]
    x = np.clip(np.round(x_test.astype(np.float32) / 255.0 / scale + zero_point), -128, 127)
    x = x.astype(np.int8).reshape(len(x_test), *detail["shape"][1:])
    correct = 0
    for i in range(len(x)):
        interpreter.set_tensor(detail["index"], x[i : i + 1])
        interpreter.invoke()
        correct += int(np.argmax(interpreter.get_tensor(out["index"])[0]) == y_test[i])
    accuracy = correct / len(x)
    assert accuracy >= MIN_ACCURACY and gzipped <= MAX_GZIPPED, (
        f"full_int8.tflite: {accuracy:.2%} at {gzipped:,} B gzipped; target >= "
        f"{MIN_ACCURACY:.1%} at <= {MAX_GZIPPED:,} B")
    row = next(r for r in summary["stages"] if r["file"] == "full_int8.tflite")
    assert row["accuracy"] == pytest.approx(accuracy, abs=1e-4), "summary.json's accuracy differs"
    assert row["gzipped_bytes"] == gzipped and summary["final_model"] == "full_int8.tflite"


def _code_cells() -> list:
    return [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]


def test_the_keras3_pipeline_uses_neither_tfmot_nor_legacy_keras():
    cells = _code_cells()
    tagged = [c for c in cells if LEGACY_TAG in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell may show legacy Keras, to compare"
    assert "fit(" not in tagged[0].source and "Sequential" not in tagged[0].source
    pipeline = [c for c in cells if c not in tagged]
    offending = [c.source.splitlines()[0] for c in pipeline if LEGACY.search(c.source)]
    assert not offending, f"code cells that use TFMOT or tf_keras: {offending}"
    code = "\n".join(c.source for c in pipeline)
    needed_calls = ("keras.Sequential(", "litert_quantizer.export_litert(",
                    "keras3_pruning.GradualMagnitudePruning", "recipe.static_wi8_ai8()")
    for needed in needed_calls:
        assert needed in code, f"the notebook's pipeline should use {needed}"


@pytest.mark.parametrize("source", [
    "import tensorflow_model_optimization as tfmot", "tfmot.sparsity.keras.strip_pruning(m)",
    "import tf_keras", "model = tf.keras.Sequential()", "from helpers import data, keras",
    "x = helpers.keras.layers.Dense(3)"])
def test_the_legacy_pattern_catches_every_way_in(source):
    assert LEGACY.search(source)


@pytest.mark.parametrize("source", ["import keras", "from helpers import keras3_pruning",
                                    "keras.layers.Dense(3)", "from helpers import checks, data"])
def test_the_legacy_pattern_lets_keras3_through(source):
    assert not LEGACY.search(source)


# --- helpers.litert_quantizer ----------------------------------------------------------------

@pytest.fixture(scope="module")
def float_model(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(3)
    layers = keras.layers
    model = keras.Sequential([layers.Input((28, 28)), layers.Reshape((28, 28, 1)),
                              layers.Conv2D(4, 3, activation="relu", name="conv"),
                              layers.MaxPooling2D(4), layers.Flatten(),
                              layers.Dense(10, name="logits")])
    return litert_quantizer.export_litert(model, tmp_path_factory.mktemp("m") / "float.tflite")


def test_export_writes_a_batch_one_float_model(float_model, capfd):
    from helpers import deploy

    interpreter = deploy.make_interpreter(float_model)
    assert list(interpreter.get_input_details()[0]["shape"]) == [1, 28, 28]
    assert litert_quantizer.io_types(float_model) == ("float32", "float32")
    kernels = {r["shape"]: r for r in litert_quantizer.weight_tensors(float_model)}
    assert kernels[(4, 3, 3, 1)]["type"] == "float32" and kernels[(4, 3, 3, 1)]["bytes"] == 144
    assert capfd.readouterr() == ("", "")


def test_static_recipe_gives_int8_io_and_int4_recipe_packs_two_per_byte(float_model, mnist, capfd):
    from ai_edge_quantizer import recipe

    (x_train, _), _ = mnist
    full = litert_quantizer.quantize(float_model, recipe.static_wi8_ai8(), x_train[:50])
    assert litert_quantizer.io_types(full) == ("int8", "int8")
    int4 = litert_quantizer.quantize(float_model, recipe.dynamic_wi4_afp32())
    kernel = {r["shape"]: r for r in litert_quantizer.weight_tensors(int4)}[(10, 144)]
    assert kernel["type"] == "int4" and kernel["bytes"] == 720
    out, err = capfd.readouterr()
    assert out == "" and err == "", "the quantizer's reports and progress bars must stay hidden"


def test_stored_int4_values_are_unpacked_low_nibble_first():
    packed = bytes([0x21, 0xF0, 0x08])  # codes 1, 2, 0, -1, -8, (padding)
    values = tflite_anatomy.stored_values(packed, "INT4", 5)
    assert values.tolist() == [1, 2, 0, -1, -8]


def test_quantize_and_export_reject_bad_input(float_model, tmp_path):
    import keras
    from ai_edge_quantizer import recipe

    with pytest.raises(ValueError, match="needs calibration_images"):
        litert_quantizer.quantize(float_model, recipe.static_wi8_ai8())
    with pytest.raises(TypeError, match="recipe must be an ai-edge-quantizer recipe"):
        litert_quantizer.quantize(float_model, "int8")
    with pytest.raises(ValueError, match="not a TFLite flatbuffer"):
        litert_quantizer.quantize(b"not a model at all", recipe.dynamic_wi8_afp32())
    model = keras.Sequential([keras.layers.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="must end in .tflite"):
        litert_quantizer.export_litert(model, tmp_path / "m.h5")
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        litert_quantizer.export_litert(model, tmp_path / "m.tflite", batch_size=0)
    from helpers import keras as tf_keras

    legacy = tf_keras.Sequential([tf_keras.layers.Dense(2, input_shape=(3,))])
    with pytest.raises(TypeError, match="Keras 3 model"):
        litert_quantizer.export_litert(legacy, tmp_path / "m.tflite")
