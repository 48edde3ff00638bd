"""Every notebook follows the course conventions: title, badge, shared setup cell, no outputs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from coursetools import setup_cell
from coursetools.paths import NOTEBOOK_DIR
from helpers import ROOT

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS][:1] == ["01_background.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_conventions(path: Path):
    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "H1 title first"
    assert setup_cell.colab_badge(path.name) in first.source, "Colab badge in the first cell"
    assert "## What you will learn" in first.source
    index = setup_cell.setup_cell_index(notebook)
    assert notebook.cells[index].source == setup_cell.SETUP_CELL, (
        f"{path.name}'s setup cell differs: run `coursetools setup-cell`")
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit without outputs"
    text = "\n".join(c.source for c in notebook.cells)
    for heading in ("## Exercises", "## Summary", "## Further reading"):
        assert heading in text, f"{path.name} lacks a '{heading}' section"
    # each solution region is followed by a check cell
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source:
            following = next(c for c in notebook.cells[i + 1:] if c.cell_type == "code")
            assert re.search(r"checks\.check_\w+\(", following.source), (
                f"{path.name} cell {i}: the cell after a solution must call a helpers.checks check")


def test_setup_cell_check_command_passes():
    assert setup_cell.sync_editions(check_only=True) == []


def test_sync_rewrites_a_drifted_copy(tmp_path):
    source = NOTEBOOKS[0]
    notebook = nbformat.read(source, as_version=4)
    index = setup_cell.setup_cell_index(notebook)
    notebook.cells[index].source += "\nprint('drift')"
    nbformat.write(notebook, tmp_path / source.name)
    assert setup_cell.sync(tmp_path, check_only=True) == [tmp_path / source.name]
    assert setup_cell.sync(tmp_path) == [tmp_path / source.name]
    assert setup_cell.sync(tmp_path, check_only=True) == []


def test_a_chinese_notebooks_badge_opens_the_chinese_notebook(tmp_path):
    source = NOTEBOOKS[0]
    folder = tmp_path / "notebooks_zh"
    folder.mkdir()
    shutil.copy(source, folder / source.name)
    assert setup_cell.sync(folder, readme=None) == [folder / source.name]
    title = nbformat.read(folder / source.name, as_version=4).cells[0].source
    assert f"/blob/main/notebooks_zh/{source.name})" in title and "/blob/main/notebooks/" not in title


def test_the_setup_cell_says_where_to_edit_it():
    first_line = setup_cell.SETUP_CELL.splitlines()[0]
    assert "edit coursetools/setup_cell.py, not this copy" in first_line
    assert (ROOT / "coursetools" / "setup_cell.py").is_file(), "the path the cell names exists"


def test_setup_cell_is_silent_outside_colab(capsys):
    exec(compile(setup_cell.SETUP_CELL, "setup", "exec"), {})
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_are_headed_numbered_in_order_and_counted_up_front(path: Path):
    """Each exercise follows a `### Exercise N.M — …` heading (M = 1, 2, … in page order), and the
    first cell says, under "What you will learn", how many exercises and points there are."""
    notebook = nbformat.read(path, as_version=4)
    number = int(path.name[:2])
    headings, last_markdown = [], ""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            last_markdown = cell.source
        elif cell.metadata.get("nbgrader", {}).get("solution"):
            found = re.findall(rf"^### Exercise {number}\.(\d+) — \S", last_markdown, re.MULTILINE)
            assert found, f"the exercise cell {cell.source.split(chr(10))[0]!r} needs a heading"
            headings.append(int(found[-1]))
    assert headings == list(range(1, len(headings) + 1)), f"exercises out of order: {headings}"
    points = sum(c.metadata["nbgrader"].get("points", 0) for c in notebook.cells
                 if c.metadata.get("nbgrader", {}).get("grade"))
    intro = notebook.cells[0].source
    stated = re.search(r"\*\*Exercises:\*\* (\d+) exercises, (\d+) points", intro)
    assert stated, "state the exercises and points under 'What you will learn'"
    assert intro.index("## What you will learn") < stated.start()
    assert (int(stated[1]), int(stated[2])) == (len(headings), points)


def test_every_taught_in_reference_names_a_real_section():
    """Helper docstrings say where a notebook teaches them ("Taught in notebook 02, §1 …");
    each such reference must name a notebook and a numbered section that exist."""
    headings = {path.name[:2]: nbformat.read(path, as_version=4) for path in NOTEBOOKS}
    headings = {n: "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
                for n, nb in headings.items()}
    helpers_dir = ROOT / "helpers"
    references = [(path.name, m) for path in sorted(helpers_dir.rglob("*.py"))
                  for m in re.finditer(r"Taught in notebook (\d\d), §(\d+)", path.read_text())]
    assert len(references) >= 10
    for name, match in references:
        number, section = match.groups()
        assert number in headings, f"{name}: no notebook {number}"
        assert re.search(rf"^## {section}\. ", headings[number], re.MULTILINE), \
            f"{name}: notebook {number} has no section {section}"
