"""What a microcontroller gets: the C array links into a C++ program (g++), and TensorFlow Lite for
Microcontrollers (the `tflite-micro` interpreter) runs an int8 model with LiteRT's predictions in
the arena it reports, lists the operators to register, and refuses what it cannot run, saying why."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

import helpers
from helpers import deploy, micro

GXX = shutil.which("g++")
NEEDS_GXX = pytest.mark.skipif(GXX is None, reason="g++ is not installed: apt-get install g++ "
                                                  "(.ci/run installs it) to compile the C array")
NEEDS_TFLM = pytest.mark.skipif(not micro.AVAILABLE, reason=micro.MISSING)

MAIN_CC = r"""
#include <cstdint>
#include <cstdio>
#include "model_data.h"

int main() {
  unsigned long sum = 0;
  for (unsigned int i = 0; i < g_model_len; ++i) sum += g_model[i];
  std::printf("%u %.4s %lu %lu\n", g_model_len, reinterpret_cast<const char*>(g_model + 4), sum,
              static_cast<unsigned long>(reinterpret_cast<std::uintptr_t>(g_model) % 16));
  return 0;
}
"""


@pytest.fixture(scope="module")
def tiny_model(mnist):
    """A small MLP trained briefly (far above chance, so its predictions differ between images)."""
    from helpers import models, training

    (x_train, y_train), (x_test, y_test) = mnist
    training.set_seed(3)
    model = models.build_mlp(hidden_units=16)
    training.fit(model, x_train[:6000], y_train[:6000], epochs=1, verbose=0)
    return model, x_train[:200], x_test[:2000], y_test[:2000]


@pytest.fixture(scope="module")
def tiny_int8(tiny_model) -> bytes:
    model, calibration, _, _ = tiny_model
    return deploy.to_tflite(model, "int8", calibration)


def _build(folder, sources) -> subprocess.CompletedProcess:
    (folder / "main.cc").write_text(MAIN_CC)
    return subprocess.run([GXX, "-std=c++17", "-Wall", "-Werror", "-o", str(folder / "main"),
                           str(folder / "main.cc"), *map(str, sources)],
                          capture_output=True, text=True, timeout=120)


@NEEDS_GXX
def test_c_array_pair_compiles_links_and_holds_the_model(tmp_path, tiny_int8):
    source, header = deploy.write_c_array(tiny_int8, tmp_path / "model_data", "g_model")
    assert (source.name, header.name) == ("model_data.cc", "model_data.h")
    built = _build(tmp_path, [source])
    assert built.returncode == 0, f"g++ failed:\n{built.stderr}"
    run = subprocess.run([str(tmp_path / "main")], capture_output=True, text=True, timeout=30, check=True)
    length, identifier, total, misalignment = run.stdout.split()
    assert int(length) == len(tiny_int8)
    assert identifier == "TFL3" == tiny_int8[4:8].decode()
    assert int(total) == sum(tiny_int8), "the array's bytes differ from the model's"
    assert int(misalignment) == 0, "the array is not 16-byte aligned"


@NEEDS_GXX
def test_control_without_the_include_the_array_does_not_link(tmp_path, tiny_int8):
    """The defect the include fixes: a namespace-scope const has internal linkage in C++."""
    (tmp_path / "model_data.h").write_text(deploy.c_header("g_model"))
    (tmp_path / "model_data.cc").write_text(deploy.to_c_array(tiny_int8, "g_model"))  # no header=
    built = _build(tmp_path, [tmp_path / "model_data.cc"])
    assert built.returncode != 0 and "undefined reference to `g_model" in built.stderr


def test_c_array_includes_its_header_and_validates_it():
    assert deploy.to_c_array(b"\x01", "g_m", header="m.h").splitlines()[1] == '#include "m.h"'
    assert "#include" not in deploy.to_c_array(b"\x01", "g_m")
    assert "extern const unsigned char g_m[];" in deploy.c_header("g_m")
    for bad in ["m.cc", 'a".h', "", 3]:
        with pytest.raises(ValueError, match="header"):
            deploy.to_c_array(b"\x01", "g_m", header=bad)
    with pytest.raises(ValueError, match="C identifier"):
        deploy.c_header("int")


def test_write_c_array_needs_an_existing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder"):
        deploy.write_c_array(b"\x01", tmp_path / "missing" / "model_data")


@pytest.mark.parametrize("operator, method", [
    ("CONV_2D", "AddConv2D"), ("DEPTHWISE_CONV_2D", "AddDepthwiseConv2D"),
    ("FULLY_CONNECTED", "AddFullyConnected"), ("MAX_POOL_2D", "AddMaxPool2D"),
    ("STRIDED_SLICE", "AddStridedSlice"), ("RESHAPE", "AddReshape")])
def test_resolver_method_follows_tflm_naming(operator, method):
    assert micro.resolver_method(operator) == method


@pytest.mark.parametrize("bad", ["conv_2d", "", None, "CONV 2D"])
def test_resolver_method_rejects_non_operator_names(bad):
    with pytest.raises(ValueError, match="operator"):
        micro.resolver_method(bad)


@NEEDS_TFLM
def test_tflm_predicts_like_litert_in_the_arena_it_reports(tiny_model, tiny_int8):
    _, _, x_test, y_test = tiny_model
    arena = micro.arena_bytes(tiny_int8)
    assert arena["total"] == arena["planned"] + arena["persistent"]
    # The int8 input (784 B) and the hidden layer's output must both be live while it runs.
    assert 784 + 16 <= arena["planned"] < 4 * 1024 and 0 < arena["persistent"] < 4 * 1024
    tflm = micro.predict(tiny_int8, x_test, arena=arena["total"])
    litert = deploy.tflite_predict(tiny_int8, x_test)
    assert np.mean(tflm == y_test) == np.mean(litert == y_test) > 0.5  # chance is 0.1
    assert np.array_equal(tflm, litert)
    with pytest.raises(micro.MicroError, match="allocate"):
        micro.interpreter(tiny_int8, arena["total"] - 1)


@NEEDS_TFLM
def test_op_resolver_lists_each_operator_once(tiny_int8):
    from helpers import tflite_anatomy

    assert sorted(set(tflite_anatomy.operator_names(tiny_int8))) == ["FULLY_CONNECTED", "RESHAPE"]
    assert micro.op_resolver(tiny_int8) == ["AddFullyConnected", "AddReshape"]


@NEEDS_TFLM
def test_tflm_refuses_a_dynamic_range_model_and_says_why(tiny_model):
    dynamic = deploy.to_tflite(tiny_model[0], "dynamic")
    with pytest.raises(micro.MicroError, match="FULLY_CONNECTED.*failed to prepare") as error:
        micro.interpreter(dynamic)
    assert "FLOAT32" in str(error.value) and "INT8" in str(error.value)


@NEEDS_TFLM
def test_micro_validates_its_arguments(tiny_int8):
    with pytest.raises(ValueError, match="arena_bytes"):
        micro.interpreter(tiny_int8, 0)
    with pytest.raises(ValueError, match="images must have shape"):
        micro.predict(tiny_int8, np.zeros((2, 27, 28), np.uint8))


@NEEDS_TFLM
@pytest.mark.after_notebooks
def test_notebook_04_final_model_runs_under_tflm_on_the_full_test_set(mnist):
    """All 10,000 test images (about 5-15 s): TFLM's predictions are LiteRT's, in a small arena."""
    out = helpers.OUTPUT_DIR / "04_mnist_project"
    final, int4 = out / "final_model.tflite", out / "final_model_int4.tflite"
    if not (final.is_file() and int4.is_file()):
        pytest.fail(f"{out} lacks notebook 04's models: run notebooks/04_mnist_project.ipynb first")
    (_, _), (x_test, y_test) = mnist
    arena = micro.arena_bytes(final)
    assert 8 * 1024 <= arena["total"] <= 16 * 1024, f"arena {arena['total']:,} B"
    tflm = micro.predict(final, x_test, arena=arena["total"])
    litert = deploy.tflite_predict(final, x_test)
    assert len(tflm) == 10_000 and np.array_equal(tflm, litert)
    assert np.mean(tflm == y_test) >= 0.988
    with pytest.raises(micro.MicroError, match="DEQUANTIZE"):
        micro.interpreter(int4)
