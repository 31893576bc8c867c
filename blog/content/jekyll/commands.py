"""`blog export-jekyll DIR`: the blog as a Jekyll site (the exporter loads only when run)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


@click.command("export-jekyll")
@with_appcontext
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Write into a folder that is not empty (files of the same names are "
                   "written over; nothing else is deleted).")  # fmt: skip
def export_jekyll_command(directory: Path, force: bool) -> None:
    """Write every post, draft and stored file out as a Jekyll site in DIRECTORY."""
    from ...cli import ensure_schema
    from .exporter import ExportError, export_jekyll

    ensure_schema()
    try:
        report = export_jekyll(directory, force=force)
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    for note in report.notes:
        click.echo(f"note: {note}")
    click.echo(
        f"Exported {report.posts} post(s) ({report.drafts} in _drafts) and {report.media} "
        f"file(s) to {directory}. Import it back with: blog import-jekyll {directory} "
        f"--assets {directory}"
    )
