// The zod → structural schema rewriter: what it keeps, what it rewrites, and what it refuses.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type SchemaNode, toStructural, UnstructurableSchemaError } from "../../crds/structural.ts";

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { target: "openapi-3.0", io: "input" }) as unknown as SchemaNode;

const Shared = z.object({ x: z.string() }).meta({ id: "Shared", description: "a shared block" });

const rewrites: { name: string; schema: z.ZodType; expected: SchemaNode }[] = [
  {
    name: "drops additionalProperties: false of a strict object",
    schema: z.object({ a: z.string() }).strict(),
    expected: { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
  },
  {
    name: "drops the empty properties of an empty object, which the API server would not store",
    schema: z.object({ marker: z.object({}).strict().optional() }).strict(),
    expected: { type: "object", properties: { marker: { type: "object" } } },
  },
  {
    name: "keeps bounds, pattern and description",
    schema: z.string().min(1).max(9).regex(/^a+$/).meta({ description: "As." }),
    expected: { type: "string", minLength: 1, maxLength: 9, pattern: "^a+$", description: "As." },
  },
  {
    name: "keeps enum and default",
    schema: z.enum(["Delete", "Orphan"]).default("Delete"),
    expected: { type: "string", enum: ["Delete", "Orphan"], default: "Delete" },
  },
  {
    name: "keeps format",
    schema: z.string().meta({ format: "date-time" }),
    expected: { type: "string", format: "date-time" },
  },
  {
    name: "drops zod's safe-integer bounds but keeps real ones",
    schema: z.object({ any: z.number().int(), pinned: z.number().int().min(1) }),
    expected: {
      type: "object",
      properties: { any: { type: "integer" }, pinned: { type: "integer", minimum: 1 } },
      required: ["any", "pinned"],
    },
  },
  {
    name: "keeps x-kubernetes-* keys from .meta()",
    schema: z
      .string()
      .meta({ "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "immutable" }] }),
    expected: {
      type: "string",
      "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "immutable" }],
    },
  },
  {
    name: "keeps list-map keys of arrays",
    schema: z
      .array(z.object({ type: z.string() }))
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }),
    expected: {
      type: "array",
      items: { type: "object", properties: { type: { type: "string" } }, required: ["type"] },
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
    },
  },
  {
    name: "marks a nullable field nullable",
    schema: z.object({ a: z.string().nullable().optional() }),
    expected: { type: "object", properties: { a: { type: "string", nullable: true } } },
  },
  {
    name: "inlines $ref to definitions, keeping the referenced description",
    schema: z.object({ a: Shared, b: Shared }),
    expected: {
      type: "object",
      properties: {
        a: {
          type: "object",
          properties: { x: { type: "string" } },
          required: ["x"],
          description: "a shared block",
        },
        b: {
          type: "object",
          properties: { x: { type: "string" } },
          required: ["x"],
          description: "a shared block",
        },
      },
      required: ["a", "b"],
    },
  },
  {
    name: "turns a literal into a one-value enum",
    schema: z.literal("v1"),
    expected: { type: "string", enum: ["v1"] },
  },
  {
    name: "keeps a typed map (record) as additionalProperties",
    schema: z.record(z.string(), z.number().int().min(0)),
    expected: { type: "object", additionalProperties: { type: "integer", minimum: 0 } },
  },
  {
    name: "turns a passthrough object into preserve-unknown-fields",
    schema: z.object({ a: z.string() }).passthrough(),
    expected: {
      type: "object",
      properties: { a: { type: "string" } },
      required: ["a"],
      "x-kubernetes-preserve-unknown-fields": true,
    },
  },
  {
    name: "accepts an untyped node that preserves unknown fields",
    schema: z.unknown().meta({ "x-kubernetes-preserve-unknown-fields": true }),
    expected: { "x-kubernetes-preserve-unknown-fields": true },
  },
  {
    name: "rewrites nested arrays of objects with defaults",
    schema: z.object({ list: z.array(z.object({ n: z.number().int().default(1) }).strict()).default([]) }),
    expected: {
      type: "object",
      properties: {
        list: {
          type: "array",
          default: [],
          items: { type: "object", properties: { n: { type: "integer", default: 1 } } },
        },
      },
    },
  },
];

describe("toStructural rewrites zod's OpenAPI 3.0 output", () => {
  it.each(rewrites)("$name", ({ schema, expected }) => {
    expect(toStructural(jsonSchema(schema))).toEqual(expected);
  });

  it("rewrites hand-written null unions and $defs the same way", () => {
    const input: SchemaNode = {
      type: "object",
      properties: { a: { anyOf: [{ $ref: "#/$defs/A" }, { type: "null" }], description: "maybe A" } },
      $defs: { A: { type: "string", maxLength: 3 } },
    };
    expect(toStructural(input)).toEqual({
      type: "object",
      properties: { a: { type: "string", maxLength: 3, description: "maybe A", nullable: true } },
    });
  });

  it("does not mutate its input", () => {
    const input = jsonSchema(z.object({ a: z.string() }).strict());
    const copy = structuredClone(input);
    toStructural(input);
    expect(input).toEqual(copy);
  });
});

const Tree: z.ZodType = z.lazy(() => z.object({ children: z.array(Tree) }));

const refusals: { name: string; input: SchemaNode; path: string; reason: RegExp }[] = [
  {
    name: "a union of two types",
    input: jsonSchema(z.object({ a: z.union([z.string(), z.number()]) })),
    path: ".a",
    reason: /anyOf/,
  },
  {
    name: "an intersection",
    input: jsonSchema(z.intersection(z.string(), z.string().min(2))),
    path: "<root>",
    reason: /allOf/,
  },
  { name: "a tuple", input: jsonSchema(z.tuple([z.string()])), path: "[]", reason: /anyOf/ },
  {
    name: "a hand-written tuple",
    input: { type: "array", items: [{ type: "string" }] },
    path: "<root>",
    reason: /tuple/,
  },
  {
    name: "an untyped node",
    input: jsonSchema(z.object({ a: z.any() })),
    path: ".a",
    reason: /without a type/,
  },
  { name: "a recursive schema", input: jsonSchema(Tree), path: ".children[]", reason: /recursive/ },
  {
    name: "a dangling reference",
    input: { $ref: "#/definitions/Nope" },
    path: "<root>",
    reason: /unresolvable/,
  },
  {
    name: "a type list",
    input: { type: ["string", "null"] },
    path: "<root>",
    reason: /not one structural type/,
  },
  { name: "a not", input: { type: "string", not: { enum: ["x"] } }, path: "<root>", reason: /not cannot/ },
  {
    name: "an unknown keyword",
    input: { type: "string", examples: ["x"] },
    path: "<root>",
    reason: /unsupported keyword examples/,
  },
  {
    name: "an unknown x-kubernetes extension",
    input: { type: "string", "x-kubernetes-frobnicate": true },
    path: "<root>",
    reason: /unknown extension/,
  },
  {
    name: "properties beside a typed additionalProperties",
    input: jsonSchema(z.object({ a: z.string() }).catchall(z.number())),
    path: "<root>",
    reason: /cannot be combined/,
  },
];

describe("toStructural refuses what a CRD cannot express", () => {
  it.each(refusals)("$name", ({ input, path, reason }) => {
    let error: unknown;
    try {
      toStructural(input);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnstructurableSchemaError);
    expect((error as Error).message.startsWith(`${path}:`)).toBe(true);
    expect((error as Error).message).toMatch(reason);
  });
});
