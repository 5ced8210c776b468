"""Loaner pool, loans and the deposit ledger (built by the loaners work)."""
