"""HTTP servers the tests run on 127.0.0.1 (a JWKS endpoint, an OIDC provider, a webhook receiver, another site): a
handler that answers JSON (or any body) and keeps quiet, served by a daemon thread."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing."""

    def send_body(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


class JsonHandler(QuietHandler):
    """A request handler that answers JSON and logs nothing."""

    def send_json(self, status: int, body: Any) -> None:
        self.send_body(status, json.dumps(body).encode(), "application/json")


def serve_in_thread(handler: type[BaseHTTPRequestHandler], port: int = 0) -> ThreadingHTTPServer:
    """`handler` served on 127.0.0.1 at `port` (0: a free one) by a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
