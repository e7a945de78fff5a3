"""``/_sandbox/*`` control endpoints, served by every server, never recorded and never faulted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .httpbase import Request, Response


class Controls:
    """Routes control requests to a ``Sandbox``-like object (manifest, faults, mutate, ...)."""

    def __init__(self, sandbox: Any) -> None:
        self.sb = sandbox

    def __call__(self, server: str, req: Request) -> Response | None:
        path = req.path.rstrip("/")
        m = req.method
        try:
            body = req.json() if m == "POST" else None
        except ValueError:
            return Response(400, {"error": "invalid JSON body"})
        body = body or {}
        if not isinstance(body, dict):
            return Response(400, {"error": "the body must be a JSON object"})
        try:
            if path == "/_sandbox/health" and m == "GET":
                return Response(200, {"ok": True, "server": server})
            if path == "/_sandbox/manifest" and m == "GET":
                return Response(200, self.sb.manifest())
            if path == "/_sandbox/requests" and m == "GET":
                return Response(200, [asdict(r) for r in self.sb.requests])
            if path == "/_sandbox/requests/reset" and m == "POST":
                self.sb.reset_requests()
                return Response(200, {"ok": True})
            if path == "/_sandbox/faults" and m == "GET":
                return Response(200, self.sb.faults.to_dict())
            if path == "/_sandbox/faults" and m == "POST":
                return Response(200, self.sb.set_faults(**body).to_dict())
            if path == "/_sandbox/mutate" and m == "POST":
                return Response(200, self.sb.mutate(**body))
            if path == "/_sandbox/tokens" and m == "POST":  # {"server": "slack", "scopes": [...]} or
                kind = body.get("server")                       # {"server": "notion", "unshared": [...]}
                if kind == "slack" and isinstance(body.get("scopes"), list):
                    return Response(200, {"token": self.sb.slack_token(body["scopes"])})
                if kind == "notion" and isinstance(body.get("unshared", []), list):
                    return Response(200, {"token": self.sb.notion_token(body.get("unshared", []))})
                return Response(400, {"error": 'expected {"server": "slack", "scopes": [...]} or '
                                               '{"server": "notion", "unshared": [...]}'})
            if path == "/_sandbox/posted" and m == "GET":
                return Response(200, self.sb.posted_messages)
            if path == "/_sandbox/comments" and m == "GET":
                return Response(200, self.sb.jira_comments)
        except (TypeError, ValueError) as e:
            return Response(400, {"error": str(e)})
        return None
