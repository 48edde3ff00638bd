"""Student copies: solutions never leak, every copy runs up to its first exercise and stops there
with NotImplementedError, malformed markers stop the whole run, and --out is never mixed with
stale files."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

import helpers
from coursetools import assignments
from coursetools.assignments import BEGIN, END, STUB, MarkerError
from coursetools.paths import NOTEBOOK_DIR

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))  # other notebooks may appear: discover them


def code(source: str) -> nbformat.NotebookNode:
    """A code cell with an output and an execution count, as a solved notebook would have."""
    cell = nbformat.v4.new_code_cell(source, execution_count=3)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    return cell


def write_notebook(path: Path, *cells) -> Path:
    """Write a small notebook made of `cells` to `path`."""
    nbformat.write(nbformat.v4.new_notebook(cells=list(cells)), path)
    return path


SOLVED = '''def area(w, h):
    """Area of a rectangle."""
    ### BEGIN SOLUTION
    result = w * h
    return result
    ### END SOLUTION

### BEGIN SOLUTION
answer = area(2, 3)
### END SOLUTION
print(answer)'''

STUDENT = '''def area(w, h):
    """Area of a rectangle."""
    # YOUR CODE HERE
    raise NotImplementedError()

# YOUR CODE HERE
raise NotImplementedError()
print(answer)'''

PROSE = f"Write your code between `{BEGIN}` and `{END}`:\n\n{BEGIN}\nnot code\n{END}"


# --- stripping ----------------------------------------------------------------------------------

def test_strip_solutions_replaces_each_region_at_its_indentation():
    assert assignments.strip_solutions(SOLVED) == STUDENT
    assert assignments.solution_regions(SOLVED) == [(2, 5), (7, 9)]


def test_source_without_markers_is_unchanged():
    source = "x = 1\n\n    # BEGIN is not a marker\nprint(x)\n"
    assert assignments.strip_solutions(source) == source


def test_student_notebook_keeps_markdown_and_clears_outputs():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(PROSE), code(SOLVED), code("print('kept')")])
    notebook.metadata["widgets"] = {"state": "saved output"}
    student = assignments.student_notebook(notebook, "demo.ipynb")
    assert student.cells[0] == notebook.cells[0], "markdown cells must not be altered"
    assert [c.source for c in student.cells[1:]] == [STUDENT, "print('kept')"]
    assert all(c.outputs == [] and c.execution_count is None for c in student.cells[1:])
    assert "widgets" not in student.metadata
    assert notebook.cells[1].source == SOLVED and notebook.cells[1].outputs, "input untouched"


# --- malformed markers: a clear error naming notebook and cell, and nothing written ------------

MALFORMED = {
    "begin without end": (f"x = 1\n{BEGIN}\ny = 2", "without a matching"),
    "end without begin": (f"x = 1\n{END}", "without a '### BEGIN SOLUTION' before it"),
    "nested begin": (f"{BEGIN}\n    {BEGIN}\ny = 2\n{END}\n{END}", "nested"),
    "misspelt marker": ("## BEGIN SOLUTION\ny = 2\n## END SOLUTION",
                        "looks like a solution marker"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_markers_raise_a_clear_error_and_write_nothing(case, tmp_path):
    source, why = MALFORMED[case]
    src = tmp_path / "src"
    src.mkdir()
    write_notebook(src / "a_good.ipynb", code(SOLVED))  # sorted first: converted before the bad one
    write_notebook(src / "b_bad.ipynb", nbformat.v4.new_markdown_cell("# Title"), code("x = 0"),
                   code(source))
    out = tmp_path / "student"
    with pytest.raises(MarkerError) as info:
        assignments.make_student_copies(src, out)
    message = str(info.value)
    assert "b_bad.ipynb" in message and "cell 2" in message and why in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"], "nothing may be written"


def test_markers_in_markdown_are_prose_not_regions(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_notebook(src / "n.ipynb", nbformat.v4.new_markdown_cell(f"{BEGIN}\nunbalanced"))
    [written] = assignments.make_student_copies(src, tmp_path / "out")
    assert nbformat.read(written, as_version=4).cells[0].source == f"{BEGIN}\nunbalanced"


# --- the --out folder ----------------------------------------------------------------------------

@pytest.fixture
def source_dir(tmp_path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    write_notebook(src / "one.ipynb", code(SOLVED))
    write_notebook(src / "two.ipynb", code("print(1)"))
    return src


def test_existing_non_empty_out_is_refused_without_force(source_dir, tmp_path):
    out = tmp_path / "student"
    out.mkdir()
    (out / "stale.ipynb").write_text("old copy")
    with pytest.raises(FileExistsError, match="not empty.*--force"):
        assignments.make_student_copies(source_dir, out)
    assert [p.name for p in out.iterdir()] == ["stale.ipynb"]
    assert (out / "stale.ipynb").read_text() == "old copy"


def test_force_replaces_out_entirely(source_dir, tmp_path):
    out = tmp_path / "student"
    (out / ".ipynb_checkpoints").mkdir(parents=True)
    (out / ".ipynb_checkpoints" / "one-checkpoint.ipynb").write_text("old")
    (out / "stale.ipynb").write_text("old copy")
    (out / "one.ipynb").write_text("old version")
    written = assignments.make_student_copies(source_dir, out, force=True)
    assert written == [out / "one.ipynb", out / "two.ipynb"]
    assert sorted(p.name for p in out.iterdir()) == ["one.ipynb", "two.ipynb"]
    assert nbformat.read(out / "one.ipynb", as_version=4).cells[0].source == STUDENT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src", "student"], "no temp folders left"


def test_force_never_deletes_a_folder_that_holds_more_than_notebooks(source_dir, tmp_path):
    out = tmp_path / "project"
    (out / "helpers").mkdir(parents=True)
    (out / "old.ipynb").write_text("old copy")
    (out / "README.md").write_text("keep me")
    with pytest.raises(FileExistsError, match=r"holds more than notebooks \(README.md, helpers\)"):
        assignments.make_student_copies(source_dir, out, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "helpers", "old.ipynb"]


def test_empty_out_folder_is_used(source_dir, tmp_path):
    (tmp_path / "student").mkdir()
    assert len(assignments.make_student_copies(source_dir, tmp_path / "student")) == 2


@pytest.mark.parametrize("where", ["src", "."])
def test_out_that_holds_the_sources_is_refused_even_with_force(source_dir, tmp_path, where):
    with pytest.raises(ValueError, match="contains the source notebook"):
        assignments.make_student_copies(source_dir, tmp_path / where, force=True)
    assert sorted(p.name for p in source_dir.iterdir()) == ["one.ipynb", "two.ipynb"]


def test_out_that_is_a_file_is_refused(source_dir, tmp_path):
    (tmp_path / "student").write_text("x")
    with pytest.raises(FileExistsError, match="not a folder"):
        assignments.make_student_copies(source_dir, tmp_path / "student", force=True)


def test_source_must_hold_notebooks(tmp_path):
    with pytest.raises(FileNotFoundError, match="no .ipynb"):
        assignments.make_student_copies(tmp_path, tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="neither a folder nor a .ipynb"):
        assignments.make_student_copies(tmp_path / "missing", tmp_path / "out")


def test_a_single_notebook_can_be_converted(source_dir, tmp_path):
    written = assignments.make_student_copies(source_dir / "one.ipynb", tmp_path / "out")
    assert written == [tmp_path / "out" / "one.ipynb"]


# --- command line --------------------------------------------------------------------------------

def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coursetools", "student", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_cli_writes_copies_refuses_stale_out_and_forces(source_dir, tmp_path):
    done = run_cli("src", "--out", "student", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "student/one.ipynb (2 solution regions replaced)" in done.stdout
    assert "student/two.ipynb (0 solution regions replaced)" in done.stdout

    again = run_cli("src", "--out", "student", cwd=tmp_path)
    assert again.returncode == 1
    assert "not empty" in again.stderr and "--force" in again.stderr
    assert "nothing was written" in again.stderr

    forced = run_cli("src", "--out", "student", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr


def test_cli_reports_malformed_markers_with_exit_code_1(tmp_path):
    (tmp_path / "src").mkdir()
    write_notebook(tmp_path / "src" / "bad.ipynb", code(f"{BEGIN}\nx = 1"))
    done = run_cli("src", "--out", "student", cwd=tmp_path)
    assert done.returncode == 1
    assert "bad.ipynb, cell 0: line 1" in done.stderr and "nothing was written" in done.stderr
    assert not (tmp_path / "student").exists()


def test_cli_usage_error_exits_2(tmp_path):
    done = run_cli("src", cwd=tmp_path)  # --out is required
    assert done.returncode == 2 and "--out" in done.stderr


# --- the course's notebooks ----------------------------------------------------------------------

def region_lines(notebook) -> tuple[set[str], set[str]]:
    """(stripped non-blank lines inside solution regions, stripped lines everywhere else)."""
    inside, outside = set(), set()
    for cell in notebook.cells:
        lines = cell.source.split("\n")
        regions = assignments.solution_regions(cell.source) if cell.cell_type == "code" else []
        in_region = {i for begin, end in regions for i in range(begin + 1, end)}
        markers = {i for region in regions for i in region}
        for i, line in enumerate(lines):
            if i in in_region:
                inside.add(line.strip())
            elif i not in markers:
                outside.add(line.strip())
    inside.discard("")
    return inside, outside


def leaked(source, copy) -> set[str]:
    """Solution lines of `source` (that occur nowhere else in it) found anywhere in `copy`."""
    inside, outside = region_lines(source)
    copied = {line.strip() for cell in copy.cells for line in cell.source.split("\n")}
    return (inside - outside) & copied


def stripped_code_lines(notebook) -> list[str]:
    """Every line of the notebook's code cells, stripped."""
    return [line.strip() for cell in notebook.cells if cell.cell_type == "code"
            for line in cell.source.split("\n")]


@pytest.fixture(scope="module")
def student_copies(tmp_path_factory) -> Path:
    """Student copies of all the course's notebooks, made once by the command line."""
    out = tmp_path_factory.mktemp("copies") / "student"
    done = subprocess.run([sys.executable, "-m", "coursetools", "student", str(NOTEBOOK_DIR),
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_solution_line_leaks_into_the_student_copy(path, student_copies):
    source = nbformat.read(path, as_version=4)
    student = nbformat.read(student_copies / path.name, as_version=4)
    inside, outside = region_lines(source)
    distinctive = inside - outside
    assert distinctive, f"{path.name}: no solution region with lines of its own to check"
    assert leaked(source, source) == distinctive, "the leak check must catch an unstripped copy"
    assert leaked(source, student) == set()
    code_lines = stripped_code_lines(student)
    assert BEGIN not in code_lines and END not in code_lines
    stubs_added = code_lines.count(STUB[1]) - stripped_code_lines(source).count(STUB[1])
    assert stubs_added == assignments.count_regions(source), "one stub per solution region"
    assert [c.cell_type for c in student.cells] == [c.cell_type for c in source.cells]
    assert all(s == c for s, c in zip(student.cells[1:], source.cells[1:], strict=True)
               if c.cell_type != "code"), "markdown cells must be copied unchanged"
    title = student.cells[0].source  # the same, except that its Colab badge opens the copy itself
    assert title == source.cells[0].source.replace(f"/notebooks/{path.name}",
                                                   f"/{student_copies.name}/{path.name}")
    assert f"/{student_copies.name}/{path.name})" in title


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_exercise_cells_are_valid_python(path, student_copies):
    student = nbformat.read(student_copies / path.name, as_version=4)
    source = nbformat.read(path, as_version=4)
    transform = TransformerManager().transform_cell
    for index, cell in enumerate(source.cells):
        if cell.cell_type == "code" and assignments.solution_regions(cell.source):
            ast.parse(transform(student.cells[index].source), f"{path.name} cell {index}")


def first_exercise(notebook) -> tuple[int, int]:
    """Indices of the first code cell holding a solution region, and of the next code cell."""
    cells = notebook.cells
    exercises = [i for i, c in enumerate(cells)
                 if c.cell_type == "code" and assignments.solution_regions(c.source)]
    assert exercises, "the notebook has no exercise (no solution region)"
    checks = [i for i in range(exercises[0] + 1, len(cells)) if cells[i].cell_type == "code"]
    assert checks, "the first exercise has no check cell after it"
    return exercises[0], checks[0]


@pytest.mark.after_notebooks  # a notebook may read an earlier notebook's outputs
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_copy_runs_until_its_first_exercise(path, student_copies, tmp_path, monkeypatch):
    """Executed in COURSE_QUICK mode, the copy stops at its first exercise, and only there."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    student = nbformat.read(student_copies / path.name, as_version=4)
    exercise, check = first_exercise(nbformat.read(path, as_version=4))
    # Outputs go to a copy of outputs/, so quick-mode runs never overwrite the real results.
    outputs = tmp_path / "outputs"
    if helpers.OUTPUT_DIR.is_dir():
        shutil.copytree(helpers.OUTPUT_DIR, outputs)
    redirect = nbformat.v4.new_code_cell(
        f"import helpers, pathlib\nhelpers.OUTPUT_DIR = pathlib.Path({str(outputs)!r})")
    student.cells.insert(0, redirect)
    monkeypatch.setenv("COURSE_QUICK", "1")
    client = NotebookClient(student, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    start = time.perf_counter()
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    seconds = time.perf_counter() - start
    cells = student.cells[1:]  # without the redirect cell
    failed = [i for i, c in enumerate(cells) if c.cell_type == "code"
              and any(o.output_type == "error" for o in c.outputs)]
    error = info.value
    if error.ename == "FileNotFoundError" and str(outputs) in str(error.evalue):
        pytest.skip(f"{path.name} needs an earlier notebook's outputs (run the whole suite): "
                    f"{error.evalue}")
    assert failed and failed[0] in (exercise, check), (
        f"{path.name}: cell {failed[:1]} failed before the first exercise (cell {exercise}, "
        f"check cell {check}): {error.ename}: {error.evalue}")
    assert error.ename in ("NotImplementedError", "NotAttemptedError"), error.evalue
    ran = [i for i, c in enumerate(cells) if c.cell_type == "code" and c.execution_count]
    assert ran == [i for i, c in enumerate(cells[:failed[0] + 1]) if c.cell_type == "code"]
    print(f"{path.name}: reached its first exercise in {seconds:.0f} s (COURSE_QUICK=1)")


def test_hidden_tests_are_removed_markers_included():
    source = ("checks.check_f(f)\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n"
              "### END HIDDEN TESTS\nprint('done')")
    assert assignments.hidden_test_regions(source) == [(1, 3)]
    assert assignments.strip_hidden_tests(source) == "checks.check_f(f)\nprint('done')"
    student = assignments.student_notebook(nbformat.v4.new_notebook(cells=[code(source)]))
    assert "assert f(2)" not in student.cells[0].source and "HIDDEN" not in student.cells[0].source


def test_an_unclosed_hidden_tests_region_is_a_clear_error():
    with pytest.raises(MarkerError, match="without a matching"):
        assignments.strip_hidden_tests("### BEGIN HIDDEN TESTS\nassert True")
    with pytest.raises(MarkerError, match="looks like a hidden-tests marker"):
        assignments.hidden_test_regions("## BEGIN HIDDEN TESTS\nassert True\n## END HIDDEN TESTS")
