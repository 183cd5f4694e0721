"""A small HTTP service that lists, describes and streams model files from a folder.

Written for the Z4Ai archive primer. It uses only the standard library (http.server, json, threading) and is meant
for a trusted network: a team that wants to browse the checkpoints on a shared machine, fetch one tensor's bytes
with a range request, or check a file's digest without logging in to the machine. It is not a production server.

Routes::

    GET  /health                      -> {"status": "ok"}
    GET  /models                      -> every model folder with its files and sizes
    GET  /models/<name>               -> one model: config, files, total size
    GET  /models/<name>/files/<path>  -> the file's bytes (supports Range: bytes=a-b)
    GET  /models/<name>/digest/<path> -> {"sha256": ...}, computed once and cached
    POST /models/<name>/notes         -> append a note (JSON body {"text": ...}) to the model's notes.jsonl
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import http.server
import json
import logging
import mimetypes
import os
import posixpath
import re
import socketserver
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Pattern, Tuple

log = logging.getLogger("serve")

MAX_BODY = 64 * 1024
CHUNK = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class HttpError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Route:
    method: str
    pattern: Pattern[str]
    handler: Callable[..., None]


class DigestCache:
    """SHA-256 of files by (path, size, modification time), so a changed file is hashed again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: Dict[Tuple[str, int, int], str] = {}

    def get(self, path: Path) -> str:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            value = self._values.get(key)
        if value is not None:
            return value
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(CHUNK), b""):
                digest.update(block)
        value = digest.hexdigest()
        with self._lock:
            self._values[key] = value
        return value


class ModelStore:
    """The folder being served: one sub-folder per model."""

    def __init__(self, root: str) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"not a folder: {root}")
        self.digests = DigestCache()
        self._notes_lock = threading.Lock()

    def model_dir(self, name: str) -> Path:
        if not name or name.startswith(".") or "/" in name or "\\" in name:
            raise HttpError(HTTPStatus.BAD_REQUEST, f"invalid model name {name!r}")
        folder = self.root / name
        if not folder.is_dir():
            raise HttpError(HTTPStatus.NOT_FOUND, f"no model named {name!r}")
        return folder

    def resolve(self, name: str, relative: str) -> Path:
        """A file inside a model folder; anything that would escape the folder is refused."""
        folder = self.model_dir(name)
        clean = posixpath.normpath("/" + relative).lstrip("/")
        if not clean or clean.startswith(".."):
            raise HttpError(HTTPStatus.BAD_REQUEST, f"invalid path {relative!r}")
        path = (folder / clean).resolve()
        if folder not in path.parents:
            raise HttpError(HTTPStatus.FORBIDDEN, "path leaves the model folder")
        if not path.is_file():
            raise HttpError(HTTPStatus.NOT_FOUND, f"no file {clean!r} in model {name!r}")
        return path

    def list_models(self) -> List[Dict[str, Any]]:
        models = []
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            files = self._files(folder)
            models.append({"name": folder.name, "files": len(files), "bytes": sum(f["bytes"] for f in files)})
        return models

    def describe(self, name: str) -> Dict[str, Any]:
        folder = self.model_dir(name)
        files = self._files(folder)
        config: Optional[Dict[str, Any]] = None
        config_path = folder / "config.json"
        if config_path.is_file():
            try:
                with open(config_path, "r", encoding="utf-8") as handle:
                    config = json.load(handle)
            except (OSError, json.JSONDecodeError) as error:
                config = {"error": f"config.json could not be read: {error}"}
        return {"name": name, "files": files, "bytes": sum(f["bytes"] for f in files), "config": config}

    def add_note(self, name: str, text: str, author: str) -> Dict[str, Any]:
        folder = self.model_dir(name)
        note = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "author": author, "text": text}
        with self._notes_lock:
            with open(folder / "notes.jsonl", "a", encoding="utf-8") as handle:
                handle.write(json.dumps(note, ensure_ascii=False) + "\n")
        return note

    @staticmethod
    def _files(folder: Path) -> List[Dict[str, Any]]:
        out = []
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts):
                stat = path.stat()
                out.append({"path": path.relative_to(folder).as_posix(), "bytes": stat.st_size, "modified": int(stat.st_mtime)})
        return out


def parse_range(header: Optional[str], size: int) -> Optional[Tuple[int, int]]:
    """The inclusive byte range a Range header asks for, or None for the whole file; raises for unsatisfiable ranges."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"unsupported range {header!r}")
    first, last = match.groups()
    if first == "" and last == "":
        raise HttpError(HTTPStatus.BAD_REQUEST, "empty range")
    if first == "":
        length = int(last)
        if length == 0:
            raise HttpError(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "zero-length suffix range")
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise HttpError(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, f"range {start}-{end} outside 0-{size - 1}")
    return start, min(end, size - 1)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "model-files/1.0"
    store: ModelStore
    routes: List[Route] = []

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class names it so
        log.info("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        path = urllib.parse.urlsplit(self.path).path
        try:
            for route in self.routes:
                if route.method != method and not (method == "HEAD" and route.method == "GET"):
                    continue
                match = route.pattern.fullmatch(path)
                if match:
                    args = [urllib.parse.unquote(g) for g in match.groups()]
                    route.handler(self, *args)
                    return
            raise HttpError(HTTPStatus.NOT_FOUND, f"no route for {method} {path}")
        except HttpError as error:
            self._send_json({"error": error.message}, error.status)
        except (BrokenPipeError, ConnectionResetError):
            log.info("client went away during %s %s", method, path)
        except Exception:
            log.exception("unexpected error in %s %s", method, path)
            self._send_json({"error": "internal error"}, HTTPStatus.INTERNAL_SERVER_ERROR)

    def _send_json(self, value: Any, status: HTTPStatus = HTTPStatus.OK) -> None:
        body = json.dumps(value, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _read_json(self) -> Dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY:
            raise HttpError(HTTPStatus.BAD_REQUEST, f"body must be 1 to {MAX_BODY} bytes")
        try:
            value = json.loads(self.rfile.read(length))
        except json.JSONDecodeError as error:
            raise HttpError(HTTPStatus.BAD_REQUEST, f"invalid JSON: {error.msg}") from error
        if not isinstance(value, dict):
            raise HttpError(HTTPStatus.BAD_REQUEST, "expected a JSON object")
        return value

    # ----------------------------------------------------------------- handlers

    def health(self) -> None:
        self._send_json({"status": "ok"})

    def models(self) -> None:
        self._send_json(self.store.list_models())

    def model(self, name: str) -> None:
        self._send_json(self.store.describe(name))

    def digest(self, name: str, relative: str) -> None:
        path = self.store.resolve(name, relative)
        self._send_json({"path": relative, "bytes": path.stat().st_size, "sha256": self.store.digests.get(path)})

    def file(self, name: str, relative: str) -> None:
        path = self.store.resolve(name, relative)
        size = path.stat().st_size
        wanted = parse_range(self.headers.get("Range"), size)
        start, end = wanted if wanted is not None else (0, size - 1)
        length = max(0, end - start + 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if wanted is not None else HTTPStatus.OK)
        kind, _ = mimetypes.guess_type(path.name)
        self.send_header("Content-Type", kind or "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Last-Modified", email.utils.formatdate(path.stat().st_mtime, usegmt=True))
        if wanted is not None:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if self.command == "HEAD":
            return
        with open(path, "rb") as handle:
            handle.seek(start)
            remaining = length
            while remaining > 0:
                block = handle.read(min(CHUNK, remaining))
                if not block:
                    break
                self.wfile.write(block)
                remaining -= len(block)

    def note(self, name: str) -> None:
        body = self._read_json()
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise HttpError(HTTPStatus.BAD_REQUEST, "the note needs a non-empty 'text'")
        author = str(body.get("author") or self.address_string())
        self._send_json(self.store.add_note(name, text.strip(), author), HTTPStatus.CREATED)


Handler.routes = [
    Route("GET", re.compile(r"/health"), Handler.health),
    Route("GET", re.compile(r"/models/?"), Handler.models),
    Route("GET", re.compile(r"/models/([^/]+)/?"), Handler.model),
    Route("GET", re.compile(r"/models/([^/]+)/digest/(.+)"), Handler.digest),
    Route("GET", re.compile(r"/models/([^/]+)/files/(.+)"), Handler.file),
    Route("POST", re.compile(r"/models/([^/]+)/notes"), Handler.note),
]


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(root: str, host: str = "127.0.0.1", port: int = 8765) -> None:
    Handler.store = ModelStore(root)
    with ThreadingServer((host, port), Handler) as server:
        log.info("serving %s on http://%s:%d", Handler.store.root, host, server.server_address[1])
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            log.info("stopping")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a folder of model files over HTTP (trusted networks only).")
    parser.add_argument("root", help="the folder that holds one sub-folder per model")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: localhost only)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("listening on %s: anyone who can reach this address can read every file under %s", args.host, args.root)
    try:
        serve(args.root, args.host, args.port)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
