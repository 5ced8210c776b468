"""Part catalog, stock ledger per center and hub, reservations for tickets, replenishment and defective parts
back to the maker (issue #20).
"""
