"""The migrations build exactly the schema the models describe, and upgrade in place."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import inspect

from blog import create_app
from blog.database import described_by_models, schema_changes
from blog.extensions import db, init_migrations
from tests.conftest import database_url


def test_migrations_create_the_schema_of_the_models(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_url(tmp_path)},
        instance_path=str(tmp_path / "instance"),
    )
    init_migrations(app)
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_name": described_by_models}
            )
            differences = compare_metadata(context, db.metadata)
        assert differences == [], "run `blog db migrate -m ...` and commit the new migration"
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}


def test_init_adopts_a_database_made_before_migrations(app: Flask, runner: FlaskCliRunner) -> None:
    # The app fixture builds its tables with create_all(), as installs before migrations did.
    result = runner.invoke(args=["init", "--no-sample"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert "alembic_version" in inspect(db.engine).get_table_names()


def test_the_newsroom_migration_keeps_every_link_and_merges_names_that_fold_alike(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    """A blog with posts, categories and tags upgrades with nothing lost: SQLite's batch
    mode rebuilds tables, which with foreign keys on would cascade-delete every link."""
    app = create_app(
        {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"},
        instance_path=str(tmp_path / "instance"),
    )
    init_migrations(app)
    with app.app_context():
        flask_migrate.upgrade(revision="5a7d2c8e9f10")
        # Rows as an older blog wrote them, through the migration's own door.
        with schema_changes(), db.engine.begin() as connection:
            run = connection.exec_driver_sql
            then = "'2024-01-01 00:00:00'"
            run("INSERT INTO users (id, username, display_name, password_hash, role, active, "
                f"created_at) VALUES (1, 'kim', '김', 'x', 'editor', 1, {then})")  # fmt: skip
            for post_id in (1, 2, 3):
                run("INSERT INTO posts (id, title, slug, source, source_format, body_html, "
                    "excerpt, summary, feature_text, feature_image, status, created_at, "
                    "updated_at, author_id, extra, version) VALUES "
                    f"({post_id}, 't{post_id}', 's{post_id}', '', 'markdown', '', '', '', '', "
                    f"'', 'published', {then}, {then}, 1, '{{}}', 1)")  # fmt: skip
            run("INSERT INTO categories (id, name, slug) VALUES "
                "(1, 'News', 'news'), (2, 'news', 'news-2'), (3, '정치', '정치')")  # fmt: skip
            run(
                "INSERT INTO tags (id, name, slug) VALUES (1, '속보', '속보'), (2, 'ＡＢＣ', 'abc')"
            )
            # Post 1 has both spellings of News; post 2 only the later one.
            run("INSERT INTO post_categories VALUES (1, 1), (1, 2), (1, 3), (2, 2), (3, 3)")
            run("INSERT INTO post_tags VALUES (1, 1), (2, 1), (3, 2)")
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            run = connection.exec_driver_sql
            assert run("SELECT post_id, category_id FROM post_categories ORDER BY 1, 2").all() == [
                (1, 1), (1, 3), (2, 1), (3, 3)
            ]  # fmt: skip
            assert run("SELECT post_id, tag_id FROM post_tags ORDER BY 1, 2").all() == [
                (1, 1), (2, 1), (3, 2)
            ]  # fmt: skip
            assert run("SELECT id, name, name_key FROM categories ORDER BY id").all() == [
                (1, "News", "news"), (3, "정치", "정치")
            ]  # fmt: skip
            assert run("SELECT kind, old_slug, category_id FROM taxonomy_redirects").all() == [
                ("category", "news-2", 1)
            ]  # fmt: skip
            assert run("PRAGMA foreign_key_check").all() == []
            assert run("PRAGMA foreign_keys").scalar() == 1  # back on for the app


def test_serving_does_not_load_alembic(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`blog serve` and wsgi.py never migrate: importing Alembic would only slow start-up."""
    import subprocess
    import sys

    code = (
        "import sys; from blog import create_app; create_app(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'alembic', 'flask_migrate'}"
        " or m == 'blog.content.jekyll.importer'))"
    )
    env = {"BLOG_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "PATH": "/usr/bin:/bin"}
    loaded = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=True).stdout.strip()  # fmt: skip
    assert loaded == "[]"


def test_the_media_size_migration_records_the_size_of_files_already_stored(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import io

    from PIL import Image

    app = create_app(
        {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"},
        instance_path=str(tmp_path / "instance"),
    )
    init_migrations(app)
    png = io.BytesIO()
    Image.new("RGB", (640, 360), (1, 2, 3)).save(png, "PNG")
    with app.app_context():
        flask_migrate.upgrade(revision="b71e4c9a2d58")
        with schema_changes(), db.engine.begin() as connection:
            for number, (kind, data) in enumerate(
                [("image/png", png.getvalue()), ("image/svg+xml", b"<svg/>"), ("image/png", b"x")]
            ):
                connection.exec_driver_sql(
                    "INSERT INTO media (sha256, filename, content_type, size, data, created_at) "
                    "VALUES (?, '사진.png', ?, 1, ?, '2024-01-01 00:00:00')",
                    (f"{number:064d}", kind, data),
                )
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            sizes = connection.exec_driver_sql("SELECT width, height FROM media ORDER BY id").all()
        # An SVG and a file Pillow cannot read keep an unknown size.
        assert [tuple(row) for row in sizes] == [(640, 360), (None, None), (None, None)]
