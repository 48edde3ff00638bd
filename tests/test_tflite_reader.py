"""Reading a .tflite: LiteRT's own reader, so no TensorFlow import; and every helper that reads a
file works on one whose names were stripped (what notebook 04 ships), with the same results."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

import helpers
from helpers import deploy, keras, litert_quantizer, metrics, pipeline, tflite_anatomy

IMAGES = np.random.default_rng(0).random((32, 8, 8)).astype(np.float32)


def _model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.layers.Reshape((8, 8, 1), input_shape=(8, 8), name="reshape"),
        keras.layers.Conv2D(4, 3, activation="relu", bias_initializer="random_uniform",
                            name="conv"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(10, bias_initializer="random_uniform", name="logits"),
    ])


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, bytes]:
    """A full-int8 file (converter), an int4-weight file (ai-edge-quantizer, DEQUANTIZE
    operators), and each of them with its names stripped by the course's strip_names."""
    model = _model()
    named = {"int8": pipeline.to_tflite_batch_one(model, IMAGES),
             "int4": litert_quantizer.quantize(pipeline.to_tflite_batch_one(model),
                                               _recipe().weight_only_wi4_afp32())}
    return named | {f"{kind} stripped": tflite_anatomy.strip_names(data)
                    for kind, data in named.items()}


def _recipe():
    from ai_edge_quantizer import recipe

    return recipe


def _without_names(rows: list[dict]) -> list[dict]:
    return [{key: value for key, value in row.items() if key != "name"} for row in rows]


def test_stripping_removes_every_name_and_keeps_the_rest(files):
    for kind in ("int8", "int4"):
        named, stripped = files[kind], files[f"{kind} stripped"]
        assert len(stripped) < len(named)
        assert any(row["name"] for row in tflite_anatomy.constant_tensors(named))
        assert all(row["name"] == "" for row in tflite_anatomy.constant_tensors(stripped))
        assert tflite_anatomy.strip_names(stripped) == stripped, "stripping twice changes nothing"
        x = IMAGES[:8]
        np.testing.assert_array_equal(deploy.tflite_predict(stripped, x),
                                      deploy.tflite_predict(named, x))


# Every helper that reads a .tflite, with what must not depend on the names.
READERS = {
    "tflite_anatomy.operator_names": tflite_anatomy.operator_names,
    "tflite_anatomy.constant_buffers": lambda data: {
        part: len(indices) for part, indices in tflite_anatomy.constant_buffers(data).items()},
    "tflite_anatomy.constant_tensors": lambda data: _without_names(
        tflite_anatomy.constant_tensors(data)),
    "tflite_anatomy.tensor_values": lambda data: [
        (row["part"], row["type"], row["values"].tolist())
        for row in tflite_anatomy.tensor_values(data)],
    "tflite_anatomy.tensor_bytes": tflite_anatomy.tensor_bytes,
    "litert_quantizer.weight_tensors": lambda data: _without_names(
        litert_quantizer.weight_tensors(data)),
    "litert_quantizer.io_types": litert_quantizer.io_types,
    "metrics.supports_batch": metrics.supports_batch,
    "metrics.tflite_accuracy": lambda data: metrics.tflite_accuracy(data, IMAGES,
                                                                    np.arange(32) % 10),
    "deploy.tflite_predict": lambda data: deploy.tflite_predict(data, IMAGES).tolist(),
}


@pytest.mark.parametrize("kind", ["int8", "int4"])
@pytest.mark.parametrize("reader", sorted(READERS))
def test_every_reader_gives_the_same_answer_on_a_stripped_file(files, kind, reader):
    read = READERS[reader]
    assert read(files[f"{kind} stripped"]) == read(files[kind])


def test_weight_tensors_of_a_stripped_file_have_empty_names(files):
    """Regression: weight_tensors raised AttributeError (`None.decode()`) on a stripped file."""
    rows = litert_quantizer.weight_tensors(files["int4 stripped"])
    kernels = {row["shape"]: row for row in rows if row["part"] == "weights"}
    assert set(kernels) == {(4, 3, 3, 1), (10, 144)} and all(r["name"] == "" for r in rows)
    assert kernels[(10, 144)]["type"] == "int4" and kernels[(10, 144)]["bytes"] == 720


def test_int8_weight_sparsity_and_stored_codes_survive_stripping(files):
    sparsity = tflite_anatomy.weight_sparsity(files["int8"])
    assert 0 <= sparsity < 1
    assert tflite_anatomy.weight_sparsity(files["int8 stripped"]) == sparsity
    assert pipeline.tflite_weight_sparsity is tflite_anatomy.weight_sparsity  # notebook 04's name
    with pytest.raises(ValueError, match="no int8 weight tensors"):
        tflite_anatomy.weight_sparsity(files["int4 stripped"])


def test_byte_breakdown_of_a_stripped_file_has_no_names_and_adds_up(files):
    for kind in ("int8 stripped", "int4 stripped"):
        rows = {row["part"]: row["bytes"] for row in tflite_anatomy.byte_breakdown(files[kind])}
        assert rows["tensor names"] == 0 and sum(rows.values()) == len(files[kind])
        kernel_bytes = sum(row["bytes"] for row in tflite_anatomy.constant_tensors(files[kind])
                           if row["part"] == "weights")
        assert kernel_bytes <= rows["weights"] < kernel_bytes + 64


def test_calibration_on_a_stripped_file_says_why_it_cannot(files):
    with pytest.raises(ValueError, match="no signature"):
        litert_quantizer.signature_input(files["int8 stripped"])


def test_the_int4_weights_are_found_through_their_dequantize_operators(files):
    """Weights are told by the flatbuffer: the tensors an operator reads as its filter input,
    here through DEQUANTIZE; the int4 codes unpack to the int8 file's layout."""
    assert tflite_anatomy.operator_names(files["int4"]).count("DEQUANTIZE") == 2
    rows = [row for row in tflite_anatomy.tensor_values(files["int4 stripped"])
            if row["part"] == "weights"]
    assert sorted(row["shape"] for row in rows) == [(4, 3, 3, 1), (10, 144)]
    for row in rows:
        assert row["type"] == "INT4" and row["bytes"] == math.ceil(math.prod(row["shape"]) / 2)
        assert row["values"].size == math.prod(row["shape"])
        assert row["values"].min() >= -8 and row["values"].max() <= 7


# The subprocess reads each file with every reading helper, then reports what it imported.
_READ_WITHOUT_TENSORFLOW = """
import json, sys
import numpy as np
import helpers
from helpers import deploy, litert_quantizer, metrics, tflite_anatomy
results = {}
for path in sys.argv[1:]:
    results[path] = {
        "operators": tflite_anatomy.operator_names(path),
        "constant_buffers": tflite_anatomy.constant_buffers(path),
        "constant_tensors": len(tflite_anatomy.constant_tensors(path)),
        "tensor_values": len(tflite_anatomy.tensor_values(path)),
        "tensor_bytes": tflite_anatomy.tensor_bytes(path),
        "byte_breakdown": sum(r["bytes"] for r in tflite_anatomy.byte_breakdown(path)),
        "stripped": len(tflite_anatomy.strip_names(path)),
        "weight_tensors": len(litert_quantizer.weight_tensors(path)),
        "io_types": litert_quantizer.io_types(path),
        "supports_batch": metrics.supports_batch(path),
        "latency": metrics.litert_latency(path, runs=2, warmup=0)["runs"],
        "predict": deploy.tflite_predict(path, np.zeros((2, 8, 8), np.float32)).tolist(),
    }
    if "int8" in path:
        results[path]["weight_sparsity"] = tflite_anatomy.weight_sparsity(path)
heavy = ("tensorflow", "tf_keras", "keras", "tensorflow_model_optimization")
print(json.dumps({"results": results, "imported": sorted(m for m in heavy if m in sys.modules)}))
"""


def test_reading_a_tflite_imports_no_tensorflow(files, tmp_path):
    paths = []
    for kind, data in files.items():
        paths.append(tmp_path / f"{kind.replace(' ', '_')}.tflite")
        paths[-1].write_bytes(data)
    done = subprocess.run([sys.executable, "-c", _READ_WITHOUT_TENSORFLOW, *map(str, paths)],
                          capture_output=True, text=True, timeout=300, cwd=helpers.ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["imported"] == [], f"reading a .tflite imported {report['imported']}"
    assert len(report["results"]) == len(paths)
    for path in paths:
        found = report["results"][str(path)]
        assert found["byte_breakdown"] == found["stripped"] or "stripped" not in path.name
        assert found["constant_tensors"] == found["tensor_values"] > 0
        assert found["tensor_bytes"]["weights"] > 0 and found["latency"] == 2
        assert ("weight_sparsity" in found) == ("int8" in path.name)
