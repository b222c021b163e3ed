// Worker errors cross into the controller here, and only here: a gRPC status (with
// google.rpc.ErrorInfo / BadRequest details) becomes one SparseSubError.
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { BadRequest, ErrorInfo } from "../gen/google/rpc/error_details.js";
import { Status } from "../gen/google/rpc/status.js";
import { SparseSubError } from "../errors.js";

const DETAILS_KEY = "grpc-status-details-bin";

function decodeDetails(error: ServiceError): { reason?: string; field?: string } {
  const raw = error.metadata?.get(DETAILS_KEY)?.[0];
  if (!raw || typeof raw === "string") return {};
  const out: { reason?: string; field?: string } = {};
  for (const detail of Status.decode(raw).details) {
    if (detail.typeUrl.endsWith("/google.rpc.ErrorInfo")) out.reason = ErrorInfo.decode(detail.value).reason;
    if (detail.typeUrl.endsWith("/google.rpc.BadRequest")) out.field = BadRequest.decode(detail.value).fieldViolations[0]?.field;
  }
  return out;
}

/** A gRPC ServiceError as a SparseSubError naming the worker, the reason and the field. */
export function fromServiceError(error: ServiceError, worker: string, what: string): SparseSubError {
  if (error.code === GrpcStatus.UNAVAILABLE) {
    return new SparseSubError("WORKER_UNREACHABLE", `worker ${worker} is unreachable (${what}): ${error.details || error.message}`, {
      grpcCode: error.code,
      cause: error,
    });
  }
  if (error.code === GrpcStatus.CANCELLED) {
    return new SparseSubError("CANCELLED", `${what} on ${worker} was cancelled`, { grpcCode: error.code, cause: error });
  }
  const { reason, field } = decodeDetails(error);
  return new SparseSubError("WORKER_FAILED", `${what} failed on ${worker}: ${error.details}`, {
    grpcCode: error.code,
    reason: reason ?? GrpcStatus[error.code],
    field,
    cause: error,
  });
}
