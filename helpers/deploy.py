"""TFLite conversion and the LiteRT interpreter (the maintained successor of tf.lite.Interpreter)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from helpers._validate import positive_int
from helpers.quiet import native_stderr
from helpers.training import as_float

TFLiteModel = bytes | str | os.PathLike
OPTIMIZATIONS = (None, "dynamic", "float16", "int8")


def read_tflite(model: TFLiteModel) -> bytes:
    """Return the bytes of a .tflite model given as bytes or as a path to an existing file."""
    if isinstance(model, bytes | bytearray):
        data = bytes(model)
    elif isinstance(model, str | os.PathLike):
        path = Path(model)
        if not path.is_file():
            raise FileNotFoundError(f"TFLite model file not found: {path}")
        data = path.read_bytes()
    else:
        raise TypeError(f"model must be .tflite bytes or a path, got {type(model).__name__}")
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ValueError("model is not a TFLite flatbuffer (the bytes 4-8 are not 'TFL3')")
    return data


def to_tflite(model, optimization: str | None = None, representative_images=None) -> bytes:
    """Convert a Keras model to TFLite bytes.

    optimization: None (float32), "dynamic" (int8 weights, float activations), "float16"
    (float16 weights), or "int8" (full integer: int8 weights, activations, input and output;
    needs `representative_images`, e.g. a few hundred training images).

    Taught in notebook 03, §7.
    """
    from helpers import tf

    return convert(tf.lite.TFLiteConverter.from_keras_model(model), optimization,
                   representative_images)


def convert(converter, optimization: str | None = None, representative_images=None) -> bytes:
    """Set a `tf.lite.TFLiteConverter` up for `optimization` (see `to_tflite`) and convert,
    keeping the converter's native log lines off the screen (errors still raise).

    The one converter set-up of the course: `to_tflite` (a Keras model) and
    `pipeline.to_tflite_batch_one` (a function with the batch fixed to 1) both use it."""
    from helpers import tf

    if optimization not in OPTIMIZATIONS:
        raise ValueError(f"optimization must be one of {OPTIMIZATIONS}, got {optimization!r}")
    if optimization is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if optimization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if optimization == "int8":
        if representative_images is None or len(representative_images) == 0:
            raise ValueError("optimization='int8' needs representative_images (a few hundred "
                             "training images), got none")
        images = as_float(representative_images)
        converter.representative_dataset = lambda: ([image[None, ...]] for image in images)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    with native_stderr(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
        return converter.convert()


def save_tflite(data: bytes, path: str | os.PathLike) -> Path:
    """Write TFLite bytes to `path` (creating folders) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(read_tflite(data))
    return path


def make_interpreter(model: TFLiteModel, num_threads: int = 1):
    """Return an allocated LiteRT interpreter for a .tflite model (bytes or path).

    Use it instead of `Interpreter(...)`: it keeps LiteRT's "Created TensorFlow Lite XNNPACK
    delegate" line (written once per process, by the first allocation) off the screen."""
    from ai_edge_litert.interpreter import Interpreter

    num_threads = positive_int("num_threads", num_threads)
    interpreter = Interpreter(model_content=read_tflite(model), num_threads=num_threads)
    with native_stderr():
        interpreter.allocate_tensors()
    return interpreter


def prepare_input(images: np.ndarray, detail: dict) -> np.ndarray:
    """Scale images to [0, 1] and, for an integer input tensor, quantize them with its parameters.

    Taught in notebook 04, §1.
    """
    x = as_float(images)
    dtype = detail["dtype"]
    if np.issubdtype(dtype, np.integer):
        scale, zero_point = detail["quantization"]
        info = np.iinfo(dtype)
        x = np.clip(np.round(x / scale + zero_point), info.min, info.max)
    return x.astype(dtype)


def classify_each(images: np.ndarray, detail: dict, run: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Check `images` (N, H, W) against the model's input `detail`, prepare them as its input
    (prepare_input), and return the argmax of `run(one_image_batch)` for each image, one at a time:
    the loop that every runtime's predict shares (LiteRT's here, TFLM's in helpers.micro)."""
    expected = tuple(int(d) for d in detail["shape"][1:])
    if tuple(np.shape(images)[1:]) != expected:
        raise ValueError(f"images must have shape (N, {', '.join(map(str, expected))}), "
                         f"got {np.shape(images)}")
    x = prepare_input(images, detail)
    return np.array([int(np.argmax(run(x[i : i + 1]))) for i in range(len(x))], dtype=np.int64)


def tflite_predict(model: TFLiteModel, images: np.ndarray) -> np.ndarray:
    """Return the predicted class of every image, running the model one image at a time."""
    interpreter = make_interpreter(model)
    detail = interpreter.get_input_details()[0]
    output_index = interpreter.get_output_details()[0]["index"]

    def run(x: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(detail["index"], x)
        interpreter.invoke()
        return interpreter.get_tensor(output_index)[0]

    return classify_each(images, detail, run)


C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if "
    "inline int long register restrict return short signed sizeof static struct switch typedef "
    "union unsigned void volatile while alignas alignof bool true false".split()
)


def _c_identifier(name: str) -> str:
    """Return `name` if it is a valid C identifier that is not a keyword; raise ValueError otherwise."""
    import re

    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) \
            or name in C_KEYWORDS:
        raise ValueError(f"name must be a valid C identifier (letters, digits, _; not starting "
                         f"with a digit; not a keyword), got {name!r}")
    return name


def to_c_array(data: bytes, name: str = "g_model", bytes_per_line: int = 12, header: str | None = None) -> str:
    """Return C++ source defining `data` as an aligned byte array plus its length (like `xxd -i`).

    The array is `alignas(16) const unsigned char <name>[]` (TFLite Micro wants aligned model
    data) and the length is `const unsigned int <name>_len`. With `header` (the file name of the
    declarations, see `c_header`), the source includes it first, as TFLite Micro's own generator
    does: a namespace-scope `const` has internal linkage in C++, so only the header's `extern`
    declarations, seen before the definitions, make the array visible to other files.

    Taught in notebook 05, §2.
    """
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    name = _c_identifier(name)
    bytes_per_line = positive_int("bytes_per_line", bytes_per_line)
    if header is not None and (not isinstance(header, str) or not header.endswith(".h")
                               or any(c in header for c in '"<>\n')):
        raise ValueError(f"header must be a header file name ending in .h, got {header!r}")
    lines = [
        ", ".join(f"0x{b:02x}" for b in data[i : i + bytes_per_line])
        for i in range(0, len(data), bytes_per_line)
    ]
    body = ",\n  ".join(lines)
    include = f'#include "{header}"\n\n' if header else ""
    return (
        f"// {len(data)} bytes, generated by helpers.deploy.to_c_array\n"
        f"{include}"
        f"alignas(16) const unsigned char {name}[] = {{\n  {body}\n}};\n"
        f"const unsigned int {name}_len = {len(data)};\n"
    )


def c_header(name: str = "g_model") -> str:
    """Return the C++ header declaring the array that `to_c_array(data, name)` defines."""
    name = _c_identifier(name)
    return (
        "// generated by helpers.deploy.c_header\n"
        "#pragma once\n\n"
        f"extern const unsigned char {name}[];\n"
        f"extern const unsigned int {name}_len;\n"
    )


def write_c_array(data: bytes, stem: str | os.PathLike, name: str = "g_model") -> tuple[Path, Path]:
    """Write `<stem>.cc` (the array, including its header) and `<stem>.h` (the declarations a
    firmware includes); return the two paths. The folder of `stem` must exist.

    Taught in notebook 05, §2.
    """
    if not isinstance(stem, str | os.PathLike):
        raise TypeError(f"stem must be a path without suffix, got {type(stem).__name__}")
    stem = Path(stem)
    if not stem.parent.is_dir():
        raise FileNotFoundError(f"stem's folder does not exist: {stem.parent}")
    source_path, header_path = stem.with_name(stem.name + ".cc"), stem.with_name(stem.name + ".h")
    source = to_c_array(data, name, header=header_path.name)
    header_path.write_text(c_header(name))
    source_path.write_text(source)
    return source_path, header_path
