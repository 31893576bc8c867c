"""The `blog` command: a Flask CLI group for this app (init, serve, import-jekyll, ...)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import bindparam, func, inspect, select, update

from . import audit
from .auth.accounts import (
    AccountError,
    create_user,
    find_user,
    first_admin,
    generate_password,
    new_password,
    set_password,
)
from .content.markup import EXCERPT_SCAN_LIMIT, first_paragraph_text
from .content.posts import rerender_posts
from .content.settings import set_setting, site_settings
from .content.text import TextError, clean_line
from .database import described_by_models, writing
from .extensions import db, init_migrations
from .models import Post, Role, Setting
from .schema_state import NEWER_MESSAGE, OLDER_MESSAGE, head_revision, schema_state
from .static_mirror import keep_current

if TYPE_CHECKING:
    from .content.jekyll.importer import FileResult, ImportReport

SAMPLE_SITE = Path(__file__).parent / "sample"
# Bumped when first_paragraph_text changes what it picks: `blog init` then recomputes the
# excerpts it made (2: the first paragraph, no longer the first heading).
EXCERPT_RULE = 2
MAX_TITLE_LENGTH = 200  # as the settings page allows


def _create_app_for_cli() -> Flask:
    from . import create_app

    app = create_app()
    command = click.get_current_context(silent=True)
    if command is None or command.info_name != "serve":
        init_migrations(app)  # for `blog db ...`; serving never migrates
    return app


def _use_data_directory(
    context: click.Context, parameter: click.Parameter, data: Path | None
) -> None:
    # Read by create_app. Set while the options are parsed: the app is made before the
    # group's own callback runs, to find the command (they are the app's commands).
    if data is not None:
        os.environ["BLOG_INSTANCE_PATH"] = str(data.resolve())


@click.group(cls=FlaskGroup, create_app=_create_app_for_cli, add_version_option=False)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    is_eager=True,
    expose_value=False,
    callback=_use_data_directory,
    help="The blog's data directory: database, secret key (default: BLOG_INSTANCE_PATH).",
)
def main() -> None:
    """Manage the blog: set it up, import Jekyll archives, serve it."""


def ensure_schema() -> None:
    """Bring the database to the newest schema (Alembic), creating it when it is new.

    A database made by create_all() without Alembic is stamped as what it is: the newest
    revision when it already matches the models exactly, else the first revision (as
    installs before migrations existed made it), then upgraded like any other.
    """
    import flask_migrate
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    init_migrations(current_app)
    tables = set(inspect(db.engine).get_table_names())
    if tables and "alembic_version" not in tables:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_name": described_by_models}
            )
            current = not compare_metadata(context, db.metadata)
        flask_migrate.stamp(revision="head" if current else "178d4886ab14")
    flask_migrate.upgrade()


def _print_progress(index: int, total: int, result: FileResult) -> None:
    note = f" ({len(result.warnings)} warning(s))" if result.warnings else ""
    reason = f": {result.reason}" if result.reason else ""
    click.echo(f"[{index}/{total}] {result.outcome:8} {result.path}{reason}{note}")


def print_report(report: ImportReport) -> None:
    """The closing summary of an import: counts, then every warning and failure by file."""
    for warning in report.site_warnings:
        click.echo(f"warning: {warning}")
    for result in report.files:
        if result.outcome == "skipped":
            click.echo(f"skipped: {result.path}: {result.reason}")
        for warning in result.warnings:
            click.echo(f"warning: {result.path}: {warning}")
    for result in report.failed:
        click.echo(f"FAILED: {result.path}: {result.reason}", err=True)
    prefix = "Dry run, nothing saved: " if report.dry_run else ""
    click.echo(
        f"{prefix}{report.count('imported')} imported, {report.count('updated')} updated, "
        f"{report.drafts} drafts, {report.count('skipped')} skipped, "
        f"{report.warning_count} warnings, {len(report.failed)} failed"
    )


def run_import(path: Path, assets: Path | None, dry_run: bool, author_name: str | None,
               timezone: str | None, progress: bool = True) -> ImportReport:  # fmt: skip
    author = find_user(author_name) if author_name else first_admin()
    if author_name and author is None:
        raise click.UsageError(f"no user named {author_name!r}")
    # Imported here: `blog serve` need not load the importer (YAML, Liquid, ...).
    from .content.jekyll.importer import JekyllImporter

    zone = ZoneInfo(timezone or site_settings()["timezone"])
    importer = JekyllImporter(
        path,
        author=author,
        fallback_zone=zone,
        assets_dir=assets,
        site_title=site_settings()["title"],
        progress=_print_progress if progress else None,
    )
    return importer.run(dry_run=dry_run)


@click.command("import-jekyll")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--assets",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder holding the images posts reference (the site root or its assets).",
)
@click.option("--dry-run", is_flag=True, help="Read and report everything, save nothing.")
@click.option("--author", "author_name", help="User the posts belong to (default: first admin).")
@click.option("--timezone", help="Zone for dates without offset when _config.yml names none.")
def import_jekyll(path: Path, assets: Path | None, dry_run: bool, author_name: str | None,
                  timezone: str | None) -> None:  # fmt: skip
    """Import a Jekyll site (or a folder of posts) from PATH."""
    ensure_schema()
    report = run_import(path, assets, dry_run, author_name, timezone)
    print_report(report)
    if not report.files:
        click.echo(
            f"No Jekyll posts found in {path}: expected _posts/ or _drafts/ folders, or post "
            "files named YYYY-MM-DD-title.md",
            err=True,
        )
        sys.exit(1)
    sys.exit(1 if report.failed else 0)


def set_up_title() -> None:
    """Store BLOG_TITLE as the site's title on the first run that has it; say where the
    title is changed. The settings page's title wins over the variable afterwards."""
    stored = db.session.get(Setting, "title")
    wanted = os.environ.get("BLOG_TITLE", "").strip()
    if stored is None and wanted:
        try:
            title = clean_line(wanted, max_length=MAX_TITLE_LENGTH)
        except TextError as error:
            raise click.ClickException(f"BLOG_TITLE: {error}") from None
        with writing():
            set_setting("title", title)
        click.echo(f"Site title: {title!r} (from BLOG_TITLE).")
        return
    title = site_settings()["title"]
    click.echo(
        f"Site title: {title!r}. Change it on the Site settings page (/admin/settings)"
        + (", or set BLOG_TITLE before the first `blog init`." if stored is None else ".")
    )
    if stored is not None and wanted and wanted != stored.value:
        click.echo("BLOG_TITLE is not used: the title set on the Site settings page is kept.")


def refresh_excerpts() -> int:
    """Recompute the summary of posts without an excerpt or feature text, once per
    EXCERPT_RULE: it is derived from the stored body, so no post is rendered again, and
    neither their version nor their revisions change (an open editor keeps its form)."""
    rule = db.session.get(Setting, "excerpt_rule")
    if rule is not None and rule.value == EXCERPT_RULE:
        return 0
    rows = db.session.execute(
        select(Post.id, func.substr(Post.body_html, 1, EXCERPT_SCAN_LIMIT), Post.summary).where(
            Post.excerpt == "", Post.feature_text == ""
        )
    ).all()
    changed = [
        {"post_id": post_id, "new_summary": summary}
        for post_id, opening, old in rows
        if (summary := first_paragraph_text(opening or "")) != old
    ]
    posts = Post.__table__
    with writing():
        if changed:
            db.session.execute(
                update(posts)
                .where(posts.c.id == bindparam("post_id"))
                .values(summary=bindparam("new_summary")),
                changed,
            )
        set_setting("excerpt_rule", EXCERPT_RULE)
    return len(changed)


@click.command("init")
@with_appcontext
@click.option("--sample/--no-sample", default=True, help="Import the sample post on first run.")
def init(sample: bool) -> None:
    """Create or upgrade the database, an admin account and the sample post; keep what exists."""
    from .secret_key import keep_secret_key

    ensure_schema()
    click.echo(f"Database: {db.engine.url.render_as_string(hide_password=True)}")
    keep_secret_key(current_app)  # the key that signs sessions, moved in from a file if need be
    username = os.environ.get("BLOG_ADMIN_USER", "admin")
    user = find_user(username)
    if user is None:
        password = os.environ.get("BLOG_ADMIN_PASSWORD") or generate_password()
        try:
            hashed = new_password(password, username)
            with writing():
                create_user(username, hashed, Role.ADMIN)
        except AccountError as error:
            raise click.ClickException(f"BLOG_ADMIN_PASSWORD or BLOG_ADMIN_USER: {error}") from None
        shown = (
            password if not os.environ.get("BLOG_ADMIN_PASSWORD") else "(from BLOG_ADMIN_PASSWORD)"
        )
        click.echo(f"Created admin account {username!r} with password: {shown}")
        click.echo("This password is shown only once; keep it somewhere safe.")
    else:
        click.echo(f"Admin account {username!r} exists; its password is unchanged.")
    set_up_title()
    if refreshed := refresh_excerpts():
        click.echo(f"Excerpts: {refreshed} post(s) without a written excerpt now show their "
                   "first paragraph (instead of a heading).")  # fmt: skip
    rerender(everything=False)
    if sample and db.session.get(Setting, "sample_imported") is None:
        posts_before = db.session.execute(select(func.count(Post.id))).scalar_one()
        # The import writes in batches of its own; it must not run inside `writing()`.
        report = run_import(SAMPLE_SITE, SAMPLE_SITE, False, None, None, progress=False)
        with writing():
            set_setting("sample_imported", True)
        if report.failed:
            raise click.ClickException(f"sample import failed: {report.failed[0].reason}")
        click.echo(f"Imported the sample post ({posts_before} post(s) were already there).")


def check_schema_for_serving() -> None:
    """Set up a new blog's database; refuse to serve one whose schema is not this code's."""
    with db.engine.connect() as connection:
        state, found = schema_state(connection)
    if state == "empty":
        # A new data directory (the .pyz's first run): as `blog init` would make it.
        click.get_current_context().invoke(init)
    elif state == "older":
        raise click.ClickException(OLDER_MESSAGE)
    elif state == "newer":
        raise click.ClickException(NEWER_MESSAGE.format(found=found, head=head_revision()))


@click.command("serve")
@with_appcontext
@click.option("--host", default=None, help="Address to listen on (default: HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default: PORT or 8000).")
@click.option("--threads", default=8, show_default=True, help="Worker threads.")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="A JSON line per request on standard error.")  # fmt: skip
def serve(host: str | None, port: int | None, threads: int, access_log: bool) -> None:
    """Serve the blog with waitress (setting up a new database first); stop with SIGTERM."""
    from .access_log import AccessLog, configure_logger
    from .serving import create, limit_malloc_arenas, run_until_stopped

    limit_malloc_arenas()  # before waitress (or the static mirror) starts a thread

    check_schema_for_serving()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    host = host or app.config["HOST"]
    port = port or app.config["PORT"]
    username = os.environ.get("BLOG_ADMIN_USER", "admin")
    click.echo(f"Blog running at http://{host}:{port}/  (stop with Ctrl+C)")
    click.echo(
        f"Sign in at http://{host}:{port}/login as {username!r} with the password `blog init` "
        "printed when it made the account (`blog reset-password` makes a new one)."
    )
    # waitress warns "Task queue depth is N" whenever a request waits for a thread: normal
    # under load, and the logging alone cost about 18 % of throughput. Real trouble (a
    # thread stuck) still shows as the requests' own errors.
    logging.basicConfig()  # as waitress.serve does: its errors go to standard error
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    keep_current(app)  # the static mirror, if any, follows scheduled posts without requests
    logged = AccessLog(app)
    server = create(
        logged if access_log else app, host=host, port=port, threads=threads, ident="blog",
        # Idle keep-alive connections are closed after 30 s; at most 200 at once, so a
        # flood of slow clients cannot hold every socket of a small machine.
        channel_timeout=30, connection_limit=200,
        # waitress drops X-Forwarded-* unless told to trust a proxy itself: with
        # TRUST_PROXY_HEADERS they must reach the app's ProxyFix (blog/security.py).
        clear_untrusted_proxy_headers=not app.config["TRUST_PROXY_HEADERS"],
    )  # fmt: skip
    if access_log:
        configure_logger()
        logged.start()
    try:
        answered = run_until_stopped(server)
    finally:
        logged.stop()
    if not answered:
        raise click.ClickException("Stopped with requests still unanswered after 30 seconds.")
    click.echo("Blog stopped: every request in flight was answered.")


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.AUTHOR.value,
              show_default=True)  # fmt: skip
@click.option("--email", default=None)
@click.option("--display-name", default="",
              help="The name bylines show; without one, posts show no byline.")  # fmt: skip
@click.option("--password", default=None, help="Default: generated and printed once.")
@with_appcontext
def create_user_command(
    username: str, role: str, email: str | None, display_name: str, password: str | None
) -> None:
    """Add a user (the same as the Users page does)."""
    chosen = password or generate_password()
    try:
        hashed = new_password(chosen, username)
        with writing():
            user = create_user(username, hashed, Role(role), email=email, display_name=display_name)
            audit.record(None, "user.create", user.username, role=user.role, via="cli")
    except AccountError as error:
        option = {"display_name": "--display-name: ", "email": "--email: "}.get(error.field or "")
        raise click.ClickException(f"{option or ''}{error}") from None
    shown = "(as given)" if password else chosen
    click.echo(f"Created {role} {username!r} with password: {shown}")


@click.command("reset-password")
@click.argument("username")
@click.option("--password", default=None, help="Default: generated and printed once.")
@with_appcontext
def reset_password_command(username: str, password: str | None) -> None:
    """Give a user a new password and sign them out everywhere."""
    user = find_user(username)
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    chosen = password or generate_password()
    try:
        hashed = new_password(chosen, user.username)
        with writing():
            set_password(user, hashed)
            audit.record(None, "user.password_reset", user.username, via="cli")
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"New password for {username!r}: {'(as given)' if password else chosen}")


def rerender(everything: bool) -> None:
    """Render posts saved by an older renderer again (see rerender_posts), saying so."""

    def show_progress(done: int, total: int) -> None:
        click.echo(f"Rendering posts again: {done}/{total}", err=True)

    report = rerender_posts(everything, progress=show_progress)
    if report.rendered:
        click.echo(f"Rendered {report.rendered} post(s) again (code highlighting, tables of "
                   "contents, reading time); no revision was added.")  # fmt: skip
    for slug, reason in report.failed:
        click.echo(f"Not rendered again: {slug}: {reason} (its page is unchanged)", err=True)


@click.command("rerender")
@with_appcontext
@click.option(
    "--all", "everything", is_flag=True, help="Every post, not only those an older blog rendered."
)
def rerender_command(everything: bool) -> None:
    """Render stored posts again from their source, after an upgrade of the renderer."""
    ensure_schema()
    rerender(everything)


def register_commands(app: Flask) -> None:
    """Make the commands available as `blog ...` and `flask --app wsgi ...`."""
    from .backup_commands import COMMANDS as BACKUP_COMMANDS

    for command in (init, serve, import_jekyll, create_user_command, reset_password_command,
                    rerender_command, *BACKUP_COMMANDS):  # fmt: skip
        app.cli.add_command(command)
    from .content.jekyll.commands import export_jekyll_command  # the Jekyll site export

    app.cli.add_command(export_jekyll_command)


if __name__ == "__main__":
    main()
