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


def first_read_barrier(n: int):
    """For a control run (the lock taken out): ``wait()`` after the unlocked read, so that all ``n`` racing threads
    have read the row before any of them decides -- a collision the scheduler of a loaded machine cannot hide (a
    sleep only makes one likely). Only a thread's first call waits; a thread that reads again goes straight on."""
    barrier = threading.Barrier(n, timeout=10)
    first = threading.local()

    def wait() -> None:
        if not getattr(first, "done", False):
            first.done = True
            barrier.wait()

    return wait
