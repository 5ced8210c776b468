"""The thread race used by the PostgreSQL concurrency tests: start ``n`` callers at once on their own connections."""

import threading

from django.db import connection


def race_collect(target, n: int) -> tuple[list, list]:
    """Run ``target`` in ``n`` threads released together by a barrier; ``(results, errors)``."""
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # surfaced to the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def race(target, n: int = 8) -> list:
    """``race_collect`` for callers that expect no errors (asserted) and want the results only."""
    results, errors = race_collect(target, n)
    assert errors == []
    return results
