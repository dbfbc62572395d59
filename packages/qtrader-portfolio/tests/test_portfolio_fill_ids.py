"""The fills a portfolio applied are remembered exactly, whatever their ids look like,
in a bit each for the usual ``PREFIX-000123`` ids."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qtrader.portfolio._ids import IdSet

IDS = st.one_of(
    st.from_regex(r"[A-Z]{0,2}-?[0-9]{1,9}", fullmatch=True),  # numbered, any width
    st.text(max_size=6),  # anything else, digits or not
)


@given(st.lists(IDS, max_size=60), st.lists(IDS, max_size=30))
def test_an_id_set_is_a_set_of_strings(added: list[str], probes: list[str]) -> None:
    ids = IdSet(added)
    assert len(ids) == len(set(added))
    for id_ in [*added, *probes]:
        assert (id_ in ids) == (id_ in set(added)), id_


def test_numbers_of_another_width_or_prefix_are_other_ids() -> None:
    ids = IdSet(["F-000123", "7"])
    assert "F-000123" in ids
    assert "F-123" not in ids  # the same number, written differently
    assert "F-0000123" not in ids
    assert "G-000123" not in ids
    assert "F-000124" not in ids
    assert "7" in ids
    assert "07" not in ids
    assert 123 not in ids
    ids.add("F-000123")  # again: still one
    assert len(ids) == 2


def test_huge_numbers_and_ids_without_one_are_kept_as_strings() -> None:
    huge = "F-" + str(10**12)
    ids = IdSet([huge, "broker-abc", ""])
    assert huge in ids
    assert "broker-abc" in ids
    assert "" in ids
    assert "F-" + str(10**12 + 1) not in ids
    assert len(ids) == 3
