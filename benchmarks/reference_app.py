"""The reference: a bare WSGI app on waitress that answers every request with one fixed page.

    python benchmarks/reference_app.py --port 8001 --bytes 25000 --threads 8

It is what "as fast as a bare waitress app" means in `make bench`: the same server, the same
thread count and a body of the same size as the blog's home page, with no work per request.
Waitress's per-request "Task queue depth" warning is kept out of its log, as a tuned
deployment does: the reference is the best a waitress app can do, not a handicapped one.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Iterable

from waitress import serve


def fixed_page(size: int) -> Callable[..., Iterable[bytes]]:
    """A WSGI app whose every answer is a 200 with `size` bytes of HTML."""
    body = (b"<!doctype html><title>reference</title>" + b"x" * size)[:size]
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]

    def app(environ: dict, start_response: Callable[..., object]) -> Iterable[bytes]:
        start_response("200 OK", headers)
        return [body]

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bytes", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    options = parser.parse_args()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    serve(
        fixed_page(options.bytes),
        host="127.0.0.1",
        port=options.port,
        threads=options.threads,
        ident="reference",
    )


if __name__ == "__main__":
    main()
