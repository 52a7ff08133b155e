// One Pulumi stack per Azure account: names are readable, valid for Pulumi, stable, case-insensitive
// like Azure, and distinct for distinct accounts even when their readable parts collide.
import { describe, expect, it } from "vitest";
import { stackNameFor } from "../../operator/azure/stack-name.ts";

const VALID = /^[A-Za-z0-9_.-]{1,100}$/;

describe("stackNameFor", () => {
  it("reads as <resource-group>.<account>-<hash>", () => {
    expect(stackNameFor({ resourceGroupName: "rg-llm", accountName: "acme-openai" })).toMatch(
      /^rg-llm\.acme-openai-[0-9a-f]{8}$/,
    );
  });

  it("is stable and ignores case, as Azure does", () => {
    const a = stackNameFor({ resourceGroupName: "RG-LLM", accountName: "Acme-OpenAI" });
    expect(a).toBe(stackNameFor({ resourceGroupName: "rg-llm", accountName: "acme-openai" }));
  });

  it("keeps accounts of different subscriptions or groups apart", () => {
    const names = new Set([
      stackNameFor({ resourceGroupName: "rg", accountName: "acct" }),
      stackNameFor({ resourceGroupName: "rg", accountName: "acct", subscriptionId: "sub-a" }),
      stackNameFor({ resourceGroupName: "rg", accountName: "acct", subscriptionId: "sub-b" }),
      stackNameFor({ resourceGroupName: "rg2", accountName: "acct" }),
      // These two sanitise to the same readable part.
      stackNameFor({ resourceGroupName: "rg(1)", accountName: "acct" }),
      stackNameFor({ resourceGroupName: "rg-1-", accountName: "acct" }),
    ]);
    expect(names.size).toBe(6);
  });

  it("stays a valid Pulumi stack name for the longest Azure names", () => {
    const name = stackNameFor({ resourceGroupName: `(${"g".repeat(88)})`, accountName: "a".repeat(64) });
    expect(name).toMatch(VALID);
    expect(name.length).toBeLessThanOrEqual(100);
  });
});
