"""The domain events of centers: a store reported by the public as possibly unofficial (issue #22).

Payloads carry ids and codes only (no reporter data, no address).
"""

from __future__ import annotations

EVENT_TYPES = {
    "store_report.created": "Someone reported a store as possibly passing itself off as official (HQ triages it).",
}
