"""The worker's one error type. It crosses the wire in exactly one place (server.py)."""

from __future__ import annotations

import grpc


class WorkerError(Exception):
    """A failure with a gRPC code, a stable UPPER_SNAKE reason (docs/errors.md) and, for bad
    input, the request field or file it is about."""

    def __init__(self, code: grpc.StatusCode, reason: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.field = field


def invalid(field: str, message: str) -> WorkerError:
    """A bad request field: INVALID_ARGUMENT / INVALID_FIELD, naming the field."""
    return WorkerError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", f"{field}: {message}", field)


def not_found(field: str, path: str, what: str = "file") -> WorkerError:
    """A path in the request that does not exist on this worker."""
    return WorkerError(grpc.StatusCode.NOT_FOUND, "PATH_NOT_FOUND", f"{field}: {what} not found: {path}", field)


def precondition(reason: str, message: str, field: str | None = None) -> WorkerError:
    """Input that is well-formed but cannot be used (empty corpus, unsupported model, ...)."""
    return WorkerError(grpc.StatusCode.FAILED_PRECONDITION, reason, message, field)


class JobCancelled(WorkerError):
    """Raised inside a job when its client cancelled; the job cleans up and the worker stays usable."""

    def __init__(self, job_id: str):
        super().__init__(grpc.StatusCode.CANCELLED, "JOB_CANCELLED", f"job {job_id} was cancelled")


def out_of_memory(error: BaseException, job_id: str, shape: str, advice: str) -> WorkerError | None:
    """A device or host out-of-memory error as the user's to fix: which job, at which batch and
    sequence length, and what to lower. None for any other error."""
    import torch

    oom = isinstance(error, torch.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and "can't allocate memory" in str(error))  # CPU allocator
    if not oom:
        return None
    first_line = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
    return WorkerError(grpc.StatusCode.RESOURCE_EXHAUSTED, "OUT_OF_MEMORY",
                       f"job {job_id} ran out of memory at {shape} ({first_line}); {advice}")
