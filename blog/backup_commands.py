"""`blog backup`, `blog restore`, `blog export-json` and `blog import-json`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from . import backups, clock
from .extensions import db


def _schema_revision() -> str | None:
    from sqlalchemy import inspect, text

    if "alembic_version" not in inspect(db.engine).get_table_names():
        return None
    return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _counted(counts: dict[str, int]) -> str:
    """`posts: 12, revisions: 30, ...` in the order of the file's tables."""
    return ", ".join(f"{name}: {count}" for name, count in counts.items())


@click.command("backup")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Copy the database to FILE, consistently, while the blog serves and saves."""
    try:
        contents = backups.backup_database(db.engine, file)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:  # a full disk, a folder we may not write to
        raise click.ClickException(f"{file}: {error.strerror or error}") from None
    click.echo(f"Backed up {backups.live_database(db.engine.url)} to {contents.path}")
    click.echo(f"It holds {contents.describe()}.")


@click.command("restore")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds posts.")
def restore_command(file: Path, force: bool) -> None:
    """Replace the blog's database with the backup in FILE, after checking it.

    Stop every process of the blog first (`blog serve`, WSGI servers): the restore refuses
    to run while the database is open elsewhere."""
    from .changes import monitor
    from .cli import ensure_schema, refresh_excerpts, rerender

    # This process's own connections must not look like another process's.
    db.session.remove()
    monitor().watcher.close()
    monitor().forget()
    try:
        contents = backups.check_backup(file, db.engine.url)
        click.echo(f"{contents.path} holds {contents.describe()}.")
        replaced = backups.restore_database(db.engine, file, force)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    live = backups.live_database(db.engine.url)
    click.echo(f"Restored it as {live}" + (
        f" (replacing {replaced.posts} post(s))." if replaced.posts else "."))  # fmt: skip
    # What `blog init` does to a database an older version made.
    _known, head = backups.known_revisions()
    if contents.revision != head:
        click.echo(f"Upgrading its schema from {contents.revision} to {head}.")
    ensure_schema()
    refresh_excerpts()
    rerender(everything=False)
    backups.advance_change_counters(replaced.counters, monitor().signal)
    mirror = current_app.extensions.get("static_mirror")
    if mirror is not None:  # nginx must stop serving the old database's pages now
        mirror.advance()
    click.echo("Start the blog again; pages cached for the old database are not served.")


@click.command("export-json")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_json_command(file: Path) -> None:
    """Write the whole site (posts with revisions, taxonomy, users, settings, media) to FILE
    as JSON."""
    from .content.transfer import export_site

    if not file.absolute().parent.is_dir():
        raise click.ClickException(f"{file.absolute().parent} does not exist.")
    try:
        summary = export_site(file, clock.now(), _schema_revision())
    except OSError as error:
        raise click.ClickException(f"{file}: {error.strerror or error}") from None
    click.echo(f"Exported to {file}: {_counted(summary.counts)}. Passwords are not in it.")


@click.command("import-json")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_json_command(file: Path) -> None:
    """Import a site `blog export-json` wrote into this blog, which must hold no posts."""
    from .cli import ensure_schema
    from .content.transfer import TransferError, import_site, read_export

    ensure_schema()
    try:
        summary = import_site(read_export(file))
    except TransferError as error:
        raise click.ClickException(f"{file}: {error}") from None
    click.echo(f"Imported {_counted(summary.counts)}.")
    for slug in summary.rendered_from_file:
        click.echo(f"{slug}: its source did not render in time; its exported body is kept.")
    if summary.matched_users:
        click.echo("Already here, password kept: " + ", ".join(summary.matched_users))
    if summary.new_users:
        click.echo(
            "Added without a usable password: " + ", ".join(summary.new_users) + ". Give each "
            "a password with `blog reset-password NAME` (or a reset link on the Users page)."
        )


COMMANDS = (backup_command, restore_command, export_json_command, import_json_command)
