// Reads a subnetwork pack's description from its safetensors header (no tensors loaded, no
// worker needed): 8-byte little-endian header length, then a JSON header.
import { closeSync, openSync, readSync } from "node:fs";
import { SparseSubError } from "../errors.js";

export const PACK_FORMAT = "sparse-sub/pack@1";

export interface PackInfo {
  path: string;
  language: string;
  baseModel: string;
  numLayers: number;
  hiddenSize: number;
  intermediateSize: number;
  components: string[];
  neuronCount: number;
  perLayer: Record<string, number>; // layer -> neurons
  bytes: number; // tensor data
}

function readHeader(path: string): Record<string, unknown> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw new SparseSubError("PACK_INVALID", `cannot read pack ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  try {
    const size = Buffer.alloc(8);
    if (readSync(fd, size, 0, 8, 0) !== 8) throw new Error("shorter than 8 bytes");
    const length = Number(size.readBigUInt64LE());
    if (length <= 0 || length > 100 * 2 ** 20) throw new Error(`header length ${length} is not plausible`);
    const header = Buffer.alloc(length);
    if (readSync(fd, header, 0, length, 8) !== length) throw new Error("header is truncated");
    return JSON.parse(header.toString("utf8"));
  } catch (error) {
    throw new SparseSubError("PACK_INVALID", `${path} is not a safetensors file (${(error as Error).message})`);
  } finally {
    closeSync(fd);
  }
}

export function readPackInfo(path: string): PackInfo {
  const header = readHeader(path);
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  if (metadata.format !== PACK_FORMAT) {
    throw new SparseSubError("PACK_INVALID", `${path} is not a ${PACK_FORMAT} file (format: ${metadata.format ?? "none"})`);
  }
  const perLayer: Record<string, number> = {};
  let bytes = 0;
  for (const [key, entry] of Object.entries(header)) {
    if (key === "__metadata__") continue;
    const { shape, data_offsets } = entry as { shape: number[]; data_offsets: [number, number] };
    bytes += data_offsets[1] - data_offsets[0];
    const match = /^layers\.(\d+)\.neuron_indices$/.exec(key);
    if (match) perLayer[match[1]] = shape[0];
  }
  return {
    path,
    language: metadata.language ?? "",
    baseModel: metadata.base_model ?? "",
    numLayers: Number(metadata.num_layers),
    hiddenSize: Number(metadata.hidden_size),
    intermediateSize: Number(metadata.intermediate_size),
    components: (metadata.components ?? "").split(",").filter(Boolean),
    neuronCount: Number(metadata.neuron_count),
    perLayer,
    bytes,
  };
}

export function describePack(info: PackInfo): string {
  const layers = Object.entries(info.perLayer).sort(([a], [b]) => Number(a) - Number(b)).map(([l, n]) => `${l}:${n}`).join(" ");
  return [
    `${info.path}`,
    `  language      ${info.language}`,
    `  base model    ${info.baseModel}`,
    `  model shape   ${info.numLayers} layers, hidden ${info.hiddenSize}, intermediate ${info.intermediateSize}`,
    `  components    ${info.components.join(", ")}`,
    `  neurons       ${info.neuronCount} (${((info.neuronCount / (info.numLayers * info.intermediateSize)) * 100).toFixed(2)}% of all)`,
    `  per layer     ${layers || "-"}`,
    `  size          ${(info.bytes / 2 ** 20).toFixed(2)} MiB of tensors`,
  ].join("\n");
}
