"""Time as the services see it: replaceable, so expiry rules can be tested without sleeping."""

from __future__ import annotations

import datetime
from collections.abc import Callable

Clock = Callable[[], datetime.datetime]


def system_clock() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
