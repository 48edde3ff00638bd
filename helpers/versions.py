"""The library versions the course was tested with, and one clear line when a runtime differs.

Colab (and many laptops) come with their own TensorFlow. The course still runs there, but its
numbers were measured with the versions below (requirements.txt pins the same ones; a test keeps
the two in step), so `import helpers` says once, in one line, when what it finds is different.
"""

from __future__ import annotations

import importlib.metadata
import sys

TESTED = {
    "tensorflow": "2.21.0",
    "tf-keras": "2.21.0",
    "tensorflow-model-optimization": "0.8.1",
    "ai-edge-litert": "2.3.0",
}


def installed_versions(packages=TESTED) -> dict[str, str | None]:
    """The installed version of each package (None where it is not installed)."""
    found = {}
    for name in packages:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def untested_report(found: dict[str, str | None], tested: dict[str, str] = TESTED) -> str | None:
    """One line naming what differs from the tested versions, or None when everything matches."""
    unknown = sorted(set(found) - set(tested))
    if unknown:
        raise ValueError(f"found names packages with no tested version: {unknown}; "
                         f"known: {sorted(tested)}")
    differing = {name: version for name, version in found.items() if version != tested[name]}
    if not differing:
        return None
    have = ", ".join(f"{name} {version or '(not installed)'}" for name, version in differing.items())
    want = ", ".join(f"{name} {tested[name]}" for name in differing)
    return (f"helpers: this runtime has {have}; the course was tested with {want}. It should still "
            f"run, but numbers may differ a little; for the tested set run "
            f"`pip install -r requirements.txt` in a fresh environment.")


def warn_if_untested() -> None:
    """Print the one-line report to stderr when the runtime differs from the tested versions."""
    report = untested_report(installed_versions())
    if report:
        print(report, file=sys.stderr)
