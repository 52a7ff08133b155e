// A deleting Organization waits for its connections and releases its token Secret only when no one needs it.
import { describe, expect, it } from "vitest";
import type { Organization } from "../../crds/index.ts";
import { organizationTeardown } from "../../operator/organization/teardown.ts";

const org = (
  name: string,
  options: { secret?: string; deleting?: boolean; release?: boolean } = {},
): Organization =>
  ({
    apiVersion: "modelkeys.dev/v1alpha1",
    kind: "Organization",
    metadata: {
      name,
      namespace: "ns",
      ...(options.deleting ? { deletionTimestamp: "2026-11-20T10:00:00Z" } : {}),
      ...(options.release ? { annotations: { "modelkeys.dev/release": "true" } } : {}),
    },
    spec: { url: "https://ls", tokenSecretRef: { name: options.secret ?? `${name}-token`, key: "token" } },
  }) as Organization;

describe("organizationTeardown", () => {
  it("waits for the connections that reference it, naming them sorted and the release annotation", () => {
    const step = organizationTeardown(
      org("acme", { deleting: true }),
      [
        { name: "b", organization: "acme" },
        { name: "a", organization: "acme" },
        { name: "x", organization: "other" },
      ],
      [],
    );
    expect(step).toEqual({
      kind: "Wait",
      connections: ["a", "b"],
      message: expect.stringMatching(
        /^waiting for 2 ProviderConnection\(s\) .*: a, b; .*modelkeys\.dev\/release=true$/,
      ),
    });
  });

  it("finishes, releasing its token, once no connection references it", () => {
    const step = organizationTeardown(
      org("acme", { deleting: true }),
      [{ name: "x", organization: "other" }],
      [],
    );
    expect(step).toEqual({ kind: "Finish", releaseToken: true });
  });

  it("stops waiting when released by annotation", () => {
    const step = organizationTeardown(
      org("acme", { deleting: true, release: true }),
      [{ name: "a", organization: "acme" }],
      [],
    );
    expect(step.kind).toBe("Finish");
  });

  it.each([
    ["a live Organization uses the same Secret", org("beta", { secret: "shared" }), [], false],
    [
      "a deleting one still waits for its own connections",
      org("beta", { secret: "shared", deleting: true }),
      [{ name: "c", organization: "beta" }],
      false,
    ],
    ["a deleting one is done as well", org("beta", { secret: "shared", deleting: true }), [], true],
    ["another Organization uses another Secret", org("beta"), [], true],
  ] as const)("keeps or releases the token Secret when %s", (_case, other, connections, release) => {
    const step = organizationTeardown(org("acme", { secret: "shared", deleting: true }), connections, [
      org("acme", { secret: "shared", deleting: true }),
      other,
    ]);
    expect(step).toEqual({ kind: "Finish", releaseToken: release });
  });
});
