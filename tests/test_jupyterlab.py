"""The README's "open the course" command works: JupyterLab starts and lists the notebooks."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

from helpers import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, token: str, method: str = "GET") -> dict:
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    return json.loads(body) if body else {}


def test_jupyter_lab_serves_the_notebooks(tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyter", "lab", "notebooks/", "--no-browser",
               "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
               "--ServerApp.port_retries=0"]
    if os.geteuid() == 0:  # CI and containers run as root; Jupyter refuses root without this
        command.append("--allow-root")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, listing = time.monotonic() + 90, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                listing = get_json(f"{base}/api/contents/", token)  # root_dir is notebooks/
                break
            except OSError:
                time.sleep(0.5)
        assert listing is not None, server.stdout.read().decode() if server.poll() is not None else "timeout"
        names = {item["name"] for item in listing["content"]}
        expected = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
        assert expected and expected <= names, (names, expected)
        lab = urllib.request.urlopen(f"{base}/lab?token={token}", timeout=10)
        assert lab.status == 200
        get_json(f"{base}/api/shutdown", token, method="POST")
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
