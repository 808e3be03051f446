"""Writes the command-line reference page from the program's own --help.

The subcommands are the ones `mtif --help` lists; each gets a section with the
text of `mtif SUBCOMMAND --help`, so the page is exactly what the program says.
"""
import re
import subprocess
from pathlib import Path


def help_text(mtif: Path, *args: str) -> str:
    done = subprocess.run([str(mtif), *args, "--help"], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{mtif} {' '.join(args)} --help exited with {done.returncode}: {done.stderr.strip()}")
    return done.stdout.rstrip() + "\n"


def subcommands(top_help: str) -> list:
    """(name, one-line description) for each subcommand listed under 'SUBCOMMANDS:'."""
    found, listing = [], False
    for line in top_help.splitlines():
        if re.match(r"^subcommands:", line, re.IGNORECASE):
            listing = True
            continue
        if listing:
            m = re.match(r"^  (\S+)\s+(.*)$", line)
            if m:
                found.append((m.group(1), m.group(2).strip()))
            elif line.strip() and not line.startswith("   "):
                break
    if not found:
        raise RuntimeError("mtif --help lists no subcommands: has its format changed?")
    return found


def fence(text: str) -> str:
    ticks = "````" if "```" in text else "```"
    return f"{ticks}text\n{text}{ticks}\n"


def write(mtif: Path, out: Path) -> None:
    if not mtif.exists():
        raise RuntimeError(f"{mtif} does not exist: build mtif first (scripts/build.sh) or set MTIF_BIN")
    top = help_text(mtif)
    parts = ["## mtif\n", fence(top)]
    for name, description in subcommands(top):
        parts.append(f"## mtif {name}\n")
        if description:
            parts.append(description + "\n")
        parts.append(fence(help_text(mtif, name)))
    out.write_text("\n".join(parts))
