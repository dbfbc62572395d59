"""The ledger's records, defined in ``qtrader.models`` (analytics reads them too)."""

from qtrader.models import LedgerEntry, LedgerEntryType

__all__ = ["LedgerEntry", "LedgerEntryType"]
