"""The language a notebook is read in, and the checks' messages in it (the standard `gettext` way).

The Chinese notebooks (notebooks_zh/) run the same code cells as the English ones, byte for byte,
so a check cannot be told the language by its caller: it finds it out, in this order:

1. `COURSE_LANGUAGE` in the environment (`en` or `zh_CN`), for anyone who wants to choose;
2. the notebook's path, which Jupyter Server gives the kernel as `JPY_SESSION_NAME`;
3. the kernel's working folder, which JupyterLab, nbval and nbclient set to the notebook's folder;
4. on Colab, the open notebook's metadata (`course_language`, written by `coursetools translate`);
5. otherwise English.

Messages are English in the code (`_("...")`, with `{names}` filled in by `str.format` after
translation); the Chinese catalog is helpers/locale/zh_CN/LC_MESSAGES/checks.po, compiled to the
.mo file beside it that Python's `gettext` reads (`coursetools messages` extracts, updates and
compiles them with Babel; a test fails when the catalog lacks a message or the .mo is stale).
"""

from __future__ import annotations

import functools
import gettext
import os
import re
import sys
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "checks"
LANGUAGES = ("en", "zh_CN")
CHINESE_FOLDER = "notebooks_zh"


@functools.cache
def _colab_language() -> str | None:
    """The open Colab notebook's `course_language` metadata, or None (not on Colab, or no answer);
    asked once per kernel."""
    if "google.colab" not in sys.modules:
        return None
    try:
        from google.colab import _message  # Colab's own front-end channel

        notebook = _message.blocking_request("get_ipynb", timeout_sec=5)["ipynb"]
        return notebook.get("metadata", {}).get("course_language")
    except Exception:  # noqa: BLE001 (any failure here means: we cannot tell)
        return None


def notebook_language() -> str:
    """The language of the notebook this kernel runs: "zh_CN" for the Chinese edition, else "en"."""
    chosen = os.environ.get("COURSE_LANGUAGE", "").replace("-", "_")
    if chosen:
        if chosen not in LANGUAGES:
            raise ValueError(f"COURSE_LANGUAGE must be one of {LANGUAGES}, got {chosen!r}")
        return chosen
    session = os.environ.get("JPY_SESSION_NAME", "")
    if session:
        return "zh_CN" if CHINESE_FOLDER in Path(session).parts else "en"
    if Path.cwd().name == CHINESE_FOLDER:
        return "zh_CN"
    return "zh_CN" if (_colab_language() or "").replace("-", "_") == "zh_CN" else "en"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The checks' catalog for `language` (English: the messages as written)."""
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])


def _(message: str) -> str:
    """`message` in the notebook's language (the English text when the catalog lacks it)."""
    return translations(notebook_language()).gettext(message)


_EXERCISE = re.compile(r"^Exercise (\d+\.\d+) \((\w+)\)$")


def exercise_label(name: str) -> str:
    """An exercise's name as checks print it ("Exercise 2.1 (magnitude_prune)") in the notebook's language."""
    match = _EXERCISE.match(name)
    if not match:
        return name
    return _("Exercise {number} ({function})").format(number=match.group(1), function=match.group(2))
