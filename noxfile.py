"""Sessions: one test session per distribution, each in its own environment, plus lint,
types and import contracts. `nox` runs them all; `nox -s "tests(qtrader-data)"` runs one.

Each environment is made by `uv sync --locked --package <name>`, so a test session sees only
what that distribution declares: an undeclared dependency fails its tests.
"""

from __future__ import annotations

import os
import shutil

import nox

os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")

nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True

# distribution -> (folder, import name)
DISTRIBUTIONS = {
    "qtrader-models": ("packages/qtrader-models", "qtrader.models"),
    "qtrader-data": ("packages/qtrader-data", "qtrader.data"),
    "qtrader-portfolio": ("packages/qtrader-portfolio", "qtrader.portfolio"),
    "qtrader-execution": ("packages/qtrader-execution", "qtrader.execution"),
    "qtrader-risk": ("packages/qtrader-risk", "qtrader.risk"),
    "qtrader-engine": ("packages/qtrader-engine", "qtrader.engine"),
    "qtrader-analytics": ("packages/qtrader-analytics", "qtrader.analytics"),
    "qtrader-cli": ("apps/qtrader-cli", "qtrader.cli"),
    "qtrader-bench": ("apps/qtrader-bench", "qtrader.bench"),
}
SOURCES = [f"{folder}/src" for folder, _ in DISTRIBUTIONS.values()]


def sync(session: nox.Session, *args: str) -> None:
    """Install from uv.lock into this session's own environment."""
    session.run_install(
        "uv",
        "sync",
        "--locked",
        *args,
        env={
            "UV_PROJECT_ENVIRONMENT": session.virtualenv.location,
            "UV_PYTHON_DOWNLOADS": "never",
            # Test environments live for one run: compiling every .pyc at install costs more
            # than it saves there (the project's compile-bytecode is for the user's venv).
            "UV_COMPILE_BYTECODE": "0",
        },
        external=True,
    )


@nox.session
@nox.parametrize("package", list(DISTRIBUTIONS), ids=list(DISTRIBUTIONS))
def tests(session: nox.Session, package: str) -> None:
    """Run one distribution's tests, with coverage of that distribution only (bar: 90%)."""
    folder, module = DISTRIBUTIONS[package]
    # --all-extras: optional features (the CLI's Dask executor) are tested too.
    sync(session, "--package", package, "--group", "dev", "--all-extras")
    data_file = os.path.join(session.create_tmp(), ".coverage")
    session.run(
        "python", "-m", "pytest", f"{folder}/tests",
        f"--cov={module}", "--cov-report=term-missing:skip-covered", "--cov-fail-under=90",
        "-p", "no:cacheprovider",
        *session.posargs,
        env={"COVERAGE_FILE": data_file},
    )  # fmt: skip


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    sync(session, "--only-group", "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def types(session: nox.Session) -> None:
    """mypy --strict over every distribution's sources."""
    sync(session, "--all-packages", "--group", "lint")
    session.run("mypy", *SOURCES)


@nox.session
def imports(session: nox.Session) -> None:
    """import-linter contracts, and a test that a forbidden import really breaks them."""
    sync(session, "--all-packages", "--group", "lint", "--group", "dev")
    session.run("lint-imports", "--no-cache")
    session.run("python", "-m", "pytest", "tests", "-p", "no:cacheprovider")


@nox.session
def wheels(session: nox.Session) -> None:
    """Build one wheel per distribution and install single wheels into empty environments:
    qtrader-models alone imports; qtrader-data and qtrader-analytics pull in models and no
    other service."""
    dist = session.create_tmp() + "/dist"
    shutil.rmtree(dist, ignore_errors=True)  # wheels of an earlier run would be counted too
    session.run("uv", "build", "--all-packages", "--wheel", "-o", dist, "--no-create-gitignore",
                external=True)  # fmt: skip
    built = sorted(name.split("-")[0] for name in os.listdir(dist) if name.endswith(".whl"))
    expected = sorted(name.replace("-", "_") for name in DISTRIBUTIONS)
    if built != expected:
        session.error(f"expected one wheel per distribution {expected}, got {built}")
    checks = {
        "qtrader-models": ("qtrader.models", []),
        "qtrader-data": (
            "qtrader.data",
            ["qtrader.portfolio", "qtrader.execution", "qtrader.risk", "qtrader.engine"],
        ),
        "qtrader-analytics": (
            "qtrader.analytics",
            ["qtrader.data", "qtrader.portfolio", "qtrader.engine", "pandas"],
        ),
    }
    for name, (module, absent) in checks.items():
        venv = os.path.join(session.create_tmp(), f"venv-{name}")
        session.run("uv", "venv", "--quiet", "--clear", venv, external=True)
        python = os.path.join(venv, "bin", "python")
        wheel = next(w for w in os.listdir(dist) if w.startswith(name.replace("-", "_") + "-"))
        # uv caches a find-links wheel by name and version: without a refresh, a wheel of an
        # earlier commit with the same version number would be installed as the dependency.
        refresh = [arg for dist_name in DISTRIBUTIONS for arg in ("--refresh-package", dist_name)]
        session.run("uv", "pip", "install", "--quiet", "--python", python, *refresh,
                    "--find-links", dist, os.path.join(dist, wheel), external=True)  # fmt: skip
        probe = (
            f"import importlib.util, {module}; "
            f"present = [m for m in {absent!r} if importlib.util.find_spec(m)]; "
            "assert not present, f'unexpected: {present}'; "
            f"print('{name}: imports alone, without', {absent!r})"
        )
        session.run(python, "-c", probe, external=True)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks (print numbers; never asserted in tests). Not part of plain `nox`."""
    sync(session, "--all-packages", "--all-extras")
    for script in (
        "packages/qtrader-data/bench/bench_stream.py",
        "packages/qtrader-data/bench/bench_formats.py",
        "packages/qtrader-portfolio/bench/bench_portfolio.py",
        "packages/qtrader-execution/bench/bench_execution.py",
        "packages/qtrader-risk/bench/bench_risk.py",
        "apps/qtrader-cli/bench/bench_backtest.py",
        "apps/qtrader-cli/bench/bench_sweep.py",
    ):
        if os.path.exists(script):
            session.run("python", script)


@nox.session(default=False)
def bench_peers(session: nox.Session) -> None:
    """The like-for-like benchmark against backtrader, backtesting.py and NautilusTrader
    (each peer in its own cached environment under .bench-envs/, made from the pins shipped
    in qtrader-bench). Not part of plain `nox`. Arguments after `--` go to `qtrader-bench`,
    e.g. `nox -s bench_peers -- --sizes 10x5000 --peers backtrader`."""
    sync(session, "--package", "qtrader-bench")
    session.run("qtrader-bench", *(session.posargs or ["--sizes", "10x5000,100x5000,500x5000"]))
