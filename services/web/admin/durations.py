"""Business time as an admin types it and reads it: `1d 4h 30m` (days of 24 hours)."""

from __future__ import annotations

import re

UNITS = {"d": 86400, "h": 3600, "m": 60}
_PART = re.compile(r"(\d+)\s*([dhm])")


def seconds_of(typed: str) -> int | None:
    """`4h`, `1d 2h`, `90m` in seconds; None when empty or not of that shape."""
    text = typed.strip().lower().replace(" ", "")
    if not text or _PART.sub("", text):
        return None
    return sum(int(amount) * UNITS[unit] for amount, unit in _PART.findall(text)) or None


def typed_of(seconds: int | None) -> str:
    """Seconds as an admin types them (`1d 4h 30m`); leftover seconds are rounded up to a minute."""
    if not seconds:
        return ""
    minutes = -(-seconds // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    return " ".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n)
