// Benchmark (c): the heap the operator's Secret watch holds while it tracks 500 referenced Secrets of 16 KiB
// each, and proof from a heap snapshot that it keeps metadata only: no Secret value is left in the heap.
import { randomBytes } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString, writeHeapSnapshot } from "node:v8";
import { runInNewContext } from "node:vm";
import { createSecretWatch } from "../../operator/kube/secret-watch.ts";
import { waitFor } from "../support/wait.ts";
import type { BenchCluster } from "./cluster.ts";
import { type Bench, round } from "./measure.ts";

const SECRETS = 500;
const VALUE_BYTES = 16 * 1024;
const CREATE_CONCURRENCY = 8;
const MiB = 1024 * 1024;
/**
 * 15 bytes, so every value's base64 starts with the same 20 characters, whatever random bytes follow. Joined at
 * run time: this module's own source text is in the heap too and must not match.
 */
const MARK = ["modelkeys", "bench"].join("~");
const MARK_BASE64 = Buffer.from(MARK).toString("base64");

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Heap in use after full collections (several: weak references and finalizers free more on the next one). */
function settledHeap(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage();
}

/** A Secret value: the mark, then random bytes nothing in the cluster or the client can share or compress. */
function secretValue(): string {
  return Buffer.concat([Buffer.from(MARK), randomBytes(VALUE_BYTES - MARK.length)]).toString("base64");
}

/**
 * How many distinct strings in a heap snapshot of this process carry a Secret value (its base64 form, as the API
 * sends it, or its decoded form). The snapshot's string table holds each distinct string once, and taking it
 * collects garbage first, so only values something still references are counted.
 */
async function valuesInHeap(): Promise<number> {
  const file = join(tmpdir(), `modelkeys-bench-${process.pid}.heapsnapshot`);
  writeHeapSnapshot(file);
  try {
    const snapshot = JSON.parse(await readFile(file, "utf8")) as { strings: string[] };
    // Longer than any name or constant that merely contains the mark; a value is 16 KiB, its base64 22 KiB.
    return snapshot.strings.filter((s) => s.length > 1000 && (s.includes(MARK_BASE64) || s.includes(MARK)))
      .length;
  } finally {
    await rm(file, { force: true });
  }
}

export const secretMemory: Bench<BenchCluster> = {
  name: "secret-memory",
  description: `heap held by the Secret watch tracking ${SECRETS} Secrets of ${VALUE_BYTES / 1024} KiB (metadata only)`,
  async run(cluster) {
    const { core } = cluster.admin;
    const namespace = await cluster.createNamespace("bench-secrets");
    const names = Array.from({ length: SECRETS }, (_, i) => `cred-${i}`);
    for (let i = 0; i < names.length; i += CREATE_CONCURRENCY) {
      await Promise.all(
        names.slice(i, i + CREATE_CONCURRENCY).map((name) =>
          core.createNamespacedSecret({
            namespace,
            body: { metadata: { name }, data: { "api-key": secretValue() } },
          }),
        ),
      );
    }
    // One value kept on purpose: the snapshot search must find exactly this one, which shows that it works.
    const control = secretValue();

    let changes = 0;
    const before = settledHeap();
    const watch = createSecretWatch({ kc: cluster.operatorKc, namespace, onChange: () => void changes++ });
    try {
      const started = Date.now();
      for (const name of names) watch.track(namespace, name, `ProviderConnection/${namespace}/${name}`);
      await watch.start();
      await waitFor(() => names.every((name) => /^\d+$/.test(watch.version(namespace, name) ?? "")), {
        timeoutMs: 90_000,
        intervalMs: 100,
        description: `${SECRETS} Secrets known`,
      });
      const syncMs = Date.now() - started;
      const after = settledHeap();
      const found = await valuesInHeap();
      if (found < 1 || !control.startsWith(MARK_BASE64)) {
        throw new Error("the heap snapshot search did not find the control value: it proves nothing");
      }
      const heldBytes = Math.max(0, after.heapUsed - before.heapUsed);
      return {
        measurements: [
          {
            name: `heap held for ${SECRETS} Secrets`,
            value: round(heldBytes / MiB),
            unit: "MiB",
            target: { atMost: 64 },
          },
          {
            name: "heap per tracked Secret",
            value: round(heldBytes / SECRETS / 1024),
            unit: "KiB",
            target: { atMost: 2 },
          },
          { name: "Secret values left in the heap", value: found - 1, unit: "values", target: { atMost: 0 } },
          {
            name: "array buffers held",
            value: round(Math.max(0, after.arrayBuffers - before.arrayBuffers) / MiB),
            unit: "MiB",
          },
          { name: `time to watch and fingerprint ${SECRETS}`, value: round(syncMs / 1000), unit: "s" },
        ],
        details: {
          secrets: SECRETS,
          valueBytes: VALUE_BYTES,
          secretDataMiB: round((SECRETS * VALUE_BYTES) / MiB),
          heapBeforeBytes: before.heapUsed,
          heapAfterBytes: after.heapUsed,
          watched: watch.watched().length,
          initialChanges: changes,
        },
      };
    } finally {
      await watch.stop();
    }
  },
};
