"""The Chinese edition as committed: every notebook in notebooks_zh/ is a complete, current translation
of its English original (`coursetools translate check`), and README.zh-CN.md is there and linked both ways."""

from __future__ import annotations

import re

import pytest

from coursetools.paths import NOTEBOOK_DIR, README, ZH_NOTEBOOK_DIR, ZH_README
from coursetools.translation import check_files

CHINESE_NOTEBOOKS = sorted(ZH_NOTEBOOK_DIR.glob("*.ipynb"))


def test_every_english_notebook_has_its_chinese_notebook():
    english = sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb"))
    assert [p.name for p in CHINESE_NOTEBOOKS] == english, "run `coursetools translate sync`, then translate"


def test_the_chinese_readme_opens_the_chinese_notebooks():
    text = ZH_README.read_text(encoding="utf-8")
    for path in CHINESE_NOTEBOOKS:
        assert f"](notebooks_zh/{path.name})" in text and f"/blob/main/notebooks_zh/{path.name})" in text, path.name


@pytest.mark.parametrize("path", CHINESE_NOTEBOOKS, ids=lambda p: p.name)
def test_chinese_notebook_is_in_step(path):
    problems = check_files([path.name])
    assert not problems, (f"{path.name} is out of step with the English notebook "
                          "(see `coursetools translate check`):\n" + "\n".join(str(p) for p in problems))


def test_chinese_readme_exists_with_the_instructors_section():
    assert ZH_README.is_file(), f"{ZH_README.name} is missing"
    text = ZH_README.read_text(encoding="utf-8")
    # The site splits the README at this heading (coursetools.site.CHINESE), up to the next '## ' heading.
    assert "\n## 教师指南\n" in text, "README.zh-CN.md needs a section headed exactly '## 教师指南'"
    after = text[text.index("\n## 教师指南\n") + len("\n## 教师指南\n"):]
    assert re.search(r"^## ", after, flags=re.MULTILINE), "'## 教师指南' must be followed by another '## ' section"


def test_readmes_link_to_each_other():
    chinese = ZH_README.read_text(encoding="utf-8")
    english = README.read_text(encoding="utf-8")
    assert "](README.md)" in chinese, "README.zh-CN.md must link back to README.md"
    assert "](README.zh-CN.md)" in english, "README.md must link to README.zh-CN.md"
