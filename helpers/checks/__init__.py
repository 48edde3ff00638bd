"""Exercise checks, one module per notebook. Each check prints a pass message, or raises
AssertionError saying what is wrong with a hint (never the answer); an exercise not attempted yet
raises NotAttemptedError. `from helpers import checks; checks.check_<name>(...)` finds them all."""

from . import applications, background, beyond_tfmot, mnist_project, pruning, quantization  # noqa: E402
from ._common import NotAttemptedError, call_answer, passed, require_answer
from .applications import *  # noqa: F401,F403
from .background import *  # noqa: F401,F403
from .beyond_tfmot import *  # noqa: F401,F403
from .mnist_project import *  # noqa: F401,F403
from .pruning import *  # noqa: F401,F403
from .quantization import *  # noqa: F401,F403

LESSONS = {"01": background, "02": pruning, "03": quantization, "04": mnist_project,
           "05": applications, "06": beyond_tfmot}
"""The checks module of each notebook, by its number."""

__all__ = ["LESSONS", "NotAttemptedError", "call_answer", "passed", "require_answer"] + [
    name for module in LESSONS.values() for name in vars(module) if name.startswith("check_")]
