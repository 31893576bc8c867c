"""Search latency and index size on the blog at BLOG_INSTANCE_PATH, or on DATABASE_URL's
PostgreSQL database (run by bench.py after the import): each query through
content.search.search_posts, the first page of ten, in the app but not through the page
cache (wrk would measure the cache: every URL repeats). Prints JSON.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from blog import create_app
from blog.clock import now
from blog.content.search import search_posts
from blog.extensions import db

# Words the benchmark archive (archive.py) writes, one, two and three at a time; 정부 and AI
# are shorter than a trigram.
QUERIES = {
    "Korean, 1 word": ["대통령실", "반도체", "기준금리", "정부", "전망"],
    "Korean, 2 words": ["반도체 수출", "정부 입장", "기후 대응", "청년 고용"],
    "Korean, 3 words": ["대통령실 초당적 협력", "한국은행 기준금리 전망", "청년 고용 하반기"],
    "English, 1 word": ["alliance", "exports", "AI", "election"],
    "English, 2 words": ["chip exports", "housing market", "central bank"],
    "English, 3 words": ["central bank policy", "climate policy priority", "talks would continue"],
}
ROUNDS = 20


def main() -> None:
    app = create_app()
    results: dict[str, object] = {}
    with app.app_context():
        moment = now()
        for name, queries in QUERIES.items():
            for query in queries:
                search_posts(query, 1, 10, moment)  # warm
            timings = []
            found = {}
            for _ in range(ROUNDS):
                for query in queries:
                    started = time.perf_counter()
                    page = search_posts(query, 1, 10, moment)
                    timings.append((time.perf_counter() - started) * 1000)
                    db.session.rollback()  # end the read, as a request does
                    found[query] = len(page.results)
            timings.sort()
            results[name] = {
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
                "results_on_first_page": found,
            }
        size = (
            # The table with its TOAST and indexes (pg_trgm's GIN indexes).
            "SELECT pg_total_relation_size('post_search')"
            if db.engine.dialect.name == "postgresql"
            else "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'post_search%' "
            "OR name LIKE 'sqlite_autoindex_post_search%'"
        )
        rows = db.session.execute(db.text(size)).scalar()
        results["index_bytes"] = int(rows or 0)
    json.dump(results, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
