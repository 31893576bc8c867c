"""The current time, replaceable in tests (app.config["CLOCK"]) so nothing has to sleep."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context

from .models import utcnow


def now() -> datetime:
    """Aware UTC now, or the app's injected clock."""
    clock = current_app.config.get("CLOCK") if has_app_context() else None
    return clock() if clock is not None else utcnow()
