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
from pathlib import Path

import grpc
from google.protobuf.message import Message

from .errors import invalid

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
        if handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(deny, handler.request_deserializer, handler.response_serializer)
        return grpc.unary_unary_rpc_method_handler(deny, handler.request_deserializer, handler.response_serializer)


# Request fields that name files or directories on the worker.
PATH_FIELDS = {"paths", "files", "output_path", "output_dir", "path", "neuron_set_path", "neuron_set_paths", "pack_path",
               "pack_paths", "adapter_path", "model_directory", "reference_path", "drawn_neuron_set_path", "checkpoint_path"}


class DataRoot:
    """Paths in requests are read and written only under `root` (relative paths resolve against it)."""

    def __init__(self, root: str | None):
        self.root = Path(root).resolve() if root else None

    def resolve(self, path: str, field_name: str) -> str:
        if self.root is None or not path:
            return path
        candidate = Path(path) if os.path.isabs(path) else self.root / path
        resolved = candidate.resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise invalid(field_name, f"{path} is outside the worker's data root {self.root}")
        return str(resolved)

    def check(self, message: Message, prefix: str = "") -> None:
        """Rewrites every path field of `message` (recursively) to its resolved form inside the
        root, or raises naming the first field that escapes it. The model source counts as a path
        when it looks like one (hub ids do not)."""
        if self.root is None:
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
            elif field.name in PATH_FIELDS or (field.name == "source" and str(value).startswith(("/", ".", "~"))):
                if field.is_repeated:
                    value[:] = [self.resolve(v, f"{name}[{i}]") for i, v in enumerate(value)]
                else:
                    setattr(message, field.name, self.resolve(value, name))
