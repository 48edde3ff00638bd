"""The search's scale-out, for real: a PostgreSQL server on 127.0.0.1 and two worker processes of
`benchmarks/search.py` on one study through it (what notebook 05's scale-out section tells a
learner to run on several machines).

The server is Debian's `postgresql` package (`.ci/run` installs it when missing), started by the
fixture in a temporary folder (as the `postgres` user when the tests run as root: PostgreSQL refuses
to run as root) and stopped afterwards. Heavy (marker `benchmark`): it trains small models.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna
import pytest

from coursetools.paths import ROOT
from helpers import search

STUDY = "scale-out-test"
SMALL = ["--val-images", "300", "--fine-images", "300", "--base-images", "1500"]


def _postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL server programs (initdb, pg_ctl), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    """`command`, run as the `postgres` user when we are root (the server refuses root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture
def postgres_url():
    """A database URL on a fresh PostgreSQL server at 127.0.0.1 (trust authentication), stopped afterwards."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.fail("the scale-out test needs Debian's postgresql package (apt-get install -y postgresql); "
                    ".ci/run installs it")
    pytest.importorskip("psycopg", reason="the dev extra installs psycopg[binary] (SQLAlchemy's PostgreSQL driver)")
    # Not under pytest's tmp_path: its folders are private to root, and the server runs as `postgres`.
    folder = Path(tempfile.mkdtemp(prefix="course-postgres-"))
    folder.chmod(0o777)
    data = folder / "data"
    port = _free_port()
    run = dict(check=True, capture_output=True, text=True, timeout=120, cwd=folder)
    subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "course"]), **run)
    subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(data / "server.log"),
                                    "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"]), **run)
    try:
        subprocess.run(_as_server_user([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "course",
                                        "optuna"]), **run)
        yield f"postgresql://course@127.0.0.1:{port}/optuna"
    finally:
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                       capture_output=True, timeout=120, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.benchmark
def test_two_workers_share_one_study_through_postgresql(postgres_url, tmp_path):
    command = [sys.executable, str(ROOT / "benchmarks" / "search.py"), "--storage", postgres_url,
               "--study-name", STUDY, "--cache-dir", str(tmp_path / "base_models"), *SMALL]
    done = subprocess.run([*command, "--trials", "4", "--workers", "2"], capture_output=True, text=True,
                          timeout=1200, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["trials"] == 4
    again = subprocess.run([*command, "--trials", "1", "--seed", "5"], capture_output=True, text=True,
                           timeout=600, cwd=ROOT)  # a third process, later: it resumes the same study
    assert again.returncode == 0, again.stderr[-3000:]
    storage = optuna.storages.RDBStorage(postgres_url)
    [summary] = optuna.get_all_study_summaries(storage)
    assert summary.study_name == STUDY
    study = search.open_study(postgres_url, STUDY)
    numbers = sorted(t.number for t in study.trials)
    assert numbers == list(range(5)), f"each trial recorded once: {numbers}"
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    first_four = [t for t in study.trials if t.number < 4]
    assert len({t.user_attrs["worker_pid"] for t in first_four}) == 2, "both workers recorded trials"

