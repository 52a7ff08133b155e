// The package builder's rules: build order follows our own dependencies, and the published declaration
// files name their siblings the way the JavaScript does (./x.js).
import { describe, expect, it } from "vitest";
import { packageDirs, rewriteDeclarationSpecifiers } from "../../packages/build.ts";

describe("packageDirs", () => {
  it("builds the API before the packages that depend on it", () => {
    const dirs = packageDirs();
    expect(dirs).toEqual(expect.arrayContaining(["api", "cdk8s", "pulumi"]));
    expect(dirs.indexOf("api")).toBeLessThan(dirs.indexOf("cdk8s"));
  });
});

describe("rewriteDeclarationSpecifiers", () => {
  it.each([
    ['export * from "./common.ts";', 'export * from "./common.js";'],
    [
      'import { type A } from "../imports/modelkeys.dev.ts";',
      'import { type A } from "../imports/modelkeys.dev.js";',
    ],
    [
      'export * as imports from "./imports/modelkeys.dev.ts";',
      'export * as imports from "./imports/modelkeys.dev.js";',
    ],
    ["type T = import('./args.ts').Args;", "type T = import('./args.js').Args;"],
  ])("rewrites %s", (source, expected) => {
    expect(rewriteDeclarationSpecifiers(source)).toBe(expected);
  });

  it.each([
    'import * as pulumi from "@pulumi/pulumi";',
    'import { z } from "zod";',
    'import { x } from "some-package/file.ts";',
    'const note = "see ./notes.ts";',
  ])("leaves %s alone", (source) => {
    expect(rewriteDeclarationSpecifiers(source)).toBe(source);
  });
});
