"""Old Jekyll URLs answer with a 301 to the post's new address."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient

from tests.public.test_article import SEED_SLUG, import_sample


def test_seed_old_url_redirects_permanently(app: Flask, client: FlaskClient) -> None:
    import_sample(app)
    old = "/news/2024/07/22/" + quote("한미-동맹-지지-대통령실-초당적-의지-공개") + ".html"
    response = client.get(old)
    assert response.status_code == 301
    assert response.headers["Location"] == f"/posts/{quote(SEED_SLUG)}"
    assert client.get(response.headers["Location"]).status_code == 200


def test_old_url_variants_all_redirect(app: Flask, client: FlaskClient) -> None:
    import_sample(app)
    base = "/news/2024/07/22/" + quote("한미-동맹-지지-대통령실-초당적-의지-공개")
    for variant in (base, base + "/", base + "/index.html"):
        assert client.get(variant).status_code == 301, variant


def test_redirects_to_posts_that_are_no_longer_public_are_404(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    from blog.content.jekyll.importer import JekyllImporter
    from blog.content.settings import site_zone

    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_posts" / "2024-01-01-a.md").write_text("---\nredirect_from: /old/\n---\nx")
    with app.app_context():
        JekyllImporter(site, author=None, fallback_zone=site_zone()).run()
    assert client.get("/old/").status_code == 301
    (site / "_posts" / "2024-01-01-a.md").write_text("---\npublished: false\n---\nx")
    with app.app_context():
        JekyllImporter(site, author=None, fallback_zone=site_zone()).run()
    assert client.get("/old/").status_code == 404


def test_unknown_path_gets_the_friendly_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page.html")
    assert response.status_code == 404
    assert "This page does not exist" in response.text and 'href="/"' in response.text
