"""The checks speak the notebook's language: helpers.i18n finds it, the gettext catalog serves it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from coursetools import messages
from coursetools.paths import NOTEBOOK_DIR, ROOT, ZH_NOTEBOOK_DIR
from helpers import checks, i18n

EXERCISE = "Exercise 2.1 (magnitude_prune)"


@pytest.fixture
def language(monkeypatch, tmp_path):
    """Run with no language hint at all, from a neutral folder (each test then sets one hint)."""
    for name in ("COURSE_LANGUAGE", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_the_catalog_translates_every_message_and_its_compiled_file_is_current():
    assert messages.problems("zh_CN") == []


def test_the_catalog_check_finds_a_message_without_translation(monkeypatch):
    wanted = messages.template()
    wanted.add("{exercise}: a message nobody translated, about {what}.")
    monkeypatch.setattr(messages, "template", lambda: wanted)
    assert messages.problems("zh_CN") == [
        "missing: '{exercise}: a message nobody translated, about {what}.' (run `coursetools messages`)"]


def test_a_translation_that_drops_or_renames_a_field_is_caught(monkeypatch):
    catalog = messages.read_catalog("zh_CN")
    catalog["{exercise}: expected a function, got {type}."].string = "{exercise}：这里应当是一个函数。"
    monkeypatch.setattr(messages, "read_catalog", lambda language: catalog)
    found = messages.problems("zh_CN")
    assert any(line.startswith("fields differ from the English: '{exercise}: expected a function") for line in found)


@pytest.mark.parametrize(("hint", "value", "expected"), [
    ("COURSE_LANGUAGE", "zh_CN", "zh_CN"), ("COURSE_LANGUAGE", "zh-CN", "zh_CN"), ("COURSE_LANGUAGE", "en", "en"),
    ("JPY_SESSION_NAME", str(ZH_NOTEBOOK_DIR / "02_pruning.ipynb"), "zh_CN"),
    ("JPY_SESSION_NAME", str(NOTEBOOK_DIR / "02_pruning.ipynb"), "en"),
])
def test_the_language_comes_from_the_environment_or_the_notebooks_path(language, hint, value, expected):
    language.setenv(hint, value)
    assert i18n.notebook_language() == expected


def test_the_language_comes_from_the_working_folder_when_nothing_else_says(language, tmp_path):
    assert i18n.notebook_language() == "en"
    folder = tmp_path / "notebooks_zh"
    folder.mkdir()
    language.chdir(folder)
    assert i18n.notebook_language() == "zh_CN"


def test_an_unknown_language_is_refused_with_the_choices(language):
    language.setenv("COURSE_LANGUAGE", "fr")
    with pytest.raises(ValueError, match=r"COURSE_LANGUAGE must be one of \('en', 'zh_CN'\), got 'fr'"):
        i18n.notebook_language()


def test_a_check_passes_and_refuses_in_chinese_in_a_chinese_notebook(language, capsys):
    language.setenv("COURSE_LANGUAGE", "zh_CN")
    checks.passed(EXERCISE)
    assert capsys.readouterr().out == "✅ 练习 2.1（magnitude_prune）通过。\n"
    with pytest.raises(checks.NotAttemptedError, match=r"^练习 2.1（magnitude_prune）还没有作答"):
        checks.require_answer(None, EXERCISE)
    with pytest.raises(AssertionError, match=r"^练习 2.1（magnitude_prune）：这里应当是一个函数，得到的却是 int。$"):
        checks.call_answer(3, EXERCISE)


def test_the_same_check_speaks_english_in_the_english_notebook(language, capsys):
    language.setenv("JPY_SESSION_NAME", str(NOTEBOOK_DIR / "02_pruning.ipynb"))
    checks.passed(EXERCISE, "Well done.")
    assert capsys.readouterr().out == "✅ Exercise 2.1 (magnitude_prune) passed. Well done.\n"


def test_a_kernel_started_in_the_chinese_folder_prints_chinese(tmp_path):
    folder = tmp_path / "notebooks_zh"
    folder.mkdir()
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from helpers import checks; checks.passed({EXERCISE!r})"
    done = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and done.stdout == "✅ 练习 2.1（magnitude_prune）通过。\n", done.stderr[-2000:]
