"""The web app and JSON API (FastAPI): an adapter around the pure core.

``create_app(settings)`` builds the app; ``scanwise serve`` runs it with uvicorn.
"""

from scanwise.web.app import create_app
from scanwise.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
