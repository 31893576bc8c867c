"""The blog application factory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from .config import load_config
from .database import configure_engine
from .extensions import db
from .extensions import htmx as htmx_extension  # blog.htmx, the module, would shadow it

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, CLI commands, error pages."""
    app = Flask(
        __name__,
        instance_path=instance_path or os.environ.get("BLOG_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(load_config(Path(app.instance_path), config))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    htmx_extension.init_app(app)
    with app.app_context():
        configure_engine(db.engine)

    from . import errors, security, templating
    from .public import bp as public_bp

    app.register_blueprint(public_bp)
    errors.register(app)
    security.register(app)
    templating.register(app)

    from .cli import register_commands

    register_commands(app)
    return app
