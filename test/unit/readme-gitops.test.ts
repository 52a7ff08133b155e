// The README's GitOps section says what the code does: its reason table is the one in progress.ts, and its Argo CD
// snippet is argocd/health.lua, byte for byte, inside a ConfigMap that parses.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT } from "../../local/controlplane/controlplane.ts";
import { REASON_PROGRESS } from "../../operator/reconcile/progress.ts";

const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("## GitOps"), readme.indexOf("## The API"));

describe("README, GitOps section", () => {
  const rows = new Map(
    section
      .split("\n")
      .map((line) => line.split("|").map((cell) => cell.trim()))
      // The rows of the reason table: a reason in backticks, then the three conditions and the two verdicts.
      .filter((cells) => /^`[A-Za-z]+`$/.test(cells[1] ?? "") && /^(True|False)$/.test(cells[2] ?? ""))
      .map((cells) => [cells[1]?.slice(1, -1), cells.slice(2, 7)] as const),
  );

  it.each(Object.entries(REASON_PROGRESS))(
    "lists %s as %s, with its kstatus and Argo CD verdicts",
    (reason, progress) => {
      const expected = {
        Done: ["True", "False", "False", "Current", "Healthy"],
        Reconciling: ["False", "True", "False", "InProgress", "Progressing"],
        Stalled: ["False", "False", "True", "Failed", "Degraded"],
      }[progress];
      expect(rows.get(reason)).toEqual(expected);
    },
  );

  it("lists no reason the operator does not have", () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(REASON_PROGRESS).sort());
  });

  it("gives argocd/health.lua for both kinds in a resource.customizations snippet that parses", () => {
    const snippet = /```yaml\n(data:\n {2}resource\.customizations[\s\S]*?)```/.exec(section)?.[1] ?? "";
    const data = parse(snippet).data as Record<string, string>;
    const script = readFileSync(join(REPO_ROOT, "argocd", "health.lua"), "utf8");
    expect(data["resource.customizations.health.modelkeys.dev_ProviderConnection"]).toBe(script);
    expect(data["resource.customizations.health.modelkeys.dev_Organization"]).toBe(script);
  });
});
