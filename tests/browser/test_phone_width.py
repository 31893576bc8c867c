"""Every admin page at phone width (390 px) and on a laptop (1366 px), in Korean.

Nothing may push the page sideways (a wide table scrolls inside its own box), and no
button label may wrap: "비밀번호 재설정 링크" one syllable per line is what a newsroom saw.
Screenshots go to test-output/screenshots/ for a person to look at.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Browser, Page

from blog.auth.accounts import create_user
from blog.content.media import upload_image
from blog.database import writing
from blog.extensions import db
from blog.models import Post, Role, User
from tests.browser.conftest import screenshot
from tests.conftest import MakePost

PASSWORD = "correct horse battery"
WIDTHS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 900}}

# What overflows: the page wider than the window, and button labels on more than one line.
# A table may be wider than the window only inside a box that scrolls it.
_LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth > width) {
    problems.push(`page is ${document.documentElement.scrollWidth}px wide in a ${width}px window`);
  }
  const scrolls = (element) => {
    for (let node = element.parentElement; node; node = node.parentElement) {
      const overflow = getComputedStyle(node).overflowX;
      if (overflow === "auto" || overflow === "scroll") return true;
    }
    return false;
  };
  const label = (element) => (element.textContent || element.value || "").trim().slice(0, 40);
  for (const element of document.querySelectorAll("button, .button, input[type=submit], select")) {
    const box = element.getBoundingClientRect();
    if (!box.width || getComputedStyle(element).visibility === "hidden") continue;
    if ((box.right > width + 1 || box.left < -1) && !scrolls(element)) {
      problems.push(`${element.tagName} "${label(element)}" is cut at ${box.left}..${box.right}`);
    }
    if (element.tagName === "SELECT") continue;
    const style = getComputedStyle(element);
    const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.25;
    const padding = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
    const inner = element.clientHeight - padding;
    if (inner > line * 1.5) problems.push(`button "${label(element)}" wraps (${inner}px tall)`);
  }
  return problems;
}"""


@pytest.fixture
def newsroom(app: Flask, make_post: MakePost) -> dict[str, Any]:
    """A Korean newsroom's admin pages with something on each of them."""
    with app.app_context(), writing():
        admin = create_user("admin", PASSWORD, Role.ADMIN, display_name="관리자 김")
        admin.language = "ko"
        create_user("reporter", PASSWORD, Role.CONTRIBUTOR, display_name="박지훈 수습기자",
                    email="park.jihoon.reporter@newsroom.example.kr")  # fmt: skip
        create_user("desk", PASSWORD, Role.EDITOR, display_name="이서연 데스크")
        admin_id = admin.id
    with app.app_context():
        picture = io.BytesIO()
        Image.new("RGB", (1600, 900), (30, 90, 160)).save(picture, "PNG")
        stored = upload_image(picture.getvalue(), "해운대-빛축제-개막식-현장-사진.png", admin_id,
                              10 * 1024 * 1024, "해운대 빛축제 개막식", "사진: 김기자")  # fmt: skip
    make_post(title="부산 해운대 빛축제 개막, 첫날 관람객 10만 명 몰려", author_id=admin_id,
              categories=("지역 뉴스", "문화"), tags=("해운대", "빛축제"),
              source=f"![해운대 빛축제 개막식]({stored.url})\n\n본문입니다.")  # fmt: skip
    make_post(title="초안: 지방선거 후보 등록 마감 앞두고 막판 눈치싸움", status="draft",
              author_id=admin_id)  # fmt: skip
    trashed = make_post(title="휴지통에 넣은 오보 정정 기사", author_id=admin_id)
    with app.app_context(), writing():
        post = db.session.execute(db.select(Post).where(Post.slug == trashed)).scalar_one()
        post.deleted_at = post.published_at
        post_id = db.session.execute(db.select(Post.id).order_by(Post.id)).scalars().first()
        assert db.session.get(User, admin_id) is not None
    return {"post_id": post_id}


def _sign_in(page: Page, base: str) -> None:
    page.goto(base + "/login")
    page.locator("input[name=login]").fill("admin")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(base + "/admin/")


@pytest.mark.parametrize("size", list(WIDTHS))
def test_every_admin_page_fits_the_window(
    live_server: str, browser: Browser, newsroom: dict[str, Any], size: str
) -> None:
    post_id = newsroom["post_id"]
    pages = {
        "dashboard": "/admin/", "edit": f"/admin/posts/{post_id}/edit",
        "new-post": "/admin/posts/new", "media": "/admin/media", "taxonomy": "/admin/taxonomy",
        "trash": "/admin/trash", "revisions": f"/admin/posts/{post_id}/revisions",
        "users": "/admin/users", "settings": "/admin/settings", "audit": "/admin/audit",
        "account": "/account",
    }  # fmt: skip
    context = browser.new_context(viewport=WIDTHS[size], locale="ko-KR")
    try:
        page = context.new_page()
        _sign_in(page, live_server)
        found: dict[str, list[str]] = {}
        for name, path in pages.items():
            response = page.goto(live_server + path)
            assert response is not None and response.ok, (path, response and response.status)
            assert page.locator("html").get_attribute("lang") == "ko", path
            screenshot(page, f"admin-{name}-{WIDTHS[size]['width']}")
            problems = page.evaluate(_LAYOUT_PROBLEMS)
            if problems:
                found[name] = problems
        assert not found, found
    finally:
        context.close()


def test_edit_page_with_a_wide_tistory_image_and_table_fits_a_phone(
    live_server: str, browser: Browser, newsroom: dict[str, Any], make_post: MakePost
) -> None:
    # Tistory exports carry <img width="800">; an 1fr grid column grew to fit it (942 px).
    cells = "".join(f"<td>해운대해변로 {n}번길 주변 교통 통제 구간</td>" for n in range(8))
    source = (
        '<p><img src="/static/favicon.png" width="800" height="450" alt="해운대"></p>'
        f"<table><tbody><tr>{cells}</tr><tr>{cells}</tr></tbody></table><p>본문입니다.</p>"
    )
    slug = make_post(title="표와 큰 사진이 있는 티스토리 글", source=source, source_format="html")
    context = browser.new_context(viewport=WIDTHS["phone"], locale="ko-KR")
    try:
        page = context.new_page()
        _sign_in(page, live_server)
        page.goto(live_server + "/admin/")
        page.get_by_role("link", name="표와 큰 사진이 있는 티스토리 글").first.click()
        page.wait_for_url("**/edit")
        preview = page.locator("#preview")
        assert preview.locator("img[width='800']").count() == 1, slug
        assert preview.locator("table").count() == 1
        screenshot(page, "admin-edit-wide-tistory-390")
        assert page.evaluate(_LAYOUT_PROBLEMS) == []
        # The image shrinks to the preview; the table scrolls inside its own box.
        preview_width = preview.evaluate("node => node.clientWidth")
        image_width = preview.locator("img").evaluate("node => node.getBoundingClientRect().width")
        assert image_width <= preview_width
        table = preview.locator("table")
        assert table.evaluate("node => node.scrollWidth > node.clientWidth")
        assert table.evaluate("node => getComputedStyle(node).overflowX") in ("auto", "scroll")
    finally:
        context.close()
