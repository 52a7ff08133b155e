// Rewrites zod 4's OpenAPI 3.0 JSON Schema into a Kubernetes structural schema for a CRD version.
// It inlines references, turns null unions into `nullable`, and refuses whatever a CRD cannot express.

/** A JSON Schema node as zod emits it, or a structural schema node as the API server reads it. */
export type SchemaNode = { [key: string]: unknown };

/** Thrown for a schema construct that a Kubernetes structural schema cannot express. */
export class UnstructurableSchemaError extends Error {
  override name = "UnstructurableSchemaError";
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path || "<root>"}: ${reason}`);
  }
}

// The JSONSchemaProps keys that a structural schema may carry, besides the x-kubernetes-* extensions.
const KEPT_KEYS = new Set([
  "type",
  "format",
  "description",
  "title",
  "default",
  "enum",
  "nullable",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minProperties",
  "maxProperties",
  "required",
  "properties",
  "items",
  "additionalProperties",
  "example",
]);

// Keys zod emits that carry no meaning for the API server.
const DROPPED_KEYS = new Set(["$schema", "$id", "id", "definitions", "$defs", "readOnly", "writeOnly"]);

const KUBERNETES_EXTENSIONS = new Set([
  "x-kubernetes-validations",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-int-or-string",
  "x-kubernetes-embedded-resource",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-map-type",
]);

const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean"]);

/**
 * Converts the output of `z.toJSONSchema(schema, {target: "openapi-3.0", io: "input"})` into a
 * structural schema: every node has a `type` (or preserves unknown fields), objects list their
 * `properties`, and no `$ref`, `anyOf`, `oneOf`, `allOf` or `not` declares types.
 *
 * Guarantees: the input is not mutated; an empty `properties` map is dropped (the API server stores none);
 * `default`, `description`, `format`, bounds, `pattern`,
 * `enum` and `x-kubernetes-*` keys are kept; `additionalProperties: false` is dropped (the API server
 * prunes unknown fields and kubectl's field validation reports them); zod's ±2^53-1 bounds of
 * `.int()` are dropped as noise.
 * Caveats: anything else (unions of several types, tuples, intersections, recursive references,
 * an untyped node, a key it does not know) throws an UnstructurableSchemaError naming the path.
 */
export function toStructural(schema: SchemaNode): SchemaNode {
  const definitions = {
    ...(asRecord(schema.definitions) ?? {}),
    ...(asRecord(schema.$defs) ?? {}),
  };
  return rewrite(schema, "", definitions, []);
}

function rewrite(node: SchemaNode, path: string, definitions: SchemaNode, refs: string[]): SchemaNode {
  const merged = mergeNullUnion(node, path);
  if (typeof merged.$ref === "string") {
    return rewrite(resolveRef(merged, path, definitions, refs), path, definitions, [...refs, merged.$ref]);
  }
  const out: SchemaNode = {};
  for (const [key, value] of Object.entries(merged)) {
    if (DROPPED_KEYS.has(key)) continue;
    if (key.startsWith("x-kubernetes-")) {
      if (!KUBERNETES_EXTENSIONS.has(key))
        throw new UnstructurableSchemaError(path, `unknown extension ${key}`);
      out[key] = value;
      continue;
    }
    if (key === "anyOf" || key === "oneOf" || key === "allOf" || key === "not") {
      throw new UnstructurableSchemaError(path, `${key} cannot declare types in a structural schema`);
    }
    if (key === "const") {
      out.enum = [value];
      continue;
    }
    if (!KEPT_KEYS.has(key)) throw new UnstructurableSchemaError(path, `unsupported keyword ${key}`);
    out[key] = value;
  }

  dropSafeIntegerBounds(out);
  checkType(out, path);

  if (out.properties !== undefined) {
    const properties = asRecord(out.properties);
    if (!properties) throw new UnstructurableSchemaError(path, "properties must be an object");
    // The API server does not store an empty map (z.object({}) emits one), so keeping it would make every
    // server-side apply of the CRD differ from what is stored and conflict with another field manager.
    if (Object.keys(properties).length === 0) delete out.properties;
  }
  if (out.properties !== undefined) {
    const properties = asRecord(out.properties) as SchemaNode;
    out.properties = Object.fromEntries(
      Object.entries(properties).map(([name, child]) => [
        name,
        rewrite(asSchema(child, `${path}.${name}`), `${path}.${name}`, definitions, refs),
      ]),
    );
  }
  if (out.items !== undefined) {
    if (Array.isArray(out.items))
      throw new UnstructurableSchemaError(path, "tuples (an items array) are not structural");
    out.items = rewrite(asSchema(out.items, `${path}[]`), `${path}[]`, definitions, refs);
  }
  rewriteAdditionalProperties(out, path, definitions, refs);
  return out;
}

function rewriteAdditionalProperties(
  out: SchemaNode,
  path: string,
  definitions: SchemaNode,
  refs: string[],
): void {
  const extra = out.additionalProperties;
  if (extra === undefined) return;
  delete out.additionalProperties;
  if (extra === false) return;
  const hasProperties = Object.keys(asRecord(out.properties) ?? {}).length > 0;
  if (extra === true || (isRecord(extra) && Object.keys(extra).length === 0)) {
    // An open object (passthrough): keep the listed fields and every other one.
    out["x-kubernetes-preserve-unknown-fields"] = true;
    return;
  }
  if (hasProperties) {
    throw new UnstructurableSchemaError(
      path,
      "properties and a typed additionalProperties cannot be combined",
    );
  }
  delete out.properties;
  out.additionalProperties = rewrite(asSchema(extra, `${path}.*`), `${path}.*`, definitions, refs);
}

function resolveRef(node: SchemaNode, path: string, definitions: SchemaNode, refs: string[]): SchemaNode {
  const ref = node.$ref as string;
  // "#" is the root itself, so a reference to it is always a cycle.
  if (ref === "#" || refs.includes(ref))
    throw new UnstructurableSchemaError(path, `recursive reference ${ref}`);
  const match = /^#\/(?:definitions|\$defs|components\/schemas)\/(.+)$/.exec(ref);
  const target = match ? definitions[decodeURIComponent(match[1] as string)] : undefined;
  if (!isRecord(target)) throw new UnstructurableSchemaError(path, `unresolvable reference ${ref}`);
  // Keys beside $ref (a description from .meta()) override the referenced schema's.
  const { $ref: _, ...siblings } = node;
  return { ...target, ...siblings };
}

// `anyOf: [X, {type: "null"}]` (or `{nullable: true}`) means X that may be null.
function mergeNullUnion(node: SchemaNode, path: string): SchemaNode {
  const union = node.anyOf ?? node.oneOf;
  if (!Array.isArray(union)) return node;
  const isNull = (s: unknown) =>
    isRecord(s) && (s.type === "null" || (s.nullable === true && Object.keys(s).length === 1));
  const rest = union.filter((s) => !isNull(s));
  if (rest.length !== 1 || rest.length === union.length) return node;
  const { anyOf: _a, oneOf: _o, ...siblings } = node;
  return { ...asSchema(rest[0], path), ...siblings, nullable: true };
}

function checkType(out: SchemaNode, path: string): void {
  if (out.type === undefined) {
    if (out["x-kubernetes-preserve-unknown-fields"] === true || out["x-kubernetes-int-or-string"] === true)
      return;
    throw new UnstructurableSchemaError(
      path,
      "a node without a type (z.any/z.unknown) needs x-kubernetes-preserve-unknown-fields",
    );
  }
  if (typeof out.type !== "string" || !TYPES.has(out.type)) {
    throw new UnstructurableSchemaError(path, `type ${JSON.stringify(out.type)} is not one structural type`);
  }
}

function dropSafeIntegerBounds(out: SchemaNode): void {
  if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
}

function isRecord(value: unknown): value is SchemaNode {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown): SchemaNode | undefined {
  return isRecord(value) ? value : undefined;
}

function asSchema(value: unknown, path: string): SchemaNode {
  if (!isRecord(value)) throw new UnstructurableSchemaError(path, "a schema must be an object");
  return value;
}
