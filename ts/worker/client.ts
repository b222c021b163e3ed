// A promise-based client for one worker. Streaming RPCs resolve with their result event;
// progress events go to a callback; an AbortSignal cancels the call on the worker.
import { credentials, InterceptingCall, type ClientReadableStream, type Interceptor, type ServiceError } from "@grpc/grpc-js";
import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, openSync, closeSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import {
  type FileChunk,
  GetFileRequest,
  ListFilesRequest,
  type ListFilesResponse,
  type PutFileResponse,
  StatFileRequest,
  type StatFileResponse,
  AnalyzeWeightsRequest,
  type AnalyzeWeightsResponse,
  CollectActivationsRequest,
  ConvertNeuronSetRequest,
  EvaluateRequest,
  SteerRequest,
  type SteerResult,
  GetWorkerInfoRequest,
  MergePackRequest,
  Method,
  methodToJSON,
  SelectNeuronsRequest,
  TrainRequest,
  WorkerClient as GeneratedClient,
  type CollectActivationsResult,
  type ConvertNeuronSetResponse,
  type EvaluateResult,
  type MergePackResponse,
  type Progress,
  type SelectNeuronsResponse,
  type TrainResult,
  type WorkerInfo,
} from "../gen/sparse_sub/v1/worker.js";
import { SparseSubError } from "../errors.js";
import { fromServiceError } from "./errors.js";

export interface CallOptions {
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

type StreamEvent<R> = { event?: { $case: "progress"; value: Progress } | { $case: "result"; value: R } | undefined };

const MESSAGE_LIMIT = 64 << 20;

/** How to reach a worker that listens beyond loopback (see the worker's --token-file, --tls-*). */
export interface WorkerSecurity {
  token?: string; // sent as `authorization: Bearer <token>` on every call
  tls?: boolean; // TLS channel (the worker's --tls-cert / --tls-key)
  rootCert?: Buffer; // PEM CA that signed the worker's certificate; default: the system's roots
}

const bearer = (token: string): Interceptor => (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start: (metadata, listener, next) => {
      metadata.set("authorization", `Bearer ${token}`);
      next(metadata, listener);
    },
  });

export class WorkerClient {
  private readonly client: GeneratedClient;

  constructor(
    readonly address: string,
    security: WorkerSecurity = {},
  ) {
    const channel = security.tls ? credentials.createSsl(security.rootCert ?? null) : credentials.createInsecure();
    this.client = new GeneratedClient(address, channel, {
      "grpc.max_receive_message_length": MESSAGE_LIMIT,
      "grpc.max_send_message_length": MESSAGE_LIMIT,
      interceptors: security.token ? [bearer(security.token)] : [],
    });
  }

  /** Resolves once the worker answers, or fails with WORKER_UNREACHABLE after `timeoutMs`. */
  async waitForReady(timeoutMs = 10_000): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.client.waitForReady(Date.now() + timeoutMs, (error) =>
        error
          ? reject(new SparseSubError("WORKER_UNREACHABLE", `worker ${this.address} did not answer within ${timeoutMs / 1000}s: ${error.message}`))
          : resolve(),
      ),
    );
  }

  info(): Promise<WorkerInfo> {
    return this.unary("GetWorkerInfo", (cb) => this.client.getWorkerInfo(GetWorkerInfoRequest.fromPartial({}), cb));
  }

  collectActivations(request: Partial<CollectActivationsRequest>, options: CallOptions = {}): Promise<CollectActivationsResult> {
    return this.stream(`CollectActivations(${request.language})`, this.client.collectActivations(CollectActivationsRequest.fromPartial(request)), options);
  }

  selectNeurons(request: Partial<SelectNeuronsRequest>): Promise<SelectNeuronsResponse> {
    return this.unary("SelectNeurons", (cb) => this.client.selectNeurons(SelectNeuronsRequest.fromPartial(request), cb));
  }

  train(request: Partial<TrainRequest>, options: CallOptions = {}): Promise<TrainResult> {
    const method = methodToJSON(request.method ?? Method.METHOD_SPARSE).replace("METHOD_", "").toLowerCase();
    return this.stream(`Train(${request.language}, ${method})`, this.client.train(TrainRequest.fromPartial(request)), options);
  }

  evaluate(request: Partial<EvaluateRequest>, options: CallOptions = {}): Promise<EvaluateResult> {
    const what = `Evaluate(${request.packPath || request.adapterPath || request.model?.source || "base"})`;
    return this.stream(what, this.client.evaluate(EvaluateRequest.fromPartial(request)), options);
  }

  steer(request: Partial<SteerRequest>, options: CallOptions = {}): Promise<SteerResult> {
    return this.stream(`Steer(${request.prompts?.length ?? 0} prompts)`, this.client.steer(SteerRequest.fromPartial(request)), options);
  }

  mergePack(request: Partial<MergePackRequest>): Promise<MergePackResponse> {
    return this.unary("MergePack", (cb) => this.client.mergePack(MergePackRequest.fromPartial(request), cb));
  }

  analyzeWeights(request: Partial<AnalyzeWeightsRequest>): Promise<AnalyzeWeightsResponse> {
    return this.unary("AnalyzeWeights", (cb) => this.client.analyzeWeights(AnalyzeWeightsRequest.fromPartial(request), cb));
  }

  statFile(path: string): Promise<StatFileResponse> {
    return this.unary("StatFile", (cb) => this.client.statFile(StatFileRequest.fromPartial({ path }), cb));
  }

  /** Copies `path` on this worker to `targetPath` on `target` in chunks; the target writes it
   * only if the SHA-256 matches. Skipped when the target already holds the same content. */
  async copyFileTo(target: WorkerClient, path: string, targetPath = path): Promise<{ copied: boolean; size: number; sha256: string }> {
    const [here, there] = await Promise.all([this.statFile(path), target.statFile(targetPath)]);
    if (!here.exists) throw new SparseSubError("WORKER_FAILED", `${path} does not exist on ${this.address}`, { field: "path" });
    if (there.exists && there.sha256 === here.sha256) return { copied: false, size: here.size, sha256: here.sha256 };
    const response = await new Promise<PutFileResponse>((resolve, reject) => {
      const upload = target.client.putFile((error, result) => {
        if (!error) return resolve(result);
        download.cancel(); // the target refused: stop reading
        reject(fromServiceError(error, target.address, `PutFile(${targetPath})`));
      });
      const download = this.client.getFile(GetFileRequest.fromPartial({ path }));
      download.on("data", (chunk: FileChunk) => {
        if (!upload.write({ ...chunk, path: chunk.offset === 0 ? targetPath : "" })) download.pause();
      });
      upload.on("drain", () => download.resume());
      download.on("end", () => upload.end());
      download.on("error", (error: ServiceError) => {
        upload.cancel();
        reject(fromServiceError(error, this.address, `GetFile(${path})`));
      });
    });
    return { copied: true, size: response.size, sha256: response.sha256 };
  }

  listFiles(path: string): Promise<ListFilesResponse> {
    return this.unary("ListFiles", (cb) => this.client.listFiles(ListFilesRequest.fromPartial({ path }), cb));
  }

  /** Sends a file of this machine to `workerPath` in 1 MiB chunks; the worker writes it
   * (atomically) only if the SHA-256 of what arrived is `sha256`. */
  uploadFile(localPath: string, workerPath: string, sha256: string): Promise<PutFileResponse> {
    return new Promise<PutFileResponse>((resolve, reject) => {
      const upload = this.client.putFile((error, result) => {
        if (!error) return resolve(result);
        source.destroy(); // the worker refused: stop reading
        reject(fromServiceError(error, this.address, `PutFile(${workerPath})`));
      });
      const source = createReadStream(localPath, { highWaterMark: 1 << 20 });
      let offset = 0;
      let pending: Buffer | undefined; // held back so the last chunk can carry the checksum
      const send = (data: Buffer, last: boolean) => {
        const written = upload.write({ path: offset === 0 ? workerPath : "", offset, data, sha256: last ? sha256 : "", last });
        offset += data.length;
        if (!written) source.pause();
      };
      upload.on("drain", () => source.resume());
      source.on("data", (data) => {
        if (pending) send(pending, false);
        pending = data as Buffer;
      });
      source.on("end", () => {
        send(pending ?? Buffer.alloc(0), true);
        upload.end();
      });
      source.on("error", (error) => {
        upload.cancel();
        reject(new SparseSubError("WORKER_FAILED", `cannot read ${localPath}: ${error.message}`));
      });
    });
  }

  /** Fetches `workerPath` into `localPath`, which appears (atomically) only if the content's
   * SHA-256 is the worker's. */
  downloadFile(workerPath: string, localPath: string): Promise<{ size: number; sha256: string }> {
    mkdirSync(dirname(localPath), { recursive: true });
    const tmp = join(dirname(localPath), `.${basename(localPath)}.${process.pid}.${Date.now()}.part`);
    const fd = openSync(tmp, "w");
    const digest = createHash("sha256");
    let size = 0;
    let expected = "";
    return new Promise<{ size: number; sha256: string }>((resolve, reject) => {
      const fail = (error: Error) => {
        closeSync(fd);
        rmSync(tmp, { force: true });
        reject(error);
      };
      const download = this.client.getFile(GetFileRequest.fromPartial({ path: workerPath }));
      download.on("data", (chunk: FileChunk) => {
        writeSync(fd, chunk.data);
        digest.update(chunk.data);
        size += chunk.data.length;
        if (chunk.last) expected = chunk.sha256;
      });
      download.on("error", (error: ServiceError) => fail(fromServiceError(error, this.address, `GetFile(${workerPath})`)));
      download.on("end", () => {
        const actual = digest.digest("hex");
        if (actual !== expected) {
          const message = `${workerPath} from ${this.address}: received data has SHA-256 ${actual}, the worker's is ${expected || "missing"}; nothing written`;
          return fail(new SparseSubError("WORKER_FAILED", message, { reason: "CHECKSUM_MISMATCH" }));
        }
        closeSync(fd);
        renameSync(tmp, localPath);
        resolve({ size, sha256: actual });
      });
    });
  }

  convertNeuronSet(request: Partial<ConvertNeuronSetRequest>): Promise<ConvertNeuronSetResponse> {
    return this.unary("ConvertNeuronSet", (cb) => this.client.convertNeuronSet(ConvertNeuronSetRequest.fromPartial(request), cb));
  }

  close(): void {
    this.client.close();
  }

  private unary<R>(what: string, call: (callback: (error: ServiceError | null, response: R) => void) => unknown): Promise<R> {
    return new Promise((resolve, reject) =>
      call((error, response) => (error ? reject(fromServiceError(error, this.address, what)) : resolve(response))),
    );
  }

  private stream<R>(what: string, call: ClientReadableStream<StreamEvent<R>>, options: CallOptions): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let result: R | undefined;
      const abort = () => call.cancel();
      if (options.signal?.aborted) abort();
      options.signal?.addEventListener("abort", abort, { once: true });
      const settle = () => options.signal?.removeEventListener("abort", abort);
      call.on("data", (message: StreamEvent<R>) => {
        const event = message.event;
        if (event?.$case === "progress") options.onProgress?.(event.value);
        else if (event?.$case === "result") result = event.value;
      });
      call.on("error", (error: ServiceError) => {
        settle();
        reject(fromServiceError(error, this.address, what));
      });
      call.on("end", () => {
        settle();
        if (result === undefined) reject(new SparseSubError("WORKER_FAILED", `${what} on ${this.address} ended without a result`));
        else resolve(result);
      });
    });
  }
}
