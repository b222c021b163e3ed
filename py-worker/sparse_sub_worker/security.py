"""What protects a worker that listens beyond loopback (see README, "Running a worker on a GPU box").

- TokenAuth: every RPC must carry `authorization: Bearer <token>`; a missing or wrong token is
  refused with UNAUTHENTICATED before the handler runs. The standard health service is exempt
  (load balancers and orchestrators probe it without credentials; it reveals nothing).
- DataRoot: every file path in a request must resolve inside the worker's data root; a path that
  escapes it (absolute elsewhere, `..`, a symlink out) is refused naming the request field.
"""

from __future__ import annotations

import hmac
import os
import re
from pathlib import Path

import grpc
from google.protobuf.message import Message

from .errors import WorkerError, invalid
from .gen.sparse_sub.v1 import worker_pb2 as pb
from .models.loading import PACKAGE_SCHEME

HEALTH_PREFIX = "/grpc.health.v1.Health/"


class TokenAuth(grpc.ServerInterceptor):
    def __init__(self, token: str):
        if len(token) < 16:
            raise ValueError("the worker token must be at least 16 characters")
        self._expected = f"Bearer {token}".encode()

    def intercept_service(self, continuation, handler_call_details):
        if handler_call_details.method.startswith(HEALTH_PREFIX):
            return continuation(handler_call_details)
        given = dict(handler_call_details.invocation_metadata or ()).get("authorization", "")
        if hmac.compare_digest(given.encode(), self._expected):
            return continuation(handler_call_details)
        message = "missing bearer token" if not given else "wrong bearer token"
        handler = continuation(handler_call_details)

        def deny(request, context):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, f"{message}: send 'authorization: Bearer <token>' (the worker's --token-file)")

        if handler is None:
            return None
        # Client-streaming calls are refused before their first message arrives: a handler that
        # waited for it would let token-less streams hold the server's threads.
        factory = {
            (False, False): grpc.unary_unary_rpc_method_handler,
            (False, True): grpc.unary_stream_rpc_method_handler,
            (True, False): grpc.stream_unary_rpc_method_handler,
            (True, True): grpc.stream_stream_rpc_method_handler,
        }[(handler.request_streaming, handler.response_streaming)]
        return factory(deny, handler.request_deserializer, handler.response_serializer)


def _marked(option) -> frozenset[str]:
    """Names of the protocol's fields that worker.proto marks with `option` (the controller's
    ts/gen/sparse_sub/v1/path-fields.ts is generated from the same marks)."""
    names: set[str] = set()

    def visit(message) -> None:
        for field in message.fields:
            if field.GetOptions().Extensions[option]:
                names.add(field.name)
        for nested in message.nested_types:
            visit(nested)

    for message in pb.DESCRIPTOR.message_types_by_name.values():
        visit(message)
    return frozenset(names)


# Fields that name files or folders: each passes the data-root check below.
PATH_FIELDS = _marked(pb.is_path)
# Fields a job writes to: never the data root itself (an atomic replace would swap out the whole
# root and stage its temp folder beside it, outside).
OUTPUT_FIELDS = _marked(pb.is_output)
# (message, field) pairs that hold a hub id or a local path: a model source, a dataset name.
# Under a data root a hub id must be spelled `owner/name`; anything else is a path.
HUB_OR_PATH_FIELDS = {("ModelSpec", "source"), ("HubDataset", "name"), ("TaskRequest", "hub_name")}
MAX_PATH_CHARS = 4096
HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.])/[^\s'\"(),:;]+")  # not the tail of a URL or of a relative path


def _shown(path: str) -> str:
    """A path short enough to quote in an error (a 100k-character path would overflow the trailer)."""
    return path if len(path) <= 120 else path[:60] + "..." + path[-40:]


def _check_path_text(path: str, field_name: str) -> None:
    if "\0" in path:
        raise invalid(field_name, "contains a NUL byte")
    if len(path) > MAX_PATH_CHARS:
        raise invalid(field_name, f"is {len(path)} characters long (at most {MAX_PATH_CHARS})")


def _has_parent_segment(path: str) -> bool:
    return ".." in Path(path).parts


class DataRoot:
    """Paths in requests are read and written only under `root` (relative paths resolve against
    it). This is the one confinement check: every path-like field of every request passes it."""

    def __init__(self, root: str | None, allow_hub: bool = True):
        self.root = Path(root).resolve() if root else None
        self.allow_hub = allow_hub  # False: hub ids are refused (nothing is downloaded outside the root)

    def resolve(self, path: str, field_name: str, output: bool = False) -> str:
        """The path, resolved inside the root (symlinks followed), or an error naming the field.
        An empty path stays empty (unset); an output path may not be the root itself."""
        _check_path_text(path, field_name)
        if self.root is None or not path:
            return path
        candidate = Path(path).expanduser() if os.path.isabs(os.path.expanduser(path)) else self.root / path
        try:
            resolved = candidate.resolve()
        except (OSError, RuntimeError):  # a symlink loop, ENAMETOOLONG
            raise invalid(field_name, f"{_shown(path)} cannot be resolved") from None
        if resolved != self.root and self.root not in resolved.parents:
            raise invalid(field_name, f"{_shown(path)} is outside the worker's data root")
        if output and resolved == self.root:
            raise invalid(field_name, f"{_shown(path)} is the data root itself; name a file or folder inside it")
        return str(resolved)

    def redact(self, text: str) -> str:
        """text with every absolute path outside the root replaced, for replies to clients."""
        def outside(match: re.Match) -> str:
            path = match.group(0)
            inside = path == str(self.root) or path.startswith(str(self.root) + os.sep)
            return path if inside else "<path outside the data root>"
        return ABSOLUTE_PATH.sub(outside, text)

    def _hub_or_path(self, value: str, field_name: str) -> str:
        """A hub id stays a hub id; anything that could be read from disk is confined."""
        _check_path_text(value, field_name)
        if value.startswith(PACKAGE_SCHEME):  # a file inside an installed package, nowhere else
            relative = value.removeprefix(PACKAGE_SCHEME).partition("/")[2]
            if os.path.isabs(relative) or _has_parent_segment(relative):
                raise invalid(field_name, f"{_shown(value)}: a pkg:// path stays inside its package")
            return value
        local = value.startswith(("/", ".", "~")) or not HUB_ID.match(value) or os.path.exists(value) \
            or (self.root is not None and (self.root / value).exists())
        if local:
            return self.resolve(value, field_name)
        if not self.allow_hub:
            raise WorkerError(grpc.StatusCode.PERMISSION_DENIED, "HUB_DISABLED",
                              f"{field_name}: '{_shown(value)}' is a hub id, and this worker serves with --no-hub; "
                              "give a path inside its data root", field_name)
        return value

    def check(self, message: Message, prefix: str = "") -> None:
        """Rewrites every path field of `message` (recursively) to its resolved form inside the
        root, or raises naming the first field that escapes it."""
        if self.root is None and self.allow_hub:
            return
        for field, value in message.ListFields():
            name = f"{prefix}{field.name}"
            if field.message_type is not None:
                if field.is_repeated:
                    if not field.message_type.GetOptions().map_entry:
                        for i, item in enumerate(value):
                            self.check(item, f"{name}[{i}].")
                else:
                    self.check(value, f"{name}.")
            elif field.type != field.TYPE_STRING:
                continue
            elif field.name in PATH_FIELDS:
                output = field.name in OUTPUT_FIELDS
                if field.is_repeated:
                    value[:] = [self.resolve(v, f"{name}[{i}]", output) for i, v in enumerate(value)]
                else:
                    setattr(message, field.name, self.resolve(value, name, output))
            elif (message.DESCRIPTOR.name, field.name) in HUB_OR_PATH_FIELDS:
                setattr(message, field.name, self._hub_or_path(value, name))
        self._check_gguf_file(message, prefix)

    def _check_gguf_file(self, message: Message, prefix: str) -> None:
        """A GGUF file name is a path inside its model folder (or hub repo), never above it."""
        if message.DESCRIPTOR.name != "ModelSpec" or not message.gguf_file:
            return
        gguf_file = message.gguf_file
        name = f"{prefix}gguf_file"
        _check_path_text(gguf_file, name)
        if os.path.isabs(gguf_file) or _has_parent_segment(gguf_file):
            raise invalid(name, f"{_shown(gguf_file)}: give a file name inside model.source")
        source = message.source
        if os.path.isabs(source):
            self.resolve(str(Path(source) / gguf_file), name)
