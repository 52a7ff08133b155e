// Shared pieces of the modelkeys API: Secret references, conditions, names the cluster sees.
import { z } from "zod";

export const GROUP = "modelkeys.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A key of a Secret in the referencing object's namespace; secrets are never inlined in a spec. */
export const SecretKeyRef = z
  .object({
    name: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
      .meta({ description: "Name of a Secret in the same namespace." }),
    key: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[-._a-zA-Z0-9]+$/)
      .meta({ description: "Key within the Secret's data." }),
  })
  .strict()
  .meta({ description: "A key of a Secret in the same namespace." });
export type SecretKeyRef = z.infer<typeof SecretKeyRef>;

/** A condition as in metav1.Condition, so kstatus and `kubectl wait --for=condition=Ready` read it. */
export const Condition = z
  .object({
    type: z.string().min(1).max(316),
    status: z.enum(["True", "False", "Unknown"]),
    reason: z.string().min(1).max(1024),
    message: z.string().max(32768).optional(),
    lastTransitionTime: z.string().meta({ format: "date-time" }),
    observedGeneration: z.number().int().min(0).optional(),
  })
  .meta({ description: "The latest observation of one aspect of the object's state." });
export type Condition = z.infer<typeof Condition>;

/**
 * Atomic, not a list-map keyed by type: one controller writes every condition, always as the whole list (a JSON
 * merge patch replaces lists anyway), so per-condition field ownership tracks nothing. The list-map's
 * managedFields entry (one key per condition and field) was a third of a connection's stored bytes, and the API
 * server decodes, validates and re-encodes those bytes on every write: atomic made a status write 8–20 % cheaper
 * in control-plane CPU (`npm run bench -- write-cost`, README "Scale").
 */
export const Conditions = z.array(Condition).max(32).meta({
  description:
    "Ready summarises; the other types explain. Each type appears once; the operator owns the list.",
  "x-kubernetes-list-type": "atomic",
});

/** A Kubernetes-style duration such as 90s, 10m, 1h or 1h30m, plus days (90d) for key ages. */
export const Duration = z
  .string()
  .regex(/^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$/)
  .max(32)
  .meta({ description: "A duration such as 30m, 1h, 1h30m or 90d." });

/**
 * A duration without days, as Go and CEL's duration() read it: for a field the API server checks with CEL
 * (a "1d" there would pass the pattern and then fail the rule with an evaluation error instead of a clear one).
 */
export const CelDuration = z
  .string()
  .regex(/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/)
  .max(32)
  .meta({ description: "A duration such as 30m, 1h or 1h30m." });

export const LocalObjectRef = z
  .object({
    name: z.string().min(1).max(253).meta({ description: "Name of the object in the same namespace." }),
  })
  .strict();

/** Parses a Duration into milliseconds. */
export function durationToMs(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  for (const match of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/g)) {
    total += Number(match[1]) * (units[match[2] as string] ?? 0);
  }
  return total;
}

/** The status of an object the operator has not reconciled yet: Reconciling, waiting for its first reconcile. */
export const PENDING_STATUS = {
  conditions: [
    {
      type: "Reconciling",
      status: "True",
      reason: "Reconciling",
      message: "waiting for the operator's first reconcile",
      // A fixed time: a default cannot say when the object was created.
      lastTransitionTime: "1970-01-01T00:00:00Z",
    },
  ],
};
