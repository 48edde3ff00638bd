"""The checks' message catalogs (helpers.i18n): extract, update and compile them with Babel.

    coursetools messages           # extract _("...") from helpers/, merge into each .po, compile the .mo
    coursetools messages --check   # fail when a message lacks its translation or a .mo is stale

A translator edits helpers/locale/<language>/LC_MESSAGES/checks.po (any .po editor, or a text
editor: fill each empty `msgstr`, keep every `{name}` of the `msgid`), then runs the command to
compile it. The catalogs are the standard gettext format, so any translation tool reads them.
"""

from __future__ import annotations

import argparse
import io
import re
from pathlib import Path

from coursetools.paths import ROOT
from helpers.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

SOURCES = ROOT / "helpers"
FIELD = re.compile(r"\{(\w*)[^{}]*\}")


def _babel():
    """Babel's catalog modules (the tools extra installs Babel)."""
    from babel.messages import catalog, extract, mofile, pofile

    return catalog, extract, mofile, pofile


def template():
    """Every message of the helpers wrapped in `_()`, as a Babel catalog (what a .pot file holds)."""
    catalog, extract, _, _ = _babel()
    messages = catalog.Catalog(project="model-optimization-course", domain=DOMAIN)
    for filename, lineno, message, comments, context in extract.extract_from_dir(
            SOURCES, keywords={"_": None}, comment_tags=("Translators:",)):
        messages.add(message, locations=[(f"helpers/{filename}", lineno)], auto_comments=comments, context=context)
    return messages


def po_path(language: str) -> Path:
    """The .po catalog of `language`."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(language: str):
    """The .po catalog of `language` (an empty one when it does not exist yet)."""
    catalog, _, _, pofile = _babel()
    path = po_path(language)
    if not path.is_file():
        return catalog.Catalog(locale=language, domain=DOMAIN, project="model-optimization-course")
    with path.open("rb") as file:
        return pofile.read_po(file, locale=language, domain=DOMAIN)


def compiled(messages) -> bytes:
    """The .mo bytes of a catalog (fuzzy entries left out, as gettext expects)."""
    _, _, mofile, _ = _babel()
    buffer = io.BytesIO()
    mofile.write_mo(buffer, messages)
    return buffer.getvalue()


def problems(language: str) -> list[str]:
    """What keeps `language`'s catalog from serving every message: missing, untranslated, fuzzy,
    a translation whose `{fields}` differ from the English, or a stale .mo."""
    wanted, messages = template(), read_catalog(language)
    found = []
    for message in wanted:
        if not message.id:
            continue
        entry = messages.get(message.id, message.context)
        if entry is None:
            found.append(f"missing: {message.id!r} (run `coursetools messages`)")
        elif not entry.string:
            found.append(f"untranslated: {message.id!r}")
        elif entry.fuzzy:
            found.append(f"fuzzy (check it, then remove the fuzzy flag): {message.id!r}")
        elif sorted(FIELD.findall(entry.string)) != sorted(FIELD.findall(message.id)):
            found.append(f"fields differ from the English: {message.id!r} -> {entry.string!r}")
    mo = po_path(language).with_suffix(".mo")
    if not mo.is_file() or mo.read_bytes() != compiled(messages):
        found.append(f"{mo.relative_to(ROOT)} is stale (run `coursetools messages`)")
    return found


def update(language: str) -> Path:
    """Merge the current messages into `language`'s .po (new ones empty, gone ones dropped), compile it."""
    _, _, _, pofile = _babel()
    messages = read_catalog(language)
    messages.update(template(), no_fuzzy_matching=True, update_creation_date=False)
    messages.obsolete.clear()
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        pofile.write_po(file, messages, width=100, sort_output=True, include_lineno=False)
    path.with_suffix(".mo").write_bytes(compiled(read_catalog(language)))
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `coursetools messages`."""
    parser.add_argument("--check", action="store_true", help="report what is missing or stale, change nothing")


def run(args: argparse.Namespace) -> int:
    """Update and compile every catalog, or --check them."""
    status = 0
    for language in LANGUAGES:
        if language == "en":
            continue
        if args.check:
            found = problems(language)
            for line in found:
                print(f"{language}: {line}")
            status |= bool(found)
            if not found:
                print(f"{language}: every message translated, {po_path(language).with_suffix('.mo').name} current")
        else:
            print(f"updated: {update(language).relative_to(ROOT)} (and its .mo)")
    return status
