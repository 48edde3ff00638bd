"""The notebooks work with the real nbgrader (the instructors' tool): every exercise carries nbgrader's
metadata, `nbgrader generate_assignment` accepts every notebook, and its release versions hold
exactly the student code cells that `helpers.assignments` makes without nbgrader."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import assignments, nbgrader_cells

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_notebook_carries_its_nbgrader_metadata():
    assert nbgrader_cells.sync(check_only=True) == [], "run `python -m helpers.nbgrader_cells`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_exercise_is_an_answer_cell_and_a_locked_check_worth_points(path):
    notebook = nbformat.read(path, as_version=4)
    marked = {i: c.metadata["nbgrader"] for i, c in enumerate(notebook.cells)
              if "nbgrader" in c.metadata}
    answers = [i for i, m in marked.items() if m["solution"]]
    checks = [i for i, m in marked.items() if m["grade"]]
    assert answers and len(answers) == len(checks) == assignments.count_regions(notebook)
    for i in answers:
        assert assignments.solution_regions(notebook.cells[i].source), f"cell {i} has no answer"
    for i in checks:
        assert marked[i]["locked"] and marked[i]["points"] > 0
        assert "checks.check_" in notebook.cells[i].source
    ids = [m["grade_id"] for m in marked.values()]
    assert len(ids) == len(set(ids)) and all(i.startswith(path.name[:2] + "_") for i in ids)


def test_a_solution_cell_without_a_check_cell_is_refused():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")])
    with pytest.raises(ValueError, match="no check cell after it"):
        nbgrader_cells.expected_metadata(notebook, "07_x")


def test_real_nbgrader_generates_the_same_student_cells(tmp_path):
    nbgrader = shutil.which("nbgrader", path=str(Path(sys.executable).parent))
    if nbgrader is None:
        pytest.fail("nbgrader is not installed: requirements.txt pins it for instructors")
    source = tmp_path / "source" / "course"
    source.mkdir(parents=True)
    for path in NOTEBOOKS:
        shutil.copy2(path, source / path.name)
    done = subprocess.run([nbgrader, "generate_assignment", "course",
                           f"--CourseDirectory.root={tmp_path}", "--force"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for path in NOTEBOOKS:
        release = nbformat.read(tmp_path / "release" / "course" / path.name, as_version=4)
        ours = assignments.student_notebook(nbformat.read(path, as_version=4), path.name)
        released_code = [c.source for c in release.cells if c.cell_type == "code"]
        assert released_code == [c.source for c in ours.cells if c.cell_type == "code"], path.name
        assert not any("BEGIN SOLUTION" in code for code in released_code)
