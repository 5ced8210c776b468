"""Outbox notifications and job runs (built by the jobs work)."""
