"""Due times of 1,000,000 open tickets' dashboards: business calendars vs wall-clock time (issue #21).

    .venv/bin/python bench/business_time.py [--tickets 1000000] [--centers 3000] [--runs 3]

In memory, no database: a few thousand center calendars (``centers.calendar``) built from a few dozen
realistic weekly patterns (weekdays only, 7 days, lunch breaks, late stores closing after midnight, hubs
open around the clock, stores open on public holidays) plus a few dated exceptions each, and a million
open tickets (center, stage entered, stage target) entered over the last week. A "dashboard" pass computes
every ticket's due time and counts the overdue ones per center:

- ``wall``: ``due = entered + target`` (what the code did before: wall-clock minutes);
- ``business``: ``due = add_business_minutes_at(calendar, entered, target)`` -- two binary searches in the
  center's compiled window (the calendars are warm, as they are from the cache in production);
- ``stored``: what the dashboards actually do since issue #21: ``stage_due_at`` was computed in business
  time when the ticket moved, so a pass only compares it with now (the same work as ``wall``).

Prints the median CPU time (``time.process_time``) of ``--runs`` for each and the ratios.
The numbers of one run are in docs/repairs.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from centers.calendar import (  # noqa: E402  (pure module: no Django setup needed)
    add_business_minutes_at,
    calendar_build,
    epoch_minute,
)

T = dt.time
TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 9, 30, 15, 0, tzinfo=TZ)  # the eve of National Day: holidays ahead of many tickets
TARGETS = [60, 60, 60, 30, 48 * 60, 72 * 60, 7 * 24 * 60]  # received/diagnosing/repairing, QC, waits, ready

PATTERNS = [
    [(d, T(9), T(18)) for d in range(5)],
    [(d, T(9), T(18)) for d in range(6)],
    [(d, T(10), T(22)) for d in range(7)],
    [(d, T(9), T(12)) for d in range(5)] + [(d, T(13), T(18)) for d in range(5)],
    [(d, T(10), T(2)) for d in range(7)],  # a late store: closes at 02:00
    [(d, T(8, 30), T(20, 30)) for d in range(7)],
    [],  # a hub without weekly hours: open around the clock
]


def build(n_centers: int, n_tickets: int, seed: int = 21):
    rnd = random.Random(seed)
    calendars = []
    for _ in range(n_centers):
        weekly = rnd.choice(PATTERNS)
        exceptions = []
        for _e in range(rnd.randint(0, 3)):
            day = NOW.date() + dt.timedelta(days=rnd.randint(-10, 20))
            if rnd.random() < 0.5:
                exceptions.append((day, True, None, None))
            else:
                exceptions.append((day, False, T(10), T(16)))
        calendars.append(
            calendar_build(weekly=weekly, exceptions=exceptions, opens_on_public_holidays=rnd.random() < 0.3)
        )
    now_min = epoch_minute(NOW)
    week = 7 * 1440
    tickets = [(rnd.randrange(n_centers), now_min - rnd.randrange(week), rnd.choice(TARGETS)) for _ in range(n_tickets)]
    return calendars, tickets, now_min


def wall(calendars, tickets, now_min):
    overdue = [0] * len(calendars)
    for center, entered, target in tickets:
        if entered + target < now_min:
            overdue[center] += 1
    return sum(overdue)


def business(calendars, tickets, now_min):
    overdue = [0] * len(calendars)
    add = add_business_minutes_at
    for center, entered, target in tickets:
        if add(calendars[center], entered, target) < now_min:
            overdue[center] += 1
    return sum(overdue)


def stored(calendars, stored_tickets, now_min):
    overdue = [0] * len(calendars)
    for center, due in stored_tickets:
        if due < now_min:
            overdue[center] += 1
    return sum(overdue)


def timed(fn, *args, runs: int) -> tuple[float, int]:
    times, result = [], 0
    for _ in range(runs):
        # CPU time of this process: the machine is shared, wall time would measure the neighbours.
        t0 = time.process_time()
        result = fn(*args)
        times.append(time.process_time() - t0)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--centers", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    calendars, tickets, now_min = build(args.centers, args.tickets)
    business(calendars, tickets[: args.centers * 5], now_min)  # compile the windows (warm, as from the cache)
    for cal in calendars:
        add_business_minutes_at(cal, now_min - 8 * 1440, 0)
    setup = time.perf_counter() - t0
    stored_tickets = [(c, add_business_minutes_at(calendars[c], e, t)) for c, e, t in tickets]
    w, w_n = timed(wall, calendars, tickets, now_min, runs=args.runs)
    b, b_n = timed(business, calendars, tickets, now_min, runs=args.runs)
    s, s_n = timed(stored, calendars, stored_tickets, now_min, runs=args.runs)
    print(f"machine load (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; setup {setup:.1f} s")
    print(f"{args.tickets:,} tickets over {args.centers:,} center calendars, median of {args.runs}")
    print(f"wall-clock due times:          {w:7.3f} s   overdue {w_n:,}")
    print(f"business due times (computed): {b:7.3f} s   overdue {b_n:,}   ratio {b / w:.2f}x")
    print(f"business due times (stored):   {s:7.3f} s   overdue {s_n:,}   ratio {s / w:.2f}x")
    assert s_n == b_n


if __name__ == "__main__":
    main()
