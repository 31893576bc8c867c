"""/healthz: what a load balancer or a monitor asks before sending readers here.

200 when the database answers and its schema is the one this code expects, else 503 with
what failed. It names no path, URL, version or error text (nothing for an attacker), and it
is never cached: each call looks at the database again.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .schema_state import schema_state

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """{"status": "ok", "database": "ok", "schema": "current"}, or 503 saying what failed."""
    report = {"status": "ok", "database": "ok", "schema": "current"}
    try:
        with db.engine.connect() as connection:
            report["schema"] = schema_state(connection)[0]
    except SQLAlchemyError:
        report["database"], report["schema"] = "unreachable", "unknown"
    healthy = report["database"] == "ok" and report["schema"] == "current"
    report["status"] = "ok" if healthy else "failing"
    response = jsonify(report)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503


def register(app: Flask) -> None:
    app.register_blueprint(bp)
