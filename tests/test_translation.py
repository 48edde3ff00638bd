"""`coursetools translate`: the Chinese notebooks follow the English ones cell by cell."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from coursetools import cli, translation
from coursetools.translation import KEY


def english_notebook() -> nbformat.NotebookNode:
    """A small English notebook: title, code, prose, a formula-only cell, an exercise."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Pruning\n\nWe remove the smallest weights.", id="title"),
        nbformat.v4.new_code_cell("import numpy as np\nx = np.arange(3)", id="setup"),
        nbformat.v4.new_markdown_cell("Sparsity is the share of zeros in a tensor.", id="prose",
                                      metadata={"tags": ["keep"]}),
        nbformat.v4.new_markdown_cell("$$s = 1 - \\frac{\\mathrm{nnz}}{n}$$", id="formula"),
        nbformat.v4.new_code_cell("print(x.sum())", id="check", metadata={"nbgrader": {"grade_id": "02_x"}}),
    ]
    return notebook


@pytest.fixture
def editions(tmp_path) -> tuple[Path, Path]:
    """An English folder with one notebook and an empty Chinese folder beside it."""
    english, chinese = tmp_path / "notebooks", tmp_path / "notebooks_zh"
    english.mkdir()
    nbformat.write(english_notebook(), english / "02_pruning.ipynb")
    return english, chinese


def translate(chinese_dir: Path, english_dir: Path, texts: dict[str, str]) -> None:
    """Write Chinese `texts` into the named cells and mark them, as a translator would."""
    path = chinese_dir / "02_pruning.ipynb"
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.id in texts:
            cell.source = texts[cell.id]
    translation.mark(notebook, nbformat.read(english_dir / "02_pruning.ipynb", as_version=4), list(texts))
    nbformat.write(notebook, path)


ALL = {"title": "# 剪枝\n\n我们去掉最小的权重。", "prose": "稀疏度是张量中零的比例。",
       "formula": "$$s = 1 - \\frac{\\mathrm{nnz}}{n}$$"}


def kinds(english_dir, chinese_dir) -> list[tuple[str, str]]:
    """(cell id, kind) of every problem `check` reports."""
    return [(p.cell_id, p.kind) for p in translation.check_files(None, english_dir, chinese_dir)]


def test_a_missing_translation_is_reported_then_created_with_every_markdown_cell_untranslated(editions):
    english, chinese = editions
    assert kinds(english, chinese) == [("*", "structure")]
    translation.sync_files(None, english, chinese)
    assert kinds(english, chinese) == [("title", "untranslated"), ("prose", "untranslated"),
                                       ("formula", "untranslated")]


def test_a_complete_translation_passes_and_its_code_is_byte_identical(editions):
    english, chinese = editions
    translation.sync_files(None, english, chinese)
    translate(chinese, english, ALL)
    assert kinds(english, chinese) == []
    en = nbformat.read(english / "02_pruning.ipynb", as_version=4)
    zh = nbformat.read(chinese / "02_pruning.ipynb", as_version=4)
    assert [c.id for c in zh.cells] == [c.id for c in en.cells]
    assert [(c.source, c.metadata) for c in zh.cells if c.cell_type == "code"] == \
        [(c.source, c.metadata) for c in en.cells if c.cell_type == "code"]
    assert translation.sync_files(None, english, chinese) == []  # nothing left to change


def test_a_changed_english_cell_makes_its_translation_stale_and_shows_the_english_diff(editions):
    english, chinese = editions
    translation.sync_files(None, english, chinese)
    translate(chinese, english, ALL)
    en = nbformat.read(english / "02_pruning.ipynb", as_version=4)
    en.cells[2].source = "Sparsity is the share of zeros among a tensor's weights."
    nbformat.write(en, english / "02_pruning.ipynb")
    [problem] = translation.check_files(None, english, chinese)
    assert (problem.cell_id, problem.kind) == ("prose", "stale")
    assert "-Sparsity is the share of zeros in a tensor." in problem.detail
    assert "+Sparsity is the share of zeros among a tensor's weights." in problem.detail
    translation.sync_files(None, english, chinese)  # sync keeps the old translation: it is still stale
    assert kinds(english, chinese) == [("prose", "stale")]
    translate(chinese, english, {"prose": "稀疏度是张量权重中零的比例。"})
    assert kinds(english, chinese) == []


def test_sync_follows_added_moved_and_removed_cells_and_keeps_translations_by_id(editions):
    english, chinese = editions
    translation.sync_files(None, english, chinese)
    translate(chinese, english, ALL)
    en = nbformat.read(english / "02_pruning.ipynb", as_version=4)
    en.cells = [en.cells[2], en.cells[0], en.cells[1],
                nbformat.v4.new_markdown_cell("A new paragraph about masks.", id="new")]
    nbformat.write(en, english / "02_pruning.ipynb")
    assert [p.kind for p in translation.check_files(None, english, chinese)] == ["structure"]
    translation.sync_files(None, english, chinese)
    zh = nbformat.read(chinese / "02_pruning.ipynb", as_version=4)
    assert [c.id for c in zh.cells] == ["prose", "title", "setup", "new"]
    assert zh.cells[0].source == ALL["prose"] and zh.cells[1].source == ALL["title"]
    assert kinds(english, chinese) == [("new", "untranslated")]


@pytest.mark.parametrize("edit", ["source", "metadata", "type"])
def test_an_edited_code_cell_is_reported_and_sync_restores_it(editions, edit):
    english, chinese = editions
    translation.sync_files(None, english, chinese)
    translate(chinese, english, ALL)
    path = chinese / "02_pruning.ipynb"
    zh = nbformat.read(path, as_version=4)
    if edit == "source":
        zh.cells[4].source = "print(x.sum())  # 求和"  # a translated comment is a changed program
    elif edit == "metadata":
        zh.cells[4].metadata["nbgrader"]["grade_id"] = "02_x_zh"  # one gradebook needs the same ids
    else:
        zh.cells[4] = nbformat.v4.new_markdown_cell("print(x.sum())", id="check")
    nbformat.write(zh, path)
    assert kinds(english, chinese) == [("check", "code")]
    translation.sync_files(None, english, chinese)
    assert kinds(english, chinese) == []


def test_marking_english_prose_as_translated_is_caught(editions):
    english, chinese = editions
    translation.sync_files(None, english, chinese)
    translate(chinese, english, {**ALL, "prose": "Sparsity is the share of zeros in a tensor."})
    assert kinds(english, chinese) == [("prose", "no Chinese")]


def test_a_translated_cell_whose_tags_drifted_is_reported(editions):
    english, chinese = editions
    translation.sync_files(None, english, chinese)
    translate(chinese, english, ALL)
    path = chinese / "02_pruning.ipynb"
    zh = nbformat.read(path, as_version=4)
    zh.cells[2].metadata["tags"] = []
    nbformat.write(zh, path)
    assert kinds(english, chinese) == [("prose", "metadata")]


@pytest.mark.parametrize(("text", "prose"), [
    ("We remove the smallest weights.", True),
    ("$$s = 1 - \\frac{\\mathrm{nnz}}{n}$$", False),
    ("`helpers.pruning.magnitude_prune`", False),
    ("![](https://example.org/figure.png)", False),
    ("## 2.1 剪枝", False),
])
def test_only_english_words_count_as_prose_to_translate(text, prose):
    assert translation.is_prose(text) is prose


def test_marking_a_code_cell_or_an_unknown_id_is_a_clear_error(editions):
    english, chinese = editions
    translation.sync_files(None, english, chinese)
    zh = nbformat.read(chinese / "02_pruning.ipynb", as_version=4)
    en = nbformat.read(english / "02_pruning.ipynb", as_version=4)
    with pytest.raises(ValueError, match="only markdown is translated"):
        translation.mark(zh, en, ["setup"])
    with pytest.raises(ValueError, match="no cell 'nope'"):
        translation.mark(zh, en, ["nope"])
    assert all(KEY not in cell.metadata for cell in zh.cells)


def test_the_command_rejects_an_unknown_notebook_and_mark_without_cells(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["translate", "check", "99_nothing.ipynb"])
    assert exit_info.value.code == 2 and "no English notebook" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["translate", "mark", "02_pruning.ipynb"])
    assert exit_info.value.code == 2 and "mark needs a notebook and cell ids" in capsys.readouterr().err


def test_the_chinese_readme_gets_the_results_table_in_chinese(tmp_path):
    from coursetools import results

    summary = {"quick_run": False, "final_model": "final.tflite", "stages": [
        {"stage": "final int8", "file": "final.tflite", "accuracy": 0.9912, "bytes": 9_000, "gzipped_bytes": 5_999}],
        "compression_vs_float_baseline": {"gzipped_ratio": 63.2, "accuracy_change_pp": 1.17}}
    (tmp_path / "04_summary.json").write_text(json.dumps(summary))
    chinese = results.table(tmp_path, "zh_CN")
    assert chinese.startswith("| 模型 | 笔记本 | 测试准确率 | 字节 | gzip 后 |\n")
    assert "| **final int8** | 04 | **99.12%** | 9,000 | **5,999** |" in chinese  # stage names as printed
    assert "笔记本 04 的最终模型（gzip 后）比它的浮点基线（第一行）小 63×，准确率变化 +1.17 个百分点。" in chinese
    assert results.table(tmp_path, "en").splitlines()[2:] != chinese.splitlines()[2:]
