// A worker started with a token and a data root, reached through the pool the way a plan's
// remote worker is: the right token works, a missing or wrong one is refused, and a path
// outside the data root is refused naming the field. Real worker, real gRPC.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkerClient } from "../ts/worker/client.js";
import { WorkerPool } from "../ts/worker/pool.js";
import { startLocalWorker, type LocalWorker } from "../ts/worker/launch.js";

const TOKEN = "f00dfeedf00dfeedf00dfeedf00dfeed";
let worker: LocalWorker;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sparse-sub-secure-"));
  writeFileSync(join(dir, "token"), TOKEN + "\n");
  writeFileSync(join(dir, "wrong"), "0000000000000000000000000000000000\n");
  worker = await startLocalWorker({ args: ["--token-file", join(dir, "token"), "--data-root", dir] });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
});

describe("a worker with a token and a data root", () => {
  it("answers a pool that has the token", async () => {
    const pool = await WorkerPool.start([{ address: worker.address, token_file: join(dir, "token"), token_env: "UNSET_VARIABLE", tls: false }]);
    try {
      expect(pool.workers[0].info.protocol).toBe("sparse_sub.v1");
      const error = await pool.workers[0].client
        .convertNeuronSet({ direction: 2, referencePath: "/etc/out.pt", neuronSetPaths: [join(dir, "af.json")], numLayers: 2 })
        .catch((e) => e);
      expect(error.extra.field).toBe("reference_path");
      expect(error.message).toContain("/etc/out.pt is outside the worker's data root");
    } finally {
      await pool.close();
    }
  });

  it("refuses a missing or wrong token", async () => {
    for (const spec of [{ token_env: "UNSET_VARIABLE" }, { token_file: join(dir, "wrong"), token_env: "UNSET_VARIABLE" }]) {
      const error = await WorkerPool.start([{ address: worker.address, tls: false, ...spec }]).catch((e) => e);
      expect(error.code).toBe("WORKER_FAILED");
      expect(error.message).toMatch(/(missing|wrong) bearer token/);
    }
  });
});

describe("files between workers", () => {
  it("copies a file in checksummed chunks between two data roots, once", async () => {
    const [rootA, rootB] = [mkdtempSync(join(tmpdir(), "sparse-sub-a-")), mkdtempSync(join(tmpdir(), "sparse-sub-b-"))];
    const content = Buffer.alloc(3_000_000, "sparse-sub ");
    mkdirSync(join(rootA, "packs"));
    writeFileSync(join(rootA, "packs", "af.safetensors"), content);
    const [a, b] = await Promise.all([startLocalWorker({ args: ["--data-root", rootA] }), startLocalWorker({ args: ["--data-root", rootB] })]);
    const [clientA, clientB] = [new WorkerClient(a.address), new WorkerClient(b.address)];
    try {
      const first = await clientA.copyFileTo(clientB, "packs/af.safetensors");
      expect(first).toEqual({ copied: true, size: content.length, sha256: createHash("sha256").update(content).digest("hex") });
      expect(readFileSync(join(rootB, "packs", "af.safetensors")).equals(content)).toBe(true);
      expect((await clientA.copyFileTo(clientB, "packs/af.safetensors")).copied).toBe(false); // already there
      const missing = await clientA.copyFileTo(clientB, "packs/none.safetensors").catch((e) => e);
      expect(missing.message).toContain("packs/none.safetensors does not exist");
    } finally {
      clientA.close();
      clientB.close();
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 120_000);
});
