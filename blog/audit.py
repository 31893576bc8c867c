"""The audit log: who did what to which post or account."""

from __future__ import annotations

from typing import Any

from . import clock
from .extensions import db
from .models import AuditEvent, User


def record(actor: User | None, action: str, target: str = "", **detail: Any) -> None:
    """Add an audit event to the current transaction (it commits with the change)."""
    db.session.add(
        AuditEvent(
            actor_id=actor.id if actor else None,
            action=action,
            target=target[:300],
            detail=detail,
            created_at=clock.now(),
        )
    )
