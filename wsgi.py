"""WSGI entry point: `waitress-serve wsgi:app` or any other WSGI server."""

from blog import create_app
from blog.static_mirror import keep_current

app = create_app()
keep_current(app)  # the static mirror, if BLOG_STATIC_MIRROR is set, follows scheduled posts
