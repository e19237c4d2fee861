"""The landing folder: which files of a feed to read, in what order, and whether
the folder can be used at all.

Only regular files under <landing>/<feed>/ with an allowed extension are read;
symlinks that leave the landing folder are refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.lib.feeds import ALLOWED_EXTENSIONS, FEEDS


def file_format(path: Path) -> str | None:
    name = path.name.lower()
    for ext in sorted(ALLOWED_EXTENSIONS, key=len, reverse=True):
        if name.endswith(ext):
            return ext.lstrip(".")
    return None


def discover(landing_dir: Path, feed: str) -> tuple[list[Path], list[str]]:
    """Files of one feed in processing order (lexical by relative path), and refusals.

    Lexical order makes "latest file wins" predictable: name exports with a
    sortable date (orders_2025-03.csv, orders_2025-03_corrected.csv).
    """
    root = landing_dir.resolve()
    folder = landing_dir / feed
    files: list[Path] = []
    refused: list[str] = []
    if not folder.exists():
        return files, refused
    if folder.is_symlink() or not folder.resolve().is_relative_to(root):
        return files, [f"{feed}/: the feed folder is a symlink out of the landing folder; refused"]
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for name in sorted(filenames):
            if name.startswith((".", "_")):
                continue  # hidden files and in-flight uploads (_tmp, .part)
            path = Path(dirpath) / name
            rel = path.relative_to(landing_dir).as_posix()
            if file_format(path) is None:
                refused.append(
                    f"{rel}: extension not accepted (use {', '.join(ALLOWED_EXTENSIONS)}); skipped"
                )
                continue
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    refused.append(
                        f"{rel}: symlink to {target} outside the landing folder; refused"
                    )
                    continue
            if not path.resolve().is_file():
                refused.append(f"{rel}: not a regular file; refused")
                continue
            files.append(path)
    files.sort(key=lambda p: p.relative_to(landing_dir).as_posix())
    return files, refused


class LandingDirError(ValueError):
    """The landing folder cannot be used at all (missing, unreadable, no feed files)."""


def landing_layout() -> str:
    """The folder layout a landing folder must have, for error messages."""
    exts = " | ".join(f"*{e}" for e in ALLOWED_EXTENSIONS)
    lines = [
        f"  {name}/" + ("   (optional feed)" if f.optional_feed else "")
        for name, f in FEEDS.items()
    ]
    return "\n".join([f"expected layout (any subset of the feeds; files {exts}):", *lines])


def check_landing_dir(landing_dir: Path) -> dict[str, int]:
    """Files per feed folder, or LandingDirError naming the path, the layout and the fix.

    Run before any Dagster run: a wrong FLYWHEEL_LANDING_DIR must fail in seconds,
    not after a pipeline that loads nothing and publishes an empty tree.
    """
    fix = (
        "Set FLYWHEEL_LANDING_DIR to the folder that holds the feed folders "
        "(docs/landing-contract.md, 'Bringing your own data')."
    )
    if not landing_dir.exists():
        raise LandingDirError(
            f"landing folder {landing_dir} does not exist.\n{landing_layout()}\n{fix}"
        )
    if not landing_dir.is_dir():
        raise LandingDirError(
            f"landing folder {landing_dir} is not a folder.\n{landing_layout()}\n{fix}"
        )
    if not os.access(landing_dir, os.R_OK | os.X_OK):
        raise LandingDirError(
            f"landing folder {landing_dir} is not readable by this user (uid {os.getuid()}).\n{fix}"
        )
    counts: dict[str, int] = {}
    for feed in FEEDS:
        folder = landing_dir / feed
        if folder.is_dir() and not os.access(folder, os.R_OK | os.X_OK):
            raise LandingDirError(f"feed folder {folder} is not readable by this user.\n{fix}")
        files, _ = discover(landing_dir, feed)
        counts[feed] = len(files)
    if not any(counts.values()):
        present = sorted(p.name for p in landing_dir.iterdir() if not p.name.startswith("."))[:10]
        raise LandingDirError(
            f"landing folder {landing_dir} holds no feed file"
            + (f" (it holds: {', '.join(present)})" if present else " (it is empty)")
            + f".\n{landing_layout()}\n{fix}"
        )
    return counts
