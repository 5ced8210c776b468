"""Money at the counter: amounts due, payments, refunds and the ledger per ticket, loan and plan order; payment
providers (issue #19).
"""
