"""A RECORDING STAND-IN for the Kubernetes API server, for the real `kubectl` in tests.

It serves, on loopback only, the few endpoints `kubectl get/create/patch` of Secrets and
Namespaces need (discovery, then the objects), keeps the objects in memory, and records
every request: method, path, query, content type, body. No cluster is contacted; it
implements a merge patch (RFC 7386) and turns stringData into data as the API server does.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

RESOURCES = [
    {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
     "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"], "shortNames": ["ns"]},
    {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret",
     "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]},
]


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def normalize_secret(obj: dict) -> dict:
    """stringData -> data (base64), as the API server stores a Secret."""
    obj = copy.deepcopy(obj)
    string_data = obj.pop("stringData", None) or {}
    data = obj.setdefault("data", {})
    for key, value in string_data.items():
        data[key] = base64.b64encode(value.encode()).decode()
    if not obj["metadata"].get("annotations"):
        obj["metadata"].pop("annotations", None)
    return obj


class KubeAPI:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.objects: dict[tuple[str, str, str], dict] = {}  # (resource, namespace, name) -> object
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "KubeAPI":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def kubeconfig(self, path: Path, namespace: str = "default") -> Path:
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "standin",
            "clusters": [{"name": "standin", "cluster": {"server": self.url}}],
            "users": [{"name": "standin", "user": {}}],
            "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "standin",
                                                          "namespace": namespace}}]}))
        return path

    def secret(self, namespace: str, name: str) -> dict | None:
        return self.objects.get(("secrets", namespace, name))

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _status(self, code: int, reason: str, message: str) -> None:
                self._send(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                  "message": message, "reason": reason, "code": code})

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                api.requests.append({"method": self.command, "path": parts.path, "query": parse_qs(parts.query),
                                     "content_type": self.headers.get("Content-Type", ""), "body": raw})
                path = parts.path.rstrip("/")
                if path == "/api":
                    return self._send(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
                if path == "/apis":
                    return self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
                if path == "/api/v1":
                    return self._send(200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": RESOURCES})
                if path == "/version":
                    return self._send(200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0-standin"})
                segs = path.split("/")[3:]  # after /api/v1
                if not path.startswith("/api/v1/") or not segs:
                    return self._status(404, "NotFound", f"the stand-in does not serve {path}")
                if segs[0] == "namespaces" and len(segs) >= 3:
                    namespace, resource, name = segs[1], segs[2], (segs[3] if len(segs) > 3 else "")
                else:
                    namespace, resource, name = "", segs[0], (segs[1] if len(segs) > 1 else "")
                key = (resource, namespace, name)
                kind = {"secrets": "Secret", "namespaces": "Namespace"}.get(resource)
                if kind is None:
                    return self._status(404, "NotFound", f"no resource {resource}")
                if self.command == "GET" and name:
                    obj = api.objects.get(key)
                    if obj is None:
                        return self._status(404, "NotFound", f'{resource} "{name}" not found')
                    return self._send(200, obj)
                if self.command == "POST" and not name:
                    obj = json.loads(raw)
                    name = obj["metadata"]["name"]
                    key = (resource, namespace, name)
                    if key in api.objects:
                        return self._status(409, "AlreadyExists", f'{resource} "{name}" already exists')
                    obj.setdefault("metadata", {})["namespace"] = namespace or None
                    obj = normalize_secret(obj) if kind == "Secret" else obj
                    api.objects[key] = obj
                    return self._send(201, obj)
                if self.command == "PATCH" and name:
                    obj = api.objects.get(key)
                    if obj is None:
                        return self._status(404, "NotFound", f'{resource} "{name}" not found')
                    if "merge-patch" not in self.headers.get("Content-Type", ""):
                        return self._status(415, "UnsupportedMediaType", "the stand-in applies merge patches only")
                    obj = merge_patch(obj, json.loads(raw))
                    obj = normalize_secret(obj) if kind == "Secret" else obj
                    api.objects[key] = obj
                    return self._send(200, obj)
                return self._status(405, "MethodNotAllowed", f"{self.command} {path}")

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        return Handler
