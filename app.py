"""WSGI entry point: ``flask --app app ...`` and ``gunicorn app:app``."""
from profreg import create_app

app = create_app()
