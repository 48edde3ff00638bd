"""Keep the libraries' plumbing off the learner's screen: native log lines and loader chatter.

TensorFlow's C++ code writes absl/oneDNN/CUDA lines to file descriptor 2 while it loads, even with
``TF_CPP_MIN_LOG_LEVEL`` set, and LiteRT announces its XNNPACK delegate there; Jupyter shows both
in red under the cell. Python's ``contextlib.redirect_stderr`` cannot catch them (they bypass
``sys.stderr``), so this module redirects the descriptor itself, and replays what it caught when
the quiet code fails, so a real error message is never lost.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys
import tempfile


@contextlib.contextmanager
def native_stderr():
    """Silence what native code writes to file descriptor 2; replay it if the block raises."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            caught.seek(0)
            sys.stderr.write(caught.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _QuietTensorFlowLoader(importlib.abc.Loader):
    """Run TensorFlow's own loader with file descriptor 2 silenced."""

    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def __getattr__(self, name: str):
        return getattr(self.loader, name)  # is_package, get_resource_reader, ...

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        with native_stderr():
            self.loader.exec_module(module)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Find `tensorflow` as usual, but load it quietly; steps aside after the first import."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietTensorFlowLoader(spec.loader)
        return spec


def quiet_tensorflow_import() -> None:
    """Make the first `import tensorflow` (by anyone: helpers, TFMOT, a notebook) print nothing."""
    if "tensorflow" in sys.modules:
        return
    if not any(isinstance(finder, _QuietTensorFlowFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())
