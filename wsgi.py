"""WSGI entry point: `waitress-serve wsgi:app` or any other WSGI server."""

from blog import create_app

app = create_app()
