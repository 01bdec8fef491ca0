"""The web app and JSON API (FastAPI): an adapter around the pure core.

``create_app(settings)`` builds the app; ``scanwise serve`` runs it with uvicorn, after
``settle_heap()`` (start-up objects kept out of garbage collection, as in the workers).
"""

from scanwise.web.app import create_app
from scanwise.web.settings import WebSettings
from scanwise.web.workers import settle_heap

__all__ = ["WebSettings", "create_app", "settle_heap"]
