// A checkpoint in a Secret: gzip-compressed JSON, checked against the Secret size limit before any write.
import { gunzipSync, gzipSync } from "node:zlib";
import { type Checkpoint, StateTooLargeError } from "../azure/state-store.ts";

/** The API server refuses a Secret whose data passes 1 MiB (the sum of its values). */
export const SECRET_DATA_LIMIT = 1024 * 1024;

/** The checkpoint as stored; throws {@link StateTooLargeError} when it would not fit in `limitBytes`. */
export function encodeCheckpoint(stack: string, checkpoint: Checkpoint, limitBytes: number): Buffer {
  const bytes = gzipSync(JSON.stringify(checkpoint), { level: 9 });
  if (bytes.length > limitBytes) throw new StateTooLargeError(stack, bytes.length, limitBytes);
  return bytes;
}

/** The checkpoint stored by {@link encodeCheckpoint}. */
export function decodeCheckpoint(bytes: Buffer): Checkpoint {
  const parsed = JSON.parse(gunzipSync(bytes).toString("utf8")) as Partial<Checkpoint>;
  if (typeof parsed?.version !== "number" || parsed.deployment === undefined) {
    throw new Error("the stored Pulumi state is not an exported deployment (version, deployment)");
  }
  return { version: parsed.version, deployment: parsed.deployment };
}
