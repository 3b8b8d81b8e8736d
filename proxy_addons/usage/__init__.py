"""Quota ledger: one interface (`Ledger`), SQLite and Redis stores, and `open_ledger(state_url)`."""

from .ledger import Balance, Charge, Ledger

__all__ = ["Balance", "Charge", "Ledger"]
