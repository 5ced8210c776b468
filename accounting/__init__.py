"""Receipts' fapiao (electronic invoices) and the daily close of each center against the payments ledger (issue
#19).
"""
