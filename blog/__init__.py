"""The blog application factory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext

from .config import load_config
from .database import configure_engine
from .extensions import babel, csrf, db, login_manager
from .extensions import htmx as htmx_extension  # blog.htmx, the module, would shadow it

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _site_folder(name: str) -> str:
    """templates/ or static/: beside the package in a checkout, inside it in the .pyz
    (deploy/build_pyz.py copies them in, as nothing else is there to find)."""
    packaged = Path(__file__).resolve().parent / name
    return str(packaged if packaged.is_dir() else PROJECT_ROOT / name)


def create_app(config: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, CLI commands, error pages."""
    # Imported here, not at the top: importing blog.content (the domain) must not load
    # the web layer.
    from .auth.sessions import load_user_for_session
    from .i18n import select_locale

    app = Flask(
        __name__,
        instance_path=instance_path or os.environ.get("BLOG_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder=_site_folder("templates"),
        static_folder=_site_folder("static"),
    )
    app.config.update(load_config(Path(app.instance_path), config))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    htmx_extension.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please sign in to see this page.")
    login_manager.user_loader(load_user_for_session)
    with app.app_context():
        configure_engine(
            db.engine,
            busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"],
            max_page_count=app.config.get("SQLITE_MAX_PAGE_COUNT"),
        )
    from .secret_key import configure_secret_key

    configure_secret_key(app)  # SECRET_KEY given, else the database's

    from . import errors, health, routing, security, static_files, templating
    from .auth import bp as auth_bp
    from .editor import bp as editor_bp
    from .public import bp as public_bp

    routing.register(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(editor_bp)
    errors.register(app)
    health.register(app)
    security.register(app)
    templating.register(app)
    static_files.register(app)

    from .cli import register_commands

    register_commands(app)
    # What changed on the public site, told cheaply: the page cache and the settings use it.
    from . import changes

    monitor = changes.install(app)
    # Outermost, so a cached page costs no Flask machinery at all.
    from .page_cache import PageCache

    app.wsgi_app = PageCache(  # type: ignore[method-assign]
        app, app.wsgi_app, app.config["PAGE_CACHE_BYTES"], monitor
    )
    return app
