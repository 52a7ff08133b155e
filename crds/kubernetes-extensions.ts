// Kubernetes-only schema keys (CEL rules, descriptions for kubectl explain) for zod schemas defined outside
// crds/, such as the shared Azure account schema in pulumi/: they reach the CRD without that module knowing Kubernetes.
import type { z } from "zod";
import type { SchemaNode } from "./structural.ts";

const extensions = new WeakMap<object, SchemaNode>();

/**
 * Adds `keys` (e.g. `x-kubernetes-validations`, a Kubernetes-flavoured `description`) to the CRD schema of
 * exactly this zod schema instance, wherever it appears; returns the same instance, unchanged for zod.
 * Rules given for one instance twice are appended, other keys replaced.
 */
export function withKubernetes<T extends z.ZodType>(schema: T, keys: SchemaNode): T {
  const previous = extensions.get(schema) ?? {};
  const rules = [
    ...((previous["x-kubernetes-validations"] as unknown[]) ?? []),
    ...((keys["x-kubernetes-validations"] as unknown[]) ?? []),
  ];
  extensions.set(schema, {
    ...previous,
    ...keys,
    ...(rules.length > 0 ? { "x-kubernetes-validations": rules } : {}),
  });
  return schema;
}

/** The `override` hook of z.toJSONSchema that applies {@link withKubernetes}'s keys. */
export function applyKubernetesExtensions(context: {
  zodSchema: unknown;
  jsonSchema: Record<string, unknown>;
}): void {
  const keys = extensions.get(context.zodSchema as object);
  if (keys) Object.assign(context.jsonSchema, keys);
}
