"""The current time, replaceable in tests (app.config["CLOCK"]) so nothing has to sleep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app, has_app_context

from .models import utcnow


def now() -> datetime:
    """Aware UTC now, or the app's injected clock."""
    clock = current_app.config.get("CLOCK") if has_app_context() else None
    return clock() if clock is not None else utcnow()


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_microseconds(moment: datetime) -> int:
    """Microseconds since 1970 UTC, exactly (no float): for cursors and file names."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_epoch_microseconds(microseconds: int) -> datetime:
    """The aware UTC moment `epoch_microseconds` gave (OverflowError past year 9999)."""
    return EPOCH + timedelta(microseconds=microseconds)
