"""Every notebook stands alone: in a fresh clone, with an empty outputs/ and nothing run before it,
it runs top to bottom within its time budget (as on Colab, where each notebook gets a fresh runtime).
Each notebook that passes is stored in the site's jupyter-cache (plugin coursetools.site_cache), so
`coursetools site` shows these executions instead of running the course once more.

Heavy (every notebook once more): it runs only with `-m standalone`; `.ci/run` does so after the
main suite. The budget is enforced by the clone's own conftest, exactly as in the main suite.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from coursetools import site
from helpers import ROOT

pytestmark = pytest.mark.standalone

NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_alone_in_a_fresh_clone(name, tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of the course")
    clone = tmp_path / "course"
    done = subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert not (clone / "outputs").exists(), "a fresh clone has no outputs"
    env = {**os.environ, "PYTHONPATH": str(clone)}  # the clone's helpers, in pytest and the kernel
    for variable in ("COURSE_OUTPUT_DIR", "COURSE_QUICK", "TF_USE_LEGACY_KERAS"):
        env.pop(variable, None)
    done = subprocess.run([sys.executable, "-m", "pytest", f"notebooks/{name}", "-q", "-p", "no:randomly",
                           "-p", "coursetools.site_cache", "--site-cache", str(site.CACHE_DIR)],
                          cwd=clone, env=env, capture_output=True,
                          text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-4000:]
    timing = re.search(rf"{re.escape(name)}: \d+ s \(budget \d+ s\)", done.stdout)
    assert timing and "over their time budget" not in done.stdout, done.stdout[-2000:]
    print(timing.group())
