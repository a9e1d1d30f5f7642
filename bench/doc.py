"""Write one benchmark's section of docs/benchmarks.md, leaving the others as they are."""

from __future__ import annotations

import platform
import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Each section is written by its benchmark in `bench/` (run it again to refresh it).
All figures are from one run on the machine named in the section; tests never assert
on them.
"""


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def load_average() -> str:
    """The 1-minute load average, to say how busy the machine was."""
    import os

    return f"{os.getloadavg()[0]:.1f}"


def versions(names) -> str:
    """``Versions: name x.y, ...; sparkembed at REV`` for the installed ``names``."""
    import importlib.metadata
    import subprocess

    got = []
    for name in names:
        try:
            got.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    try:
        rev = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=DOC.parent.parent,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        rev = ""
    return "Versions: " + ", ".join(got) + (f"; sparkembed at {rev}" if rev else "")


def write_section(name: str, markdown: str, doc: Path = DOC) -> None:
    """Replace (or append) the section between ``bench:name`` markers of ``doc``."""
    text = doc.read_text() if doc.exists() else HEADER
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block + "\n"
    )
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)
