"""The dev stack's Temporal UI, read-only: a small gateway in front of the UI that `temporal server start-dev`
serves on a private loopback port.

The dev server's UI has no setting for read-only use (`start-dev` passes none of the UI server's
`disableWriteActions`), so the gateway makes it so: it passes GET and HEAD, refuses every other method (signal,
update, terminate, cancel, reset, start, batch, and queries) with 405, and answers `/api/v1/settings` with the
write actions switched off, so the UI hides their buttons. Officials act only through the product's front doors;
the Temporal frontend itself (127.0.0.1:7233) still takes any client on this machine, which is why every Update also
carries an actor assertion the case checks (domain/actor_assertion.py).

Run by `xptt dev up` as `python -m cli.dev_ui --port <ui port> --upstream 127.0.0.1:<private port>`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
READ_METHODS = frozenset({"GET", "HEAD"})
SETTINGS_PATH = "/api/v1/settings"
# The UI server's switches for write actions (its SettingsResponse), all turned on.
WRITES_DISABLED = (
    "DisableWriteActions",
    "WorkflowTerminateDisabled",
    "WorkflowCancelDisabled",
    "WorkflowSignalDisabled",
    "WorkflowUpdateDisabled",
    "WorkflowResetDisabled",
    "WorkflowPauseDisabled",
    "BatchActionsDisabled",
    "StartWorkflowDisabled",
    "ActivityCommandsDisabled",
)
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding",
     "upgrade", "content-length", "accept-encoding"}
)  # fmt: skip
UPSTREAM_TIMEOUT = 90  # the UI long-polls a running workflow's history


def read_only_settings(body: bytes) -> bytes:
    """The UI server's settings with every write action switched off."""
    settings = json.loads(body)
    if isinstance(settings, dict):
        settings.update(dict.fromkeys(WRITES_DISABLED, True))
    return json.dumps(settings).encode()


class ReadOnlyGateway(BaseHTTPRequestHandler):
    upstream: tuple[str, int] = (HOST, 0)
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._forward()

    def do_HEAD(self) -> None:
        self._forward()

    def _refuse(self) -> None:
        body = json.dumps({"message": "the Temporal UI of the dev stack is read-only"}).encode()
        self.send_response(405)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _refuse

    def _forward(self) -> None:
        assert self.command in READ_METHODS
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = http.client.HTTPConnection(*self.upstream, timeout=UPSTREAM_TIMEOUT)
        try:
            upstream.request(self.command, self.path, headers=headers)
            resp = upstream.getresponse()
            body = resp.read()
            response_headers = resp.getheaders()
            status = resp.status
        except OSError as exc:
            self.send_error(502, f"the Temporal UI does not answer: {exc}")
            return
        finally:
            upstream.close()
        if self.path.split("?", 1)[0] == SETTINGS_PATH and status == 200:
            body = read_only_settings(body)
        self.send_response(status)
        for name, value in response_headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(port: int, upstream: tuple[str, int]) -> ThreadingHTTPServer:
    """The gateway on 127.0.0.1:`port`, serving in a thread of its own until `shutdown()`."""
    handler = type("Gateway", (ReadOnlyGateway,), {"upstream": upstream})
    server = ThreadingHTTPServer((HOST, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="temporal-ui-gateway", daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description="The dev stack's Temporal UI, read-only.")
    parser.add_argument("--port", type=int, required=True, help="where the UI is served, read-only")
    parser.add_argument("--upstream", required=True, help="host:port of the dev server's own UI")
    args = parser.parse_args()
    host, _, upstream_port = args.upstream.rpartition(":")
    server = serve(args.port, (host, int(upstream_port)))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
