// Azure credentials for provisioning: a service principal Secret or workload identity, and messages that
// name the missing key or variable, never a value.
import { describe, expect, it } from "vitest";
import { servicePrincipalFrom, workloadIdentityFrom } from "../../operator/azure/credentials.ts";

const SECRET = "sp-secret-canary-7Hq2";
const sp = { clientId: "cid", clientSecret: SECRET, tenantId: "tid", subscriptionId: "sub-secret" };

describe("a service principal Secret", () => {
  const cases: [string, Record<string, string> | undefined, string | undefined, unknown][] = [
    ["complete", sp, undefined, { kind: "Ready", credentials: { kind: "ServicePrincipal", ...sp } }],
    [
      "the account's subscription wins",
      sp,
      "sub-account",
      { kind: "Ready", credentials: { kind: "ServicePrincipal", ...sp, subscriptionId: "sub-account" } },
    ],
    [
      "no subscription in the Secret, but on the account",
      { ...sp, subscriptionId: "" },
      "sub-account",
      { kind: "Ready", credentials: { kind: "ServicePrincipal", ...sp, subscriptionId: "sub-account" } },
    ],
    [
      "missing",
      undefined,
      undefined,
      { kind: "Missing", message: "Azure credentials Secret azure-sp not found" },
    ],
    [
      "keys missing or blank",
      { clientId: "cid", clientSecret: "  " },
      undefined,
      {
        kind: "Missing",
        message: "Azure credentials Secret azure-sp has no clientSecret, tenantId, subscriptionId",
      },
    ],
    [
      "a trailing newline is trimmed",
      { ...sp, clientSecret: `${SECRET}\n` },
      undefined,
      { kind: "Ready", credentials: { kind: "ServicePrincipal", ...sp } },
    ],
    [
      "a control character in the client secret",
      { ...sp, clientSecret: `${SECRET}\u0000` },
      undefined,
      {
        kind: "Missing",
        message:
          "Azure credentials Secret azure-sp key clientSecret has a control character (0x00) at position 22",
      },
    ],
  ];
  it.each(cases)("%s", (_label, data, subscription, expected) => {
    const result = servicePrincipalFrom("azure-sp", data, subscription);
    expect(result).toEqual(expected);
    if (result.kind === "Missing") expect(result.message).not.toContain(SECRET);
  });
});

describe("workload identity", () => {
  const env = {
    AZURE_CLIENT_ID: "wi-client",
    AZURE_TENANT_ID: "wi-tenant",
    AZURE_FEDERATED_TOKEN_FILE: "/var/run/secrets/azure/tokens/azure-identity-token",
    AZURE_SUBSCRIPTION_ID: "wi-sub",
  };
  const cases: [string, Record<string, string | undefined>, string | undefined, unknown][] = [
    [
      "the webhook's variables",
      env,
      undefined,
      {
        kind: "Ready",
        credentials: {
          kind: "WorkloadIdentity",
          clientId: "wi-client",
          tenantId: "wi-tenant",
          subscriptionId: "wi-sub",
          tokenFilePath: env.AZURE_FEDERATED_TOKEN_FILE,
        },
      },
    ],
    [
      "the account's subscription wins",
      env,
      "sub-account",
      { kind: "Ready", credentials: expect.objectContaining({ subscriptionId: "sub-account" }) },
    ],
    [
      "no identity",
      { AZURE_CLIENT_ID: "wi-client" },
      "sub",
      {
        kind: "Missing",
        message: expect.stringMatching(
          /names no spec\.credentials\.servicePrincipal .*AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE unset/,
        ),
      },
    ],
    [
      "no subscription anywhere",
      { ...env, AZURE_SUBSCRIPTION_ID: undefined },
      undefined,
      {
        kind: "Missing",
        message: expect.stringMatching(/no Azure subscription: set the account's spec\.subscriptionId/),
      },
    ],
  ];
  it.each(cases)("%s", (_label, vars, subscription, expected) => {
    expect(workloadIdentityFrom(vars, subscription)).toEqual(expected);
  });
});
