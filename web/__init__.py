"""Reading only: the read-only web view, Atom feeds and JSON API over ``store/``.

    app = create_app(config)      # an ASGI application (FastAPI behind a read-only guard)
    serve(config)                 # uvicorn on web.host:web.port
"""

from web.app import create_app
from web.server import serve

__all__ = ["create_app", "serve"]
