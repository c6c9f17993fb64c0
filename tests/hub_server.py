"""A fake Hugging Face Hub on loopback: the few routes huggingface_hub uses to create a repo,
commit files and download a snapshot. Files live in memory; every request is recorded so tests
can check what was sent (the token, the private flag)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote


@dataclass
class Repo:
    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)

    @property
    def sha(self) -> str:
        return self.commits[-1] if self.commits else "0" * 40


@dataclass
class FakeHub:
    repos: dict[str, Repo] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    """(method, path, Authorization header) of every request."""
    url: str = ""
    token: str | None = None
    """When set, requests without this bearer token are answered 401."""


_REPO = r"(?P<repo>[^/]+/[^/]+)"
_API = rf"^/api/(?P<kind>models|datasets)/{_REPO}"
_RESOLVE = rf"^/(?P<kind>datasets/)?{_REPO}/resolve/(?P<rev>[^/]+)/(?P<file>.+)$"


def _key(match: re.Match[str]) -> str:
    """Models by id, datasets as datasets/OWNER/NAME (the Hub's URL paths)."""
    return match["repo"] if match["kind"] in (None, "models") else f"datasets/{match['repo']}"


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = (
            b""
            if body is None
            else (body if isinstance(body, bytes) else json.dumps(body).encode())
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _record(self) -> str:
        path = self.path.split("?")[0]
        self.hub.requests.append((self.command, path, self.headers.get("Authorization")))
        return path

    def _refused(self) -> bool:
        if (
            self.hub.token is None
            or self.headers.get("Authorization") == f"Bearer {self.hub.token}"
        ):
            return False
        self._send(401, {"error": "Invalid credentials in Authorization header"})
        return True

    def do_POST(self) -> None:
        path, body = self._record(), self._body()
        if self._refused():
            return
        if path == "/api/repos/create":
            payload = json.loads(body)
            repo = f"{payload['organization']}/{payload['name']}"
            if repo in self.hub.repos:
                return self._send(409, {"error": "already exists", "url": f"{self.hub.url}/{repo}"})
            private = payload.get("private") or payload.get("visibility") == "private"
            self.hub.repos[repo] = Repo(private=bool(private))
            return self._send(200, {"url": f"{self.hub.url}/{repo}", "name": repo, "id": repo})
        if path == "/api/validate-yaml":  # the card's metadata: accepted as it is
            return self._send(200, {"errors": [], "warnings": []})
        if m := re.match(rf"{_API}/preupload/(?P<rev>.+)$", path):
            files = json.loads(body)["files"]
            modes = [
                {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files
            ]
            return self._send(200, {"files": modes, "commitOid": self.hub.repos[_key(m)].sha})
        if m := re.match(rf"{_API}/commit/(?P<rev>.+)$", path):
            return self._commit(_key(m), body)
        return self._send(404, {"error": f"fake hub: no route POST {path}"})

    def _commit(self, name: str, body: bytes) -> None:
        repo = self.hub.repos[name]
        for line in body.decode().splitlines():
            item = json.loads(line)
            if item["key"] == "file":
                repo.files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
        repo.commits.append(hashlib.sha1(body).hexdigest())
        url = f"{self.hub.url}/{name}/commit/{repo.sha}"
        return self._send(200, {"commitUrl": url, "commitOid": repo.sha, "pullRequestUrl": None})

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def _serve(self) -> None:
        path = self._record()
        if m := re.match(rf"{_API}(?:/revision/(?P<rev>[^/]+))?$", path):
            repo = self.hub.repos.get(_key(m))
            if repo is None:
                return self._send(
                    404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"}
                )
            siblings = [{"rfilename": f, "size": len(b)} for f, b in sorted(repo.files.items())]
            info = {"id": m["repo"], "modelId": m["repo"], "sha": repo.sha, "private": repo.private}
            return self._send(200, {**info, "siblings": siblings})
        if m := re.match(rf"{_API}/tree/(?P<rev>[^/]+)/?(?P<dir>.*)$", path):
            tree = _tree(
                self.hub.repos[_key(m)].files, unquote(m["dir"]), "recursive=true" in self.path
            )
            if tree is None:
                return self._send(404, {"error": "not found"}, {"X-Error-Code": "EntryNotFound"})
            return self._send(200, tree)
        if m := re.match(_RESOLVE, path):
            repo = self.hub.repos.get(_key(m))
            if repo is None or m["file"] not in repo.files:
                return self._send(
                    404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"}
                )
            data = repo.files[m["file"]]
            headers = {"X-Repo-Commit": repo.sha, "ETag": f'"{_oid(data)}"'}
            return self._send(200, data, headers)
        return self._send(404, {"error": f"fake hub: no route GET {path}"})


def _tree(files: dict[str, bytes], folder: str, recursive: bool) -> list[dict[str, Any]] | None:
    """The Hub's listing of a folder: its files and folders (all below it when recursive)."""
    prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
    below = {f: b for f, b in files.items() if f.startswith(prefix)}
    if prefix and not below:
        return None
    folders = {
        prefix + "/".join(rest.split("/")[: i + 1])
        for rest in (f[len(prefix) :] for f in below)
        for i in range(rest.count("/"))
    }
    entries = [
        {"type": "directory", "path": d, "oid": "0" * 40, "size": 0} for d in sorted(folders)
    ]
    entries += [
        {"type": "file", "path": f, "size": len(b), "oid": _oid(b)}
        for f, b in sorted(below.items())
    ]
    if recursive:
        return entries
    return [e for e in entries if "/" not in str(e["path"])[len(prefix) :]]


def _oid(data: bytes) -> str:
    """git's blob id, as the Hub names a regular file."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@contextmanager
def fake_hub() -> Iterator[FakeHub]:
    """A fake Hub on a free loopback port, stopped at the end."""
    hub = FakeHub()
    handler = type("Handler", (_Handler,), {"hub": hub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
