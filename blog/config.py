"""Configuration: defaults overridden by environment variables (12-factor style)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

# Hosts a request may name when no BLOG_BASE_URL says where the blog lives.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


def _trusted_hosts(env: Mapping[str, str], base_url: str, host: str) -> list[str] | None:
    """The Host header values to accept (others get 400), or None to accept any.

    Links in e-mails and pages are built from BLOG_BASE_URL when it is set, so the Host
    header cannot poison them and any Host is served. Without it, links come from the
    Host header, which must then be one of TRUSTED_HOSTS (default: this machine's names).
    """
    listed = [name.strip() for name in env.get("TRUSTED_HOSTS", "").split(",") if name.strip()]
    if listed:
        return listed
    if base_url:
        return None
    extra = [host] if host not in {"", "0.0.0.0", "::"} else []
    return [*LOCAL_HOSTS, *extra]


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the app config from defaults, the environment and explicit overrides (tests)."""
    env = os.environ
    overrides = overrides or {}
    base_url = env.get("BLOG_BASE_URL", "").strip().rstrip("/")
    host = env.get("HOST", "127.0.0.1")
    post_chars = int(env.get("MAX_POST_CHARS", "1000000"))
    config: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL")
        or f"sqlite:///{instance_path / 'blog.sqlite3'}",
        # The title until one is stored: `blog init` stores BLOG_TITLE, the settings page
        # changes it.
        "BLOG_TITLE": env.get("BLOG_TITLE", "").strip() or "Blog",
        # What search engines are told an article is (schema.org): a news site's articles
        # are NewsArticle; BlogPosting suits a personal blog. A setting after that.
        "BLOG_ARTICLE_SCHEMA": env.get("BLOG_ARTICLE_SCHEMA", "NewsArticle"),
        # Site verification codes (the content of each engine's meta tag); settings too.
        "BLOG_GOOGLE_SITE_VERIFICATION": env.get("BLOG_GOOGLE_SITE_VERIFICATION", ""),
        "BLOG_NAVER_SITE_VERIFICATION": env.get("BLOG_NAVER_SITE_VERIFICATION", ""),
        "BLOG_BING_SITE_VERIFICATION": env.get("BLOG_BING_SITE_VERIFICATION", ""),
        # The sitemaps protocol's limit per file; past it /sitemap.xml is an index of parts.
        "SITEMAP_MAX_URLS": int(env.get("SITEMAP_MAX_URLS", "50000")),
        "BLOG_DESCRIPTION": env.get("BLOG_DESCRIPTION", ""),
        "BLOG_LANGUAGE": env.get("BLOG_LANGUAGE", "ko"),
        "BLOG_TIMEZONE": env.get("BLOG_TIMEZONE", "Asia/Seoul"),
        "POSTS_PER_PAGE": int(env.get("POSTS_PER_PAGE", "10")),
        # Anonymous pages kept in memory, in bytes (with their compressed forms); 0: off.
        "PAGE_CACHE_BYTES": int(env.get("PAGE_CACHE_BYTES", str(24 * 1024 * 1024))),
        # How long a signed-in reader's public pages are kept for their browser; 0: never.
        "PAGE_CACHE_SIGNED_IN_SECONDS": float(env.get("PAGE_CACHE_SIGNED_IN_SECONDS", "60")),
        # A directory nginx/Caddy serve anonymous readers from (blog/static_mirror.py); off
        # when empty.
        "BLOG_STATIC_MIRROR": env.get("BLOG_STATIC_MIRROR", "").strip(),
        # On by default, so a small team works as before; a newsroom that keeps a fixed list
        # of categories turns it off on the settings page.
        "BLOG_WRITERS_MAY_ADD_TERMS": env.get("BLOG_WRITERS_MAY_ADD_TERMS", "1").lower()
        in {"1", "true"},
        "HOST": host,
        "PORT": int(env.get("PORT", "8000")),
        # Where readers reach the blog (https://news.example.com): absolute links in
        # reset e-mails, canonical links and feeds come from here, never from Host.
        "BLOG_BASE_URL": base_url,
        "TRUSTED_HOSTS": _trusted_hosts(env, base_url, host),
        # The longest post body in characters; a longer one comes back in the form.
        "MAX_POST_CHARS": post_chars,
        # Requests larger than this are refused with 413 before they are read.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(16 * 1024 * 1024))),
        # Werkzeug's own limit on form text (default 500 KB) would refuse a long post with
        # a bare 413; room for MAX_POST_CHARS of Hangul (3 bytes each) and the other fields.
        "MAX_FORM_MEMORY_SIZE": post_chars * 4 + 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "").lower() in {"1", "true"},
        "TRUST_PROXY_HEADERS": env.get("TRUST_PROXY_HEADERS", "").lower() in {"1", "true"},
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        # How long a save waits for another save to finish before giving up with a message.
        "SQLITE_BUSY_TIMEOUT_MS": int(env.get("SQLITE_BUSY_TIMEOUT_MS", "10000")),
        "MAX_UPLOAD_BYTES": int(env.get("MAX_UPLOAD_BYTES", str(10 * 1024 * 1024))),
        # A CSRF token lives as long as the session: a long writing session must not lose it.
        "WTF_CSRF_TIME_LIMIT": None,
        "PERMANENT_SESSION_LIFETIME": timedelta(days=30),
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
    }
    config.update(overrides)
    if str(config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        # A database server may restart or drop idle connections: each connection is
        # checked as it leaves the pool, so no request fails on one that died meanwhile.
        config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    if "SECRET_KEY" not in config and env.get("SECRET_KEY"):
        # Else the database's (blog/secret_key.py, once the database can be read).
        config["SECRET_KEY"] = env["SECRET_KEY"]
    return config
