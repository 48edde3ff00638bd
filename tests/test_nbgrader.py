"""The notebooks work with the real nbgrader (the instructors' tool): every exercise carries nbgrader's
metadata, `nbgrader generate_assignment` accepts every notebook, and its release versions hold
exactly the student code cells that `coursetools student` makes without nbgrader. The heavy test
(`pytest tests -m nbgrader`) grades three submissions of every notebook with `nbgrader autograde`:
the solutions earn every point, the untouched release none, and one wrong answer loses only its own
exercise's point."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coursetools import assignments, nbgrader_cells
from coursetools.paths import NOTEBOOK_DIR, ROOT, ZH_NOTEBOOK_DIR

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
# The Chinese edition has the same code cells, hence the same exercises and grade ids (coursetools translate
# check, in the test command, proves it for every notebook); autograding one of them shows the release and the
# gradebook work on a translated notebook without doubling the heavy checks' time.
ZH_NOTEBOOKS = sorted(ZH_NOTEBOOK_DIR.glob("*.ipynb"))[:1]


def test_every_notebook_carries_its_nbgrader_metadata():
    assert nbgrader_cells.sync(check_only=True) == [], "run `coursetools nbgrader`"


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_markdown_line_looks_like_a_marker(path):
    """nbgrader scans markdown cells too: a marker there would open a region or cut the text."""
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
                assert marker not in cell.source.upper(), f"markdown cell {index} says {marker!r}"


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


# --- autograde: what an instructor's grading run gives ---------------------------------------------

def _nbgrader() -> str:
    found = shutil.which("nbgrader", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("nbgrader is not installed: requirements.txt pins it for instructors")
    return found


def _secret_lines(notebook: nbformat.NotebookNode) -> list[str]:
    """Every solution and hidden-test line of the instructor's notebook (those of 16+ characters)."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        lines = cell.source.split("\n")
        regions = (assignments.solution_regions(cell.source)
                   + assignments.hidden_test_regions(cell.source))
        found += [lines[i].strip() for begin, end in regions for i in range(begin + 1, end)
                  if len(lines[i].strip()) >= 16 and not lines[i].strip().startswith("#")]
    return found


def _with_one_wrong_answer(notebook: nbformat.NotebookNode, lesson: str) -> tuple:
    """A copy of the solved notebook whose last exercise holds the first known-wrong answer of
    tests/exercise_cases; returns it and that exercise's check grade id."""
    wrong = copy.deepcopy(notebook)
    cells = [c for c in wrong.cells if "nbgrader" in c.metadata]
    answer, check = cells[-2], cells[-1]
    assert answer.metadata["nbgrader"]["solution"] and check.metadata["nbgrader"]["grade"]
    check_name, answer_name = re.search(r"checks\.(check_\w+)\(\s*(\w+)", check.source).groups()
    answer.source += (f"\n\n\n{answer_name} = __import__('exercise_cases.lesson{lesson}', "
                      f"fromlist=['CASES']).CASES[{check_name!r}].wrong[0]  # a known-wrong answer")
    return wrong, check.metadata["nbgrader"]["grade_id"]


@pytest.mark.nbgrader
@pytest.mark.parametrize("path", NOTEBOOKS + ZH_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_autograde_gives_full_zero_and_all_but_one_exercise(path, tmp_path):
    from nbgrader.api import Gradebook

    assignment, name = path.stem + ("_zh" if path.parent == ZH_NOTEBOOK_DIR else ""), path.name
    (tmp_path / "source" / assignment).mkdir(parents=True)
    shutil.copy2(path, tmp_path / "source" / assignment / name)
    root = f"--CourseDirectory.root={tmp_path}"
    done = subprocess.run([_nbgrader(), "generate_assignment", assignment, root, "--force"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    solved = nbformat.read(path, as_version=4)
    release = nbformat.read(tmp_path / "release" / assignment / name, as_version=4)
    released = "\n".join(c.source for c in release.cells)
    public = "\n".join(assignments.strip_hidden_tests(assignments.strip_solutions(c.source))
                        for c in solved.cells)  # lesson code may share a generic line with an answer
    leaked = [line for line in _secret_lines(solved) if line in released and line not in public]
    assert not leaked and "HIDDEN TESTS" not in released, f"the release shows {leaked[:3]}"

    wrong, wrong_id = _with_one_wrong_answer(solved, name[:2])
    for student, notebook in (("solution", solved), ("untouched", release), ("one_wrong", wrong)):
        (tmp_path / "submitted" / student / assignment).mkdir(parents=True)
        nbformat.write(notebook, tmp_path / "submitted" / student / assignment / name)
    env = {**os.environ, "COURSE_QUICK": "1", "COURSE_OUTPUT_DIR": str(tmp_path / "outputs"),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([_nbgrader(), "autograde", assignment, root, "--create", "--force",
                           "--Execute.timeout=900"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=1800, env=env)
    assert done.returncode == 0, done.stderr[-3000:]

    points = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in solved.cells if c.metadata.get("nbgrader", {}).get("grade")}
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        def scores(student: str) -> dict:
            notebook = gradebook.find_submission_notebook(path.stem, assignment, student)
            return {grade.name: grade.score for grade in notebook.grades}

        assert scores("solution") == points, "the solutions earn every point"
        assert scores("untouched") == dict.fromkeys(points, 0), "the release earns none"
        assert scores("one_wrong") == {**points, wrong_id: 0}, "one wrong answer costs only its own"
