"""The peers' own environments, made from the pinned requirements shipped in ``peers/``.

Each peer gets ``<envs_dir>/<peer>`` (``uv venv`` with this interpreter, then ``uv pip
install --compile-bytecode -r requirements-<peer>.txt``), reused while a stamp of the
requirements and the interpreter matches. The peers never enter QTrader's ``uv.lock``.
"""

from __future__ import annotations

import compileall
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PEERS_DIR = Path(__file__).parent / "peers"
PEERS = ("backtrader", "backtesting", "nautilus")
LABELS = {
    "qtrader": "QTrader",
    "backtrader": "backtrader",
    "backtesting": "backtesting.py",
    "nautilus": "NautilusTrader",
}


class PeerUnavailableError(Exception):
    """A peer's environment could not be made; the message says why."""


@dataclass(frozen=True)
class PeerEnv:
    name: str
    python: Path
    script: Path


def requirements(peer: str) -> Path:
    return PEERS_DIR / f"requirements-{peer}.txt"


def script(peer: str) -> Path:
    return PEERS_DIR / f"{peer}_peer.py"


def stamp_of(peer: str) -> str:
    digest = hashlib.sha256(requirements(peer).read_bytes())
    digest.update(f"{sys.version_info[:3]}".encode())
    return digest.hexdigest()


def uv_command() -> str | None:
    return os.environ.get("UV") or shutil.which("uv")


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise PeerUnavailableError(f"{what} failed ({' '.join(command)}):\n{tail}")


def ensure_env(peer: str, envs_dir: Path) -> PeerEnv:
    """The peer's environment, made (or remade) if its stamp does not match."""
    if peer not in PEERS:
        raise PeerUnavailableError(f"unknown peer {peer!r}; known: {', '.join(PEERS)}")
    folder = envs_dir / peer
    python = folder / "bin" / "python"
    stamp = folder / ".qtrader-bench-stamp"
    expected = stamp_of(peer)
    if python.exists() and stamp.exists() and stamp.read_text() == expected:
        return PeerEnv(peer, python, script(peer))
    uv = uv_command()
    if uv is None:
        raise PeerUnavailableError("uv is not on PATH: it makes the peers' environments")
    _run([uv, "venv", "--quiet", "--clear", "--python", sys.executable, str(folder)], "uv venv")
    _run(
        [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python),
         "-r", str(requirements(peer))],
        f"installing {LABELS[peer]} from {requirements(peer).name}",
    )  # fmt: skip
    stamp.write_text(expected)
    return PeerEnv(peer, python, script(peer))


def compile_qtrader_sources() -> list[Path]:
    """Write the bytecode of QTrader's own modules, as the peers' installs have theirs.

    In this workspace QTrader is installed editable: its modules are read from
    ``packages/*/src``, which uv's ``compile-bytecode`` does not reach, and where nothing
    is written while ``PYTHONDONTWRITEBYTECODE`` is set; every run would compile them
    again (about 0.1 s), which an installed wheel never does. ``compileall`` writes the
    ``.pyc`` files whatever that variable says. The folders compiled are returned.
    """
    import qtrader  # noqa: PLC0415  (the namespace package: its portions are the sources)

    folders = [Path(portion) for portion in qtrader.__path__]
    for folder in folders:
        compileall.compile_dir(folder, quiet=1)
    return folders
