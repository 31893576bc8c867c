"""`make bench`'s own pieces, without wrk or servers: its archive goes through the real
importer whole, and wrk's report is read right. (The benchmark itself is not run in CI.)"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import Post, PostStatus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from archive import CATEGORIES, TAGS, write_archive  # noqa: E402
from bench import parse_wrk  # noqa: E402

WRK_REPORT = """\
Running 10s test @ http://127.0.0.1:8000/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    58.31ms   10.47ms   1.44s    81.93%
    Req/Sec   137.19     21.34   190.00     70.00%
  Latency Distribution
     50%  857.15us
     75%   61.84ms
     90%   68.62ms
     99%    2.40s
  2742 requests in 10.04s, 42.37MB read
  Socket errors: connect 0, read 2, write 0, timeout 5
  Non-2xx or 3xx responses: 12
Requests/sec:    273.19
Transfer/sec:      4.22MB
"""


def test_generated_archive_imports_whole_with_drafts_and_scheduled_posts(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    stats = write_archive(site, 300)  # the fixed seed gives 2 scheduled, 6 drafts
    assert stats.files == 300 and stats.drafts and stats.scheduled
    assert 0 < stats.korean < 300 and 0 < stats.html < 300
    assert len(CATEGORIES) >= 24 and len(TAGS) >= 200
    result = runner.invoke(args=["import-jekyll", str(site), "--assets", str(site)])
    assert result.exit_code == 0, result.output
    assert "300 imported, 0 updated" in result.output and " 0 warnings, 0 failed" in result.output
    with app.app_context():
        counts = dict(
            db.session.execute(select(Post.status, func.count()).group_by(Post.status)).all()
        )
    assert counts == {
        PostStatus.PUBLISHED: stats.published,
        PostStatus.SCHEDULED: stats.scheduled,
        PostStatus.DRAFT: stats.drafts,
    }


def test_the_same_seed_writes_the_same_archive(tmp_path: Path) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    write_archive(tmp_path / "a", 20, now=now)
    write_archive(tmp_path / "b", 20, now=now)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert len(files) == 22  # _config.yml, the image and 20 posts
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.*"))
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_wrk_report_is_read_in_milliseconds_with_its_errors() -> None:
    result = parse_wrk(WRK_REPORT)
    assert result.rps == 273.19 and result.requests == 2742
    assert result.p50_ms == 0.85715 and result.p99_ms == 2400.0
    assert result.bad_status == 12
    assert result.socket_errors == {"connect": 0, "read": 2, "write": 0, "timeout": 5}
