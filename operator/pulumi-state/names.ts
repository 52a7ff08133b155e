// The words the cluster sees for kept Pulumi state: the Secret and Lease of each stack, their type, labels
// and annotations.
import { createHash } from "node:crypto";

/** The type of the Secrets holding a stack's checkpoint. */
export const STATE_SECRET_TYPE = "modelkeys.dev/pulumi-state";
/** The data key of the gzip-compressed checkpoint (JSON of the Automation API's exported deployment). */
export const CHECKPOINT_KEY = "checkpoint.json.gz";
/** Labels on the state Secret and Lease: `kubectl get secret -l modelkeys.dev/pulumi-state` lists them. */
export const STATE_LABELS = {
  "app.kubernetes.io/managed-by": "modelkeys",
  "modelkeys.dev/pulumi-state": "true",
} as const;
/** The exact Pulumi stack name (label values are too short for it). */
export const STACK_ANNOTATION = "modelkeys.dev/pulumi-stack";
/** Who last wrote the state: the holder identity, so a person can tell which replica it was. */
export const HOLDER_ANNOTATION = "modelkeys.dev/state-holder";

const MAX_NAME = 253;

/**
 * The name of a stack's Secret and Lease: `pulumi-state-` and the stack name with every character a
 * Kubernetes name refuses made `-`; stack names end in a hash of the account's identity, so they stay
 * distinct. Very long names are cut and given a hash of the whole.
 */
export function stateObjectName(stack: string): string {
  const readable = `pulumi-state-${stack.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`;
  if (readable.length <= MAX_NAME) return readable;
  const hash = createHash("sha256").update(stack).digest("hex").slice(0, 10);
  return `${readable.slice(0, MAX_NAME - 11)}-${hash}`;
}
