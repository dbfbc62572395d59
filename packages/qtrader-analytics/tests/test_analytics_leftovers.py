"""A run killed outright leaves no lasting litter: the next run for the same output clears
its temporary folder and puts back previous results it had set aside."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qtrader.analytics import ResultFileStream, atomic_path, atomic_write_text
from qtrader.analytics import _leftovers as leftovers
from qtrader.analytics.files import ResultFolder, _umask, publish_folder

pytestmark = pytest.mark.skipif(os.name != "posix", reason="leftovers are cleared on POSIX")

# A child that starts a results folder for ``out``, writes a file and is then killed with
# SIGKILL: while writing, or (``swap``) between the two renames of ``publish``.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from qtrader.analytics.files import ResultFolder

    out, when = Path(sys.argv[1]), sys.argv[2]
    folder = ResultFolder(out)
    folder.write_text("fills.csv", "new\\n")
    if when == "swap":
        rename = Path.rename
        renames = []

        def rename_then_die(self, target):
            renames.append(self)
            if len(renames) == 2:  # the new folder into place: killed just before
                os.kill(os.getpid(), signal.SIGKILL)
            return rename(self, target)

        Path.rename = rename_then_die
        folder.publish()
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def killed_run(out: Path, when: str = "writing") -> None:
    child = subprocess.run([sys.executable, "-c", CHILD, str(out), when], check=False)
    assert child.returncode == -signal.SIGKILL


# A child that rewrites one file with ``atomic_write_text`` (as ``qtrader report`` rewrites
# a results folder's report) and is killed with SIGKILL just before the rename.
FILE_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from qtrader.analytics import atomic_write_text

    os.replace = lambda source, target: os.kill(os.getpid(), signal.SIGKILL)
    atomic_write_text(Path(sys.argv[1]), "new\\n")
    """
)


def killed_write(path: Path) -> None:
    child = subprocess.run([sys.executable, "-c", FILE_CHILD, str(path)], check=False)
    assert child.returncode == -signal.SIGKILL


def previous_results(out: Path) -> None:
    publish_folder(out, {"fills.csv": "previous\n"})


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_killed_run_leaves_its_temporary_folder_which_the_next_run_removes(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    previous_results(out)
    killed_run(out)
    (left,) = [name for name in names(tmp_path) if name != "out"]
    assert re.fullmatch(rf"\.out\.\d+-{leftovers._HOST}\.[a-z0-9_]{{8}}\.tmp", left)
    assert (out / "fills.csv").read_text() == "previous\n"  # untouched by the killed run
    folder = ResultFolder(out)
    assert names(tmp_path) == sorted(["out", folder.path.name])  # the leftover is gone
    folder.discard()
    assert names(tmp_path) == ["out"]


def test_a_streamed_run_clears_leftovers_too(tmp_path: Path) -> None:
    out = tmp_path / "out"
    killed_run(out)
    assert len(names(tmp_path)) == 1
    stream = ResultFileStream(out)
    stream.discard()
    assert names(tmp_path) == []


def test_results_set_aside_by_a_run_killed_mid_swap_are_put_back(tmp_path: Path) -> None:
    out = tmp_path / "out"
    previous_results(out)
    killed_run(out, "swap")
    # The previous results are set aside as ``.old``, the new ones wait as ``.tmp``.
    assert not out.exists()
    assert sorted(name.rsplit(".", 1)[1] for name in names(tmp_path)) == ["old", "tmp"]
    ResultFolder(out).discard()
    assert names(tmp_path) == ["out"]
    assert (out / "fills.csv").read_text() == "previous\n"  # as if the run never started


def test_the_newest_set_aside_results_are_put_back_and_older_ones_removed(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    pid = dead_pid()
    older = tmp_path / f".out.{pid}-{leftovers._HOST}.aaaaaaaa.old"
    newer = tmp_path / f".out.{pid}-{leftovers._HOST}.bbbbbbbb.old"
    for folder, text in ((older, "older\n"), (newer, "newer\n")):
        folder.mkdir()
        (folder / "fills.csv").write_text(text)
    os.utime(older, ns=(1_000_000_000, 1_000_000_000))
    os.utime(newer, ns=(2_000_000_000, 2_000_000_000))
    leftovers.clear_leftovers(out)
    assert names(tmp_path) == ["out"]
    assert (out / "fills.csv").read_text() == "newer\n"


def test_folders_of_running_processes_other_hosts_or_other_names_are_kept(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    pid = dead_pid()
    kept = [
        f".out.{os.getpid()}-{leftovers._HOST}.abcdefgh.tmp",  # this very process
        f".out.{pid}-00000000.abcdefgh.tmp",  # another host (unless the hash collides)
        f".other.{pid}-{leftovers._HOST}.abcdefgh.tmp",  # another output folder
        f".out.{pid}-{leftovers._HOST}.abcdefgh.tmp.x",  # not a name of ours
        ".out.abcdefgh.tmp",  # named before pids were: its owner cannot be told
    ]
    if leftovers._HOST == "00000000":  # pragma: no cover
        kept.remove(kept[1])
    for name in kept:
        (tmp_path / name).mkdir()
    (tmp_path / f".out.{pid}-{leftovers._HOST}.zyxwvuts.tmp").write_text("a file, not ours")
    link = tmp_path / f".out.{pid}-{leftovers._HOST}.linklink.tmp"
    link.symlink_to(tmp_path / kept[0])  # a link to a folder: never followed
    (tmp_path / kept[0] / "keep.txt").write_text("kept")
    (tmp_path / f".out.{pid}-{leftovers._HOST}.abcdefgh.tmp").mkdir()  # the one leftover
    leftovers.clear_leftovers(out)
    assert names(tmp_path) == sorted(
        [*kept, link.name, f".out.{pid}-{leftovers._HOST}.zyxwvuts.tmp"]
    )
    assert (tmp_path / kept[0] / "keep.txt").read_text() == "kept"


def test_nothing_is_cleared_off_posix_or_beside_a_missing_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    leftover = tmp_path / f".out.{dead_pid()}-{leftovers._HOST}.abcdefgh.tmp"
    leftover.mkdir()
    leftovers.clear_leftovers(tmp_path / "missing" / "out")  # no parent: nothing to do
    monkeypatch.setattr(os, "name", "nt")  # os.kill(pid, 0) would end a process
    leftovers.clear_leftovers(tmp_path / "out")
    assert leftover.is_dir()


def test_a_process_is_running_unless_the_system_says_there_is_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert leftovers._running(os.getpid())
    assert not leftovers._running(dead_pid())
    assert not leftovers._running(2**80)  # no process has such a pid

    def refused(pid: int, sig: int) -> None:
        raise PermissionError("another user's process")

    monkeypatch.setattr(os, "kill", refused)
    assert leftovers._running(1)


def test_a_file_write_killed_before_its_rename_is_cleared_by_the_next_write(
    tmp_path: Path,
) -> None:
    report = tmp_path / "report.html"
    report.write_text("previous\n")
    killed_write(report)
    (left,) = [name for name in names(tmp_path) if name != "report.html"]
    assert re.fullmatch(rf"\.report\.html\.\d+-{leftovers._HOST}\.[a-z0-9_]{{8}}\.tmp", left)
    assert report.read_text() == "previous\n"
    atomic_write_text(report, "next\n")
    assert names(tmp_path) == ["report.html"]
    assert report.read_text() == "next\n"


def test_a_results_folder_a_killed_report_rewrite_left_a_file_in_is_still_ours(
    tmp_path: Path,
) -> None:
    # ``qtrader report`` rewrites files inside a results folder: a kill there used to leave
    # a temporary file that made the next backtest refuse the folder as not its own.
    out = tmp_path / "out"
    publish_folder(out, {"fills.csv": "previous\n", "report.html": "previous\n"})
    killed_write(out / "report.html")
    assert len(names(out)) == 3
    folder = ResultFolder(out)
    assert names(out) == ["fills.csv", "report.html"]
    folder.write_text("fills.csv", "new\n")
    folder.publish()
    assert names(out) == ["fills.csv"]


def test_only_dead_writers_files_of_the_names_asked_are_cleared(tmp_path: Path) -> None:
    pid = dead_pid()
    kept = [
        f".a.csv.{os.getpid()}-{leftovers._HOST}.abcdefgh.tmp",  # this very process
        f".a.csv.{pid}-00000000.abcdefgh.tmp",  # another host (unless the hash collides)
        f".b.csv.{pid}-{leftovers._HOST}.abcdefgh.tmp",  # a name not asked for
        f".a.csv.{pid}-{leftovers._HOST}.abcdefgh.old",  # not a temporary file's name
        ".a.csv.abcdefgh.tmp",  # named before pids were: its owner cannot be told
        "a.csv",
    ]
    if leftovers._HOST == "00000000":  # pragma: no cover
        kept.remove(kept[1])
    for name in kept:
        (tmp_path / name).write_text("kept")
    (tmp_path / f".a.csv.{pid}-{leftovers._HOST}.folderxx.tmp").mkdir()  # a folder: kept
    link = tmp_path / f".a.csv.{pid}-{leftovers._HOST}.linklink.tmp"
    link.symlink_to(tmp_path / "a.csv")  # a link: never followed, never removed
    (tmp_path / f".a.csv.{pid}-{leftovers._HOST}.zyxwvuts.tmp").write_text("left")
    leftovers.clear_file_leftovers(tmp_path, {"a.csv"})
    assert names(tmp_path) == sorted(
        [*kept, f".a.csv.{pid}-{leftovers._HOST}.folderxx.tmp", link.name]
    )
    leftovers.clear_file_leftovers(tmp_path / "missing", {"a.csv"})  # no folder: nothing


def test_a_failed_atomic_write_leaves_the_previous_file_and_no_temporary_one(
    tmp_path: Path,
) -> None:
    target = tmp_path / "table.parquet"
    target.write_text("previous")

    def fails_half_way() -> None:
        with atomic_path(target) as temp:
            temp.write_text("half")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        fails_half_way()
    assert names(tmp_path) == ["table.parquet"]
    assert target.read_text() == "previous"
    with atomic_path(target) as temp:
        temp.write_text("whole")
    assert names(tmp_path) == ["table.parquet"]
    assert target.read_text() == "whole"
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()
