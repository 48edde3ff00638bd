"""Every exercise check, tested from one table: the notebook's own solution passes, each known-wrong
answer (tests/exercise_cases/lessonNN.py) fails with a hint that does not give the answer away,
placeholders are reported as "not attempted", and each check cell's nbgrader hidden tests pass the
solution and catch a wrong answer. The solutions are read from the notebooks' solution regions, so
the notebook stays the single source of truth. A last test scans each notebook so that no line of
an exercise's solution appears in the lesson before the exercise."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nbformat
import numpy as np
import pytest

from coursetools import assignments
from coursetools.paths import NOTEBOOK_DIR
from helpers import checks
from helpers.checks import NotAttemptedError

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


@dataclass(frozen=True)
class Exercise:
    """One exercise of a notebook: its answer cell, and the check cell after it."""

    lesson: str
    check_name: str
    answer_name: str
    answer_source: str
    check_source: str

    def __str__(self) -> str:
        return f"{self.lesson}:{self.check_name}"


def _exercises(path: Path) -> list[Exercise]:
    """The exercises of one notebook, from its nbgrader answer and check cells."""
    notebook = nbformat.read(path, as_version=4)
    found, answer = [], None
    for cell in notebook.cells:
        grader = cell.metadata.get("nbgrader", {})
        if grader.get("solution"):
            answer = cell.source
        elif grader.get("grade"):
            match = re.search(r"checks\.(check_\w+)\(\s*(\w+)", cell.source)
            assert match and answer, f"{path.name}: a check cell without a check call or answer"
            found.append(Exercise(path.name[:2], match[1], match[2], answer, cell.source))
            answer = None
    return found


EXERCISES = [exercise for path in NOTEBOOKS for exercise in _exercises(path)]


@cache
def _cases_module(lesson: str):
    return importlib.import_module(f"exercise_cases.lesson{lesson}")


def _case(exercise: Exercise):
    cases = _cases_module(exercise.lesson).CASES
    assert exercise.check_name in cases, f"add a Case for {exercise} to exercise_cases/lesson{exercise.lesson}.py"
    return cases[exercise.check_name]


def _namespace(lesson: str) -> dict:
    """What the notebook's exercise and hidden-test cells may use."""
    extra = getattr(_cases_module(lesson), "namespace", dict)
    return {"np": np, "checks": checks, **extra()}


@cache
def _solution(exercise: Exercise):
    """The learner-facing function, as the notebook's solution defines it."""
    namespace = _namespace(exercise.lesson)
    exec(compile(exercise.answer_source, f"<{exercise} solution>", "exec"), namespace)
    return namespace[exercise.answer_name]


def _run_check(exercise: Exercise, answer) -> None:
    getattr(checks, exercise.check_name)(answer, *_case(exercise).extra_args())


def _scalars(value) -> list:
    """The plain numbers inside a returned value (tuples and lists opened), for the reveal test."""
    if isinstance(value, bool | str) or value is None:
        return []
    if isinstance(value, int | float | np.integer | np.floating):
        return [value.item() if isinstance(value, np.generic) else value]
    if isinstance(value, tuple | list) and len(value) <= 8:
        return [x for item in value for x in _scalars(item)]
    return []


def _spellings(value) -> set[str]:
    if isinstance(value, int) or float(value).is_integer():
        return {str(int(value))}
    return {repr(float(value)), f"{value:g}", f"{value:.4g}", f"{value:.6g}"}


def _recording(function, log: list):
    def recorded(*args, **kwargs):
        result = function(*args, **kwargs)
        log.append((args, kwargs, result))
        return result
    return recorded


# --- the table is complete ----------------------------------------------------------------------

@pytest.mark.parametrize("lesson", sorted(checks.LESSONS))
def test_every_check_of_a_lesson_is_an_exercise_with_three_wrong_answers(lesson):
    defined = {name for name in vars(checks.LESSONS[lesson]) if name.startswith("check_")}
    used = {e.check_name for e in EXERCISES if e.lesson == lesson}
    assert defined == used, "each check belongs to exactly one exercise cell of its notebook"
    cases = _cases_module(lesson).CASES
    assert set(cases) == defined, "exercise_cases holds one Case per check, no stale ones"
    for name, case in cases.items():
        assert len(case.wrong) >= 3, f"{name}: at least three known-wrong answers"


# --- solution, wrong answers, placeholders -------------------------------------------------------

@pytest.mark.parametrize("exercise", EXERCISES, ids=str)
def test_the_notebooks_solution_passes(exercise, capsys):
    _run_check(exercise, _solution(exercise))
    assert "✅" in capsys.readouterr().out


def _wrong_count(exercise: Exercise) -> int:
    """How many wrong answers the table holds (3 when the lesson has none yet: those tests fail)."""
    try:
        return max(3, len(_case(exercise).wrong))
    except (ImportError, AssertionError):
        return 3


@pytest.mark.parametrize("exercise,index", [(e, i) for e in EXERCISES for i in range(_wrong_count(e))],
                         ids=lambda v: str(v))
def test_a_wrong_answer_fails_with_a_hint_that_keeps_the_answer_hidden(exercise, index):
    wrong = _case(exercise).wrong[index]
    solution_log, wrong_log = [], []
    _run_check(exercise, _recording(_solution(exercise), solution_log))
    with pytest.raises(AssertionError) as info:
        _run_check(exercise, _recording(wrong, wrong_log))
    message = str(info.value)
    assert "Hint" in message, f"{wrong.__name__}: a failure says how to get unstuck"
    shown = {s for args, kwargs, result in wrong_log
             for v in _scalars(result) + _scalars(list(args)) + _scalars(list(kwargs.values()))
             for s in _spellings(v)}
    # Only the answers to the calls the wrong answer got wrong may not appear.
    wrong_calls = {repr((args, kwargs)) for args, kwargs, _ in wrong_log}
    secret = {s for args, kwargs, result in solution_log if repr((args, kwargs)) in wrong_calls
              for v in _scalars(result) for s in _spellings(v)} - shown
    for text in secret:
        if len(text) >= 3:
            assert not re.search(rf"(?<![\w.]){re.escape(text)}(?![\w])", message), \
                f"{wrong.__name__}: the message gives away the expected value {text}: {message}"


def _stub(*args, **kwargs):
    # YOUR CODE HERE
    raise NotImplementedError()


def _body_pass(*args, **kwargs):
    pass


def _body_ellipsis(*args, **kwargs):
    ...


PLACEHOLDERS = {"stub": _stub, "None": None, "...": ..., "body pass": _body_pass,
                "body ...": _body_ellipsis}


@pytest.mark.parametrize("placeholder", PLACEHOLDERS.values(), ids=list(PLACEHOLDERS))
@pytest.mark.parametrize("exercise", EXERCISES, ids=str)
def test_a_placeholder_is_reported_as_not_attempted(exercise, placeholder, capsys):
    with pytest.raises(NotAttemptedError, match=r"^Exercise \d+\.\d+.* is not attempted yet"):
        _run_check(exercise, placeholder)
    assert "✅" not in capsys.readouterr().out, "a placeholder must never pass"


# --- the machinery every check shares (helpers/checks/_common.py) ---------------------------------

def test_not_attempted_is_a_not_implemented_error():
    assert issubclass(NotAttemptedError, NotImplementedError)


@pytest.mark.parametrize("placeholder", [None, ...], ids=["None", "..."])
def test_require_answer_rejects_placeholders(placeholder):
    with pytest.raises(NotAttemptedError, match=r"^Exercise 9\.9 is not attempted yet"):
        checks.require_answer(placeholder, "Exercise 9.9")


@pytest.mark.parametrize("value", [0, 0.0, False, "", [], {}])
def test_require_answer_keeps_falsy_answers(value):
    assert checks.require_answer(value, "Exercise 9.9") is value


def test_call_answer_passes_arguments_and_returns_the_result():
    assert checks.call_answer(lambda a, b=0: a - b, "Exercise 9.9", 5, b=2) == 3


def test_call_answer_reports_a_stub_plainly_without_a_chained_traceback():
    with pytest.raises(NotAttemptedError, match="not attempted yet") as info:
        checks.call_answer(_stub, "Exercise 9.9", 1)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_call_answer_lets_the_learners_own_errors_through():
    def broken(x):
        return x / 0

    with pytest.raises(ZeroDivisionError):
        checks.call_answer(broken, "Exercise 9.9", 1)


def test_call_answer_rejects_a_non_function():
    with pytest.raises(AssertionError, match="expected a function, got int"):
        checks.call_answer(3, "Exercise 9.9")


# --- nbgrader hidden tests -------------------------------------------------------------------------

def _hidden_tests(exercise: Exercise) -> str:
    lines = exercise.check_source.split("\n")
    regions = assignments.hidden_test_regions(exercise.check_source)
    return "\n".join(line for begin, end in regions for line in lines[begin + 1:end])


def _run_hidden(exercise: Exercise, answer) -> None:
    namespace = {**_namespace(exercise.lesson), exercise.answer_name: answer}
    exec(compile(_hidden_tests(exercise), f"<{exercise} hidden tests>", "exec"), namespace)


@pytest.mark.parametrize("exercise", EXERCISES, ids=str)
def test_hidden_tests_hold_their_own_cases_pass_the_solution_and_catch_a_wrong_answer(exercise):
    hidden = _hidden_tests(exercise)
    assert "assert" in hidden, f"{exercise}: the check cell needs a hidden-tests region with asserts"
    assert "checks." not in hidden, "hidden tests hold cases of their own, not the public check"
    _run_hidden(exercise, _solution(exercise))
    caught = 0
    for wrong in _case(exercise).wrong:
        try:
            _run_hidden(exercise, wrong)
        except Exception:  # noqa: BLE001 - any failure of a hidden test costs the points
            caught += 1
    assert caught >= 1, f"{exercise}: the hidden tests accept every known-wrong answer"


# --- no answer on the page before its exercise -------------------------------------------------------

def _solution_lines(source: str) -> list[str]:
    lines = source.split("\n")
    found = []
    for begin, end in assignments.solution_regions(source):
        for line in lines[begin + 1:end]:
            text = " ".join(line.split())
            if len(text) >= 16 and not text.startswith("#") and not re.fullmatch(r"return \w+", text):
                found.append(text)
    return found


def _page_text(cell) -> str:
    """A cell as the learner sees it before solving: solution regions replaced by the stub."""
    source = assignments.strip_solutions(cell.source) if cell.cell_type == "code" else cell.source
    return " ".join(source.split())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_solution_line_appears_before_its_exercise(path):
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if not cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        earlier = [(i, _page_text(c)) for i, c in enumerate(notebook.cells[:index])]
        for line in _solution_lines(cell.source):
            for i, text in earlier:
                assert line not in text, (f"{path.name}: cell {i} shows `{line}`, a line of the "
                                          f"solution in cell {index}, before the exercise")


# --- a check leaves the lesson's next model as it would have been ---------------------------------
# A check cell sits in the middle of a lesson: notebook 04's Exercise 4.2 check is followed by
# §4.3's pqat_and_fit with no reseeding in between. Whatever a check builds (models, TFMOT
# wrappers, converted files) must not shift the auto-generated layer names or the random streams
# the lesson's next cells draw from, so that the lesson's figures do not depend on whether the
# learner ran the check.

LESSON_SEED = 42


def _next_lesson_models() -> dict:
    """What a lesson builds next without reseeding, as plain values: a tf_keras model and its
    TFMOT QAT wrapping (auto-generated names, random initial weights), a Keras 3 model, and one
    draw from Python's, NumPy's and TensorFlow's random streams."""
    import random

    import keras as keras3  # Keras 3 (notebook 06), next to tf_keras
    import tensorflow_model_optimization as tfmot

    from helpers import keras, tf

    model = keras.Sequential([keras.layers.Flatten(input_shape=(3, 2)), keras.layers.Dense(4)])
    quantization = tfmot.quantization.keras
    qat = quantization.quantize_apply(quantization.quantize_annotate_model(model))
    model3 = keras3.Sequential([keras3.Input((5,)), keras3.layers.Dense(2)])
    return {"tf_keras": [(w.name, w.numpy().tolist()) for w in model.weights],
            "qat": [layer.name for layer in qat.layers] + [w.name for w in qat.weights],
            "keras3": [model3.name] + [(w.path, w.numpy().tolist()) for w in model3.weights],
            "draws": (random.random(), float(np.random.random()), float(tf.random.uniform(())),
                      float(keras3.random.uniform(())))}


def _forget_check_caches() -> None:
    """Let each check build its models again (they are cached after the first run)."""
    for module in checks.LESSONS.values():
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


def _lesson_after(check=None) -> dict:
    """A lesson from a fresh session and seed: a first model, then `check()` if given, then the
    next models (public APIs only: clear_session, the course's set_seed, Keras 3's seeding)."""
    import keras as keras3

    from helpers import keras, training

    keras.backend.clear_session()
    keras3.utils.clear_session()
    training.set_seed(LESSON_SEED)
    keras3.utils.set_random_seed(LESSON_SEED)
    keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])  # the lesson's own earlier model
    keras3.Sequential([keras3.Input((3,)), keras3.layers.Dense(2)])
    if check is not None:
        _forget_check_caches()
        check()
    return _next_lesson_models()


@cache
def _lesson_without_a_check() -> dict:
    return _lesson_after()


@pytest.mark.parametrize("exercise", EXERCISES, ids=str)
def test_a_check_leaves_the_lessons_next_models_and_random_draws_unchanged(exercise, capsys):
    args = _case(exercise).extra_args()  # what the lesson passes, built before the lesson starts
    answer = _solution(exercise)
    after_check = _lesson_after(lambda: getattr(checks, exercise.check_name)(answer, *args))
    assert "✅" in capsys.readouterr().out
    without = _lesson_without_a_check()
    for key in without:
        assert after_check[key] == without[key], f"{exercise}: the check changes the lesson's {key}"


def test_the_lesson_state_test_sees_what_tfmot_names_in_the_lessons_own_thread():
    """Control: Exercise 4.2's check body, run in the lesson's thread instead of a worker thread
    of its own, shifts the name TFMOT gives the lesson's next QuantizeLayer."""
    from helpers.checks import mnist_project

    exercise = next(e for e in EXERCISES if e.check_name == "check_pqat_model")
    answer = _solution(exercise)
    in_lessons_thread = _lesson_after(lambda: mnist_project._check_pqat_model(answer, "4.2"))
    assert in_lessons_thread["qat"] != _lesson_without_a_check()["qat"]
