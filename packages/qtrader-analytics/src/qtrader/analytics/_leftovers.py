"""What a killed run left beside its output folder, and putting it right.

A results folder is written as a hidden temporary folder beside the output and renamed
into place (``ResultFolder``). A run killed outright (SIGKILL, the OOM killer, a lost
machine) cannot clean up: its temporary folder stays, as large as the results, and a kill
between the two renames of ``publish`` leaves the previous results set aside as ``.old``
with no output folder at all. So the temporary folders are named after the process that
made them (its pid and a hash of the host name), and the next results folder for the same
output removes those of processes of this host that no longer run, and puts set-aside
previous results back where they stood: as if the killed run had never started.

Single files written in one step (``atomic_path``: ``qtrader report``'s rewrite of a
results folder, a sweep's tables) are named the same way, ``.NAME.PID-HOST.xxxxxxxx.tmp``
beside the file, and the next writer of that file, or the next results folder written over
the folder holding it, removes those of ended processes.

Only on POSIX, where ``os.kill(pid, 0)`` asks whether a process exists (on Windows it
would end it). A folder of another host, of a process still running, or named otherwise
is never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
from collections.abc import Collection
from pathlib import Path

_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def temp_prefix(name: str) -> str:
    """The prefix of this process's temporary folders for the output folder ``name``:
    ``.NAME.PID-HOST.``, then mkdtemp's 8 random characters of ``[a-z0-9_]`` and ``.tmp``
    (``.old`` once ``publish`` sets old results aside). ``_leftover_pattern`` reads it."""
    return f".{name}.{os.getpid()}-{_HOST}."


def _leftover_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(name)}\.(\d+)-{_HOST}\.[a-z0-9_]{{8}}\.(tmp|old)")


# A temporary file of ``atomic_path``: the name of the file it stands for, and the pid.
_FILE_LEFTOVER = re.compile(rf"\.(.+)\.(\d+)-{_HOST}\.[a-z0-9_]{{8}}\.tmp")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except (OverflowError, ValueError):  # not a pid any process can have
        return False
    return True


def clear_leftovers(directory: Path) -> None:
    """Remove the temporary folders that killed runs of this host left beside
    ``directory``, after putting back the previous results one of them set aside when
    ``directory`` itself is missing (the newest, if several)."""
    if os.name != "posix" or not directory.parent.is_dir():
        return
    pattern = _leftover_pattern(directory.name)
    ours = f".{directory.name}."
    dead: list[tuple[Path, str]] = []
    # A sweep's folder can hold thousands of results folders: a prefix test first.
    with os.scandir(directory.parent) as entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name) if entry.name.startswith(ours) else None
            if match and entry.is_dir(follow_symlinks=False) and not _running(int(match[1])):
                dead.append((Path(entry.path), match[2]))
    set_aside = [path for path, kind in dead if kind == "old"]
    if set_aside and not directory.exists():
        newest = max(set_aside, key=lambda path: path.stat().st_mtime_ns)
        newest.rename(directory)
        dead = [(path, kind) for path, kind in dead if path != newest]
    for path, _ in dead:
        shutil.rmtree(path, ignore_errors=True)  # a leftover we cannot remove blocks nothing


def clear_file_leftovers(folder: Path, names: Collection[str]) -> None:
    """Remove the temporary files that killed processes of this host left in ``folder``
    while writing a file of ``names`` (see ``atomic_path``). Folders and links are kept."""
    if os.name != "posix" or not folder.is_dir():
        return
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            match = (
                _FILE_LEFTOVER.fullmatch(name)
                if name.startswith(".") and name.endswith(".tmp")
                else None
            )
            if (
                match
                and match[1] in names
                and entry.is_file(follow_symlinks=False)
                and not _running(int(match[2]))
            ):
                with contextlib.suppress(FileNotFoundError):  # another writer was first
                    os.unlink(entry.path)
