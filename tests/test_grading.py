"""Grading without nbgrader (`coursetools grade`): the instructor's check cells, hidden tests included,
replace whatever the learner left there, so a submission tuned to the public check, or one whose
check cell was edited or deleted, is graded on the real tests."""

from __future__ import annotations

import csv

import nbformat
import pytest

from coursetools import assignments, cli, grading

ANSWER = {"grade": False, "grade_id": "09_double", "locked": False, "schema_version": 3,
          "solution": True, "task": False}
CHECK = {"grade": True, "grade_id": "09_double_check", "locked": True, "points": 1,
         "schema_version": 3, "solution": False, "task": False}
SOLVED = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
CHECK_SOURCE = ('assert double(2) == 4, "public"\n### BEGIN HIDDEN TESTS\n'
                'assert double(5) == 10, "hidden"\n### END HIDDEN TESTS')


def notebook(answer: str, check: str | None) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_markdown_cell("### Exercise 9.1 — double"),
             nbformat.v4.new_code_cell(answer, metadata={"nbgrader": dict(ANSWER)})]
    if check is not None:
        cells.append(nbformat.v4.new_code_cell(check, metadata={"nbgrader": dict(CHECK)}))
    cells.append(nbformat.v4.new_code_cell("print('the lesson goes on')"))
    result = nbformat.v4.new_notebook(cells=cells)
    result.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
    return result


PUBLIC_CHECK = assignments.strip_hidden_tests(CHECK_SOURCE)
SUBMISSIONS = {  # name: (notebook, points it deserves)
    "tuned_to_the_public_check": (notebook("def double(x):\n    return 4", PUBLIC_CHECK), 0),
    "right_but_check_edited": (notebook("def double(x):\n    return x + x", "pass"), 1),
    "wrong_and_check_deleted": (notebook("def double(x):\n    return x", None), 0),
    "right_and_check_deleted": (notebook("def double(x):\n    return 2 * x", None), 1),
    "not_attempted": (notebook(assignments.strip_solutions(SOLVED), PUBLIC_CHECK), 0),
}


def test_restore_checks_puts_the_instructors_cell_back_hidden_tests_included():
    source = notebook(SOLVED, CHECK_SOURCE)
    for submission, _ in SUBMISSIONS.values():
        restored = grading.restore_checks(submission, source)
        checks = [c for c in restored.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert [c.source for c in checks] == [CHECK_SOURCE]
        assert restored.cells.index(checks[0]) == 2, "right after the answer cell"
    assert "HIDDEN" not in SUBMISSIONS["tuned_to_the_public_check"][0].cells[2].source, \
        "the submission itself is left unchanged"


def test_a_notebook_without_the_exercise_is_refused():
    with pytest.raises(ValueError, match="neither the check cell '09_double_check'"):
        grading.restore_checks(nbformat.v4.new_notebook(), notebook(SOLVED, CHECK_SOURCE))


def test_cli_grades_each_submission_on_the_real_tests(tmp_path, capsys):
    source_dir, submitted, out = tmp_path / "notebooks", tmp_path / "submitted", tmp_path / "graded"
    source_dir.mkdir()
    nbformat.write(notebook(SOLVED, CHECK_SOURCE), source_dir / "09_double.ipynb")
    for name, (submission, _) in SUBMISSIONS.items():
        (submitted / name).mkdir(parents=True)
        nbformat.write(submission, submitted / name / "09_double.ipynb")
    assert cli.main(["grade", str(source_dir), str(submitted), "--out", str(out), "--timeout", "60"]) == 0
    with open(out / "scores.csv") as file:
        scores = {row["submission"].split("/")[0]: float(row["points"]) for row in csv.DictReader(file)}
    assert scores == {name: points for name, (_, points) in SUBMISSIONS.items()}
    graded = nbformat.read(out / "not_attempted" / "09_double.ipynb", as_version=4)
    assert graded.cells[-1].outputs[0]["text"] == "the lesson goes on\n", "runs past failures"
    assert "[5/5]" in capsys.readouterr().out


def test_cli_refuses_a_submission_without_an_instructor_notebook(tmp_path, capsys):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "sub").mkdir()
    nbformat.write(notebook(SOLVED, None), tmp_path / "sub" / "99_other.ipynb")
    with pytest.raises(SystemExit) as info:
        cli.main(["grade", str(tmp_path / "notebooks"), str(tmp_path / "sub"), "--out", str(tmp_path / "o")])
    assert info.value.code == 2
    assert "no instructor notebook" in capsys.readouterr().err and not (tmp_path / "o").exists()
