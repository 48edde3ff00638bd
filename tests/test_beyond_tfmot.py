"""Notebook 06 (Keras 3 + ai-edge-quantizer): its full-integer model re-checked independently on
the full test set, its code cells free of TFMOT and legacy Keras, and helpers.litert_quantizer."""

from __future__ import annotations

import gzip
import json
import re
import warnings

import nbformat
import numpy as np
import pytest

import helpers
from helpers import litert_quantizer, tflite_anatomy

OUT = helpers.OUTPUT_DIR / "06_beyond_tfmot"
NOTEBOOK = helpers.ROOT / "notebooks" / "06_beyond_tfmot.ipynb"
RUN_FIRST = ("run notebooks/06_beyond_tfmot.ipynb first (e.g. `pytest notebooks/06_beyond_tfmot."
             "ipynb` or Run All in JupyterLab), without COURSE_QUICK=1")
MIN_ACCURACY, MAX_GZIPPED = 0.988, 7000  # notebook 04's target (its summary.json's "target")
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

    summary = json.loads(_require(OUT / "summary.json").read_text())
    if summary.get("quick_run"):
        pytest.fail(f"summary.json comes from a COURSE_QUICK=1 run: {RUN_FIRST}")
    assert summary["final_model"] == "full_int8_stripped.tflite", "the final model is stripped like 04's"
    data = _require(OUT / summary["final_model"]).read_bytes()
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
    row = next(r for r in summary["stages"] if r["file"] == summary["final_model"])
    assert row["accuracy"] == pytest.approx(accuracy, abs=1e-4), "summary.json's accuracy differs"
    assert row["gzipped_bytes"] == gzipped
    assert all(t.name is None for t in tflite_anatomy.read_model(data).subgraphs[0].tensors), "names left"


@pytest.mark.after_notebooks
def test_every_latency_in_the_summary_was_timed_in_one_run_on_the_named_cpu():
    summary = json.loads(_require(OUT / "summary.json").read_text())
    cpu = summary["timed_on"]
    assert cpu == litert_quantizer.cpu_name(), "summary.json was timed on another machine"
    timed = [r for r in summary["stages"] if r.get("latency_us") is not None]
    assert timed and all(r["timed_on"] == cpu for r in timed), "rows timed on different machines"
    assert all(r.get("latency_us") is None for r in summary["stages"] if r.get("timed_on") is None)


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


def test_no_latency_table_mixes_machines_and_each_names_the_cpu():
    """A cell that prints a latency column times every row it prints in that cell (no latency read
    from another notebook's summary, which another machine may have timed) and prints the CPU."""
    latency_cells = [c.source for c in _code_cells() if "µs" in c.source]
    assert latency_cells, "the notebook should have a latency table"
    for source in latency_cells:
        first = source.splitlines()[0]
        assert "litert_quantizer.cpu_name()" in source or "{CPU}" in source, f"names no CPU: {first}"
        assert "metrics.litert_latency(" in source, f"prints latencies it did not time: {first}"
        assert re.search(r'r\["latency_us"\] = ', source), f"keeps another run's latency_us: {first}"


def test_matching_model_pairs_a_row_only_with_its_own_file(float_model, tmp_path):
    from helpers import metrics

    row = {"bytes": metrics.file_size(float_model), "gzipped_bytes": metrics.gzipped_size(float_model)}
    assert litert_quantizer.matching_model(float_model, row) == float_model
    assert litert_quantizer.matching_model(float_model, row | {"bytes": row["bytes"] + 1}) is None
    assert litert_quantizer.matching_model(tmp_path / "missing.tflite", row) is None
    with pytest.raises(ValueError, match="stage-table dict"):
        litert_quantizer.matching_model(float_model, {"bytes": 3})
    assert "logical CPUs" in litert_quantizer.cpu_name()


def test_what_the_notebook_says_about_keras3_quantization_holds_for_the_pinned_keras():
    """Section 7: model.quantize's modes, fake quantization with straight-through gradients, and
    convolutions left float by model.quantize."""
    import keras
    import tensorflow as tf
    from keras.src.dtype_policies.dtype_policy import QUANTIZATION_MODES

    assert {"int8", "int4", "float8", "gptq", "awq"} <= set(QUANTIZATION_MODES)
    x = tf.Variable([0.3, -0.6, 2.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(keras.quantizers.fake_quant_with_min_max_vars(x, -1.0, 1.0, num_bits=8))
    assert tape.gradient(y, x).numpy().tolist() == [1.0, 1.0, 0.0]  # straight through inside the range
    model = keras.Sequential([keras.layers.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="conv"),
                              keras.layers.Flatten(), keras.layers.Dense(3, name="dense")])
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        model.quantize("int8")
    assert any("Layer Conv2D does not have a `quantize` method" in str(w.message) for w in said)
    assert model.get_layer("dense").quantization_mode == "int8"
    assert getattr(model.get_layer("conv"), "quantization_mode", None) is None


def test_the_hadamard_recipe_is_block_diagonal_with_octav(float_model):
    """Section 5.2: the hr recipe rotates with the largest power-of-two block dividing the input
    dimension (144 = 9 x 16 here) and chooses its ranges with OCTAV, so OCTAV alone isolates it."""
    import inspect

    from ai_edge_quantizer import recipe
    from ai_edge_quantizer.algorithms.uniform_quantize import hadamard_rotation

    assert "octav.get_tensor_quant_params" in inspect.getsource(hadamard_rotation.get_tensor_quant_params)
    rules = recipe.dynamic_wi4c_hr_afp32(operation_name=recipe.TFLOperationName.FULLY_CONNECTED)
    rotated = litert_quantizer.quantize(float_model, recipe.dynamic_wi8_afp32() + rules)
    shapes = {r["shape"]: r["type"] for r in litert_quantizer.weight_tensors(rotated)}
    assert shapes.get((16, 16)) == "float32" and shapes[(10, 144)] == "int4"
    octav = recipe.dynamic_wi4c_afp32(algorithm_key=recipe.AlgorithmName.OCTAV)
    assert octav[0]["op_config"]["weight_tensor_config"]["num_bits"] == 4
    assert litert_quantizer.weight_tensors(litert_quantizer.quantize(float_model, octav))


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
