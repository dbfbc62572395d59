"""The versions of the QTrader distributions installed: ``versions.json`` of a results
folder and ``qtrader --version``. Light on purpose: ``--version`` imports nothing else."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTIONS = (
    "qtrader-models",
    "qtrader-data",
    "qtrader-portfolio",
    "qtrader-execution",
    "qtrader-risk",
    "qtrader-engine",
    "qtrader-analytics",
    "qtrader-cli",
)


def package_versions() -> dict[str, str]:
    """The installed version of each of ``DISTRIBUTIONS`` ("unknown" outside an install)."""
    versions = {}
    for name in DISTRIBUTIONS:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - only outside an install
            versions[name] = "unknown"
    return versions
