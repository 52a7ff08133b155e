// Hostile inputs, tried as an attacker (or a careless newcomer) would: manifests, Secret values, endpoints,
// Organization URLs and durations. Each ends as an API-server rejection naming the field, or a terminal
// condition naming the cause; none crashes the operator, loops, sends a refused endpoint or an invalid key
// anywhere, or stops another connection from syncing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { ModelCheckRequest } from "../../operator/providers/types.ts";
import { expectNoLeaks } from "../support/canary.ts";
import { testCluster } from "../support/cluster.ts";
import { startTestOperator, type TestOperator } from "../support/operator.ts";
import { waitFor } from "../support/wait.ts";
import {
  type AppWithOwner,
  createConnection,
  createOrganization,
  eventsFor,
  getConnection,
  putSecret,
  startAppWithOwner,
  waitForCondition,
  waitForOrganizationCondition,
} from "../support/world.ts";

const GOOD_KEY = "canary-hostile-good-key-3f9a1c";
const ROTATED_KEY = "canary-hostile-rotated-key-7b20e4";
const TRIMMED_KEY = "canary-hostile-trimmed-key-c41d08";
const SAFE_ENDPOINT = "http://models.internal:8000/v1";

let world: AppWithOwner;
let operator: TestOperator;
let namespace: string;
/** The connections whose provider check ran (a hostile one must never get there). */
const checked: ModelCheckRequest[] = [];

// The model name is the connection's own, so that a model check says which connection asked for it.
const customSpec = (endpoint: string, secret: string, model: string, organization = "acme") => ({
  organizationRef: { name: organization },
  provider: "Custom",
  custom: { name: model, endpoint, apiKeySecretRef: { name: secret, key: "api-key" } },
});

// --- 1. Manifests the API server refuses, each naming the field at fault. ---

type Manifest = { kind: string; metadata: { name: string }; spec: Record<string, unknown> };
const connectionManifest = (spec: Record<string, unknown>): Manifest => ({
  kind: "ProviderConnection",
  metadata: { name: "hostile-manifest" },
  spec: { ...customSpec(SAFE_ENDPOINT, "good", "llama3.1"), ...spec },
});
const organizationManifest = (url: string): Manifest => ({
  kind: "Organization",
  metadata: { name: "hostile-organization" },
  spec: { url, tokenSecretRef: { name: "acme-token", key: "token" } },
});

const REJECTED: { name: string; manifest: Manifest; field: string; says: RegExp }[] = [
  ...["0s", "1ms", "500ms", "59s", "0.5m"].map((interval) => ({
    name: `refreshInterval ${interval}`,
    manifest: connectionManifest({ refreshInterval: interval }),
    field: "spec.refreshInterval",
    says: /refreshInterval must be at least 1m/,
  })),
  ...["1 hour", "-1m", "1d", "P1D", "9".repeat(40)].map((interval) => ({
    name: `refreshInterval ${interval.slice(0, 12)}`,
    manifest: connectionManifest({ refreshInterval: interval }),
    field: "spec.refreshInterval",
    says: /should match|Too long|may not be longer/,
  })),
  ...["file:///etc/passwd", "gopher://169.254.169.254/", "javascript:alert(1)", "http://"].map(
    (endpoint) => ({
      name: `Custom endpoint ${endpoint}`,
      manifest: connectionManifest({ custom: { name: "m", endpoint } }),
      field: "spec.custom.endpoint",
      says: /http or https URL|must be an? /,
    }),
  ),
  {
    name: "an Azure endpoint over plain http",
    manifest: connectionManifest({
      provider: "AzureOpenAI",
      custom: undefined,
      azure: {
        deployment: "d",
        endpoint: "http://acme.openai.azure.com/",
        apiKeySecretRef: { name: "good", key: "api-key" },
      },
    }),
    field: "spec.azure.endpoint",
    says: /must be an https URL/,
  },
  ...["ftp://label-studio.acme/", "not a url", "http://"].map((url) => ({
    name: `Organization url ${url}`,
    manifest: organizationManifest(url),
    field: "spec.url",
    says: /URL/,
  })),
  {
    name: "a Secret name with a path",
    manifest: connectionManifest({
      custom: { name: "m", endpoint: SAFE_ENDPOINT, apiKeySecretRef: { name: "../etc", key: "api-key" } },
    }),
    field: "spec.custom.apiKeySecretRef.name",
    says: /should match/,
  },
  {
    name: "a Secret key with a slash",
    manifest: connectionManifest({
      custom: { name: "m", endpoint: SAFE_ENDPOINT, apiKeySecretRef: { name: "good", key: "a/b" } },
    }),
    field: "spec.custom.apiKeySecretRef.key",
    says: /should match/,
  },
  {
    name: "65 expected models",
    manifest: connectionManifest({ models: Array.from({ length: 65 }, (_, i) => `m${i}`) }),
    field: "spec.models",
    says: /must have at most 64 items|Too many/,
  },
];

// --- 2. Secret values that can never work: terminal InvalidSecretValue naming the Secret and key. ---

const BAD_VALUES: { name: string; value: string; says: RegExp }[] = [
  { name: "nul", value: "canary-hostile-nul-4b1e\u0000x", says: /control character \(0x00\)/ },
  { name: "newline", value: "canary-hostile-nl-9c2f\nsecond-line", says: /control character \(0x0a\)/ },
  { name: "escape", value: "canary-hostile-esc-71aa\u001b[2J", says: /control character \(0x1b\)/ },
  { name: "delete", value: "canary-hostile-del-0e33\u007f", says: /control character \(0x7f\)/ },
  { name: "accent", value: "canary-hostile-accent-5d1é", says: /non-ASCII character/ },
  { name: "zero-width", value: "canary-hostile-zw-62b0\u200bx", says: /non-ASCII character/ },
  { name: "homoglyph", value: "canary-hostile-hg-8a4а", says: /non-ASCII character/ },
  { name: "space", value: "canary-hostile-sp-1f07 x", says: /a space at position/ },
  { name: "blank", value: " \n\t ", says: /holds only whitespace/ },
  { name: "huge", value: `canary-hostile-big-2c9e-${"x".repeat(900_000)}`, says: /may have at most 1024/ },
];

const keyFile = (fields: Record<string, unknown>) =>
  JSON.stringify({
    type: "service_account",
    project_id: "acme-ml",
    private_key_id: "canary-hostile-kid-6e2b",
    private_key: "-----BEGIN PRIVATE KEY-----\nREPLACE-WITH-PRIVATE-KEY\n-----END PRIVATE KEY-----\n",
    client_email: "sa@acme-ml.iam.gserviceaccount.com",
    ...fields,
  });
const BAD_KEY_FILES: { name: string; value: string; says: RegExp }[] = [
  { name: "vertex-not-json", value: "{canary-hostile-json-5a1c", says: /is not JSON/ },
  {
    name: "vertex-type",
    value: keyFile({ type: "authorized_user" }),
    says: /type must be "service_account"/,
  },
  { name: "vertex-email", value: keyFile({ client_email: "nobody" }), says: /client_email is not an email/ },
  { name: "vertex-placeholder", value: keyFile({}), says: /private_key is not a PEM private key/ },
];

// --- 3. Endpoints the egress guard refuses, in many spellings: never checked, never written to the app. ---

const REFUSED_ENDPOINTS: { name: string; spec: Record<string, unknown>; says: RegExp }[] = [
  ...[
    ["imds", "http://169.254.169.254/v1"],
    ["imds-v6", "http://[fd00:ec2::254]/v1"],
    ["imds-hex", "http://0xA9FEA9FE/v1"],
    ["imds-decimal", "http://2852039166/v1"],
    ["imds-octal", "http://0251.0376.0251.0376/v1"],
    ["imds-mapped", "http://[::ffff:169.254.169.254]/v1"],
    ["imds-nat64", "http://[64:ff9b::a9fe:a9fe]/v1"],
    ["imds-6to4", "http://[2002:a9fe:a9fe::1]/v1"],
    ["alibaba", "http://100.100.100.200/v1"],
    ["link-local", "http://169.254.1.1:8080/v1"],
    ["link-local-v6", "http://[fe80::1]/v1"],
  ].map(([name, endpoint]) => ({
    name: `egress-${name}`,
    spec: customSpec(endpoint as string, "good", `egress-${name}`),
    says: /spec\.custom\.endpoint is refused by the egress guard/,
  })),
  {
    name: "egress-azure",
    spec: {
      organizationRef: { name: "acme" },
      provider: "AzureOpenAI",
      azure: {
        deployment: "d",
        endpoint: "https://169.254.169.254/",
        apiKeySecretRef: { name: "good", key: "api-key" },
      },
    },
    says: /spec\.azure\.endpoint is refused by the egress guard/,
  },
  {
    name: "egress-foundry",
    spec: {
      organizationRef: { name: "acme" },
      provider: "AzureAIFoundry",
      azureAIFoundry: {
        deployment: "d",
        endpoint: "https://[::ffff:a9fe:a9fe]/",
        apiKeySecretRef: { name: "good", key: "api-key" },
      },
    },
    says: /spec\.azureAIFoundry\.endpoint is refused by the egress guard/,
  },
];

// --- 4. Organizations: URLs at metadata addresses (the token must never go there) and bad tokens. ---

const BAD_ORGANIZATIONS: { name: string; url?: string; token?: string; reason: string; says: RegExp }[] = [
  ...[
    ["org-imds", "http://169.254.169.254/"],
    ["org-imds-v6", "http://[fd00:ec2::254]/"],
    ["org-imds-hex", "http://0xa9fea9fe/"],
    ["org-imds-mapped", "http://[::ffff:a9fe:a9fe]/"],
    ["org-link-local", "http://169.254.10.10:8080/"],
  ].map(([name, url]) => ({
    name: name as string,
    url: url as string,
    reason: "EgressDenied",
    says: /spec\.url is refused by the egress guard, no request was sent/,
  })),
  {
    name: "org-token-newline",
    token: "canary-hostile-tok-nl-3e8d\nx",
    reason: "InvalidSecretValue",
    says: /Secret org-token-newline-token key token has a control character/,
  },
  {
    name: "org-token-accent",
    token: "canary-hostile-tok-é-91fb",
    reason: "InvalidSecretValue",
    says: /Secret org-token-accent-token key token has a non-ASCII character/,
  },
];

const terminalConnections = [
  ...BAD_VALUES.map((c) => c.name),
  ...BAD_KEY_FILES.map((c) => c.name),
  ...REFUSED_ENDPOINTS.map((c) => c.name),
  ...BAD_ORGANIZATIONS.map((c) => `${c.name}-connection`),
];

it("has at least 40 hostile inputs", () => {
  expect(REJECTED.length + terminalConnections.length).toBeGreaterThanOrEqual(40);
});

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("hostile");
  world = await startAppWithOwner();
  await createOrganization(namespace, "acme", world.app.url, world.token);
  await putSecret(namespace, "good", { "api-key": GOOD_KEY });
  operator = await startTestOperator({
    namespace,
    flags: ["--resync-interval=2s"],
    checkModels: async (request) => {
      checked.push(request);
      return {
        outcome: "Valid",
        message: "checked",
        models: [{ name: request.name ?? "llama3.1", available: true }],
        openAICompatible: true,
        jsonMode: true,
      };
    },
  });

  for (const { name, value } of BAD_VALUES) {
    await putSecret(namespace, name, { "api-key": value });
    await createConnection(namespace, name, customSpec(SAFE_ENDPOINT, name, name));
  }
  for (const { name, value } of BAD_KEY_FILES) {
    await putSecret(namespace, name, { "credentials.json": value });
    await createConnection(namespace, name, {
      organizationRef: { name: "acme" },
      provider: "VertexAI",
      vertexAI: { credentialsSecretRef: { name, key: "credentials.json" } },
    });
  }
  for (const { name, spec } of REFUSED_ENDPOINTS) await createConnection(namespace, name, spec);
  for (const { name, url, token } of BAD_ORGANIZATIONS) {
    await createOrganization(namespace, name, url ?? world.app.url, token ?? world.token);
    await createConnection(
      namespace,
      `${name}-connection`,
      customSpec(SAFE_ENDPOINT, "good", `${name}-connection`, name),
    );
  }
  // A key with the trailing newline `kubectl create secret --from-file` of an echoed file gives: not hostile,
  // just careless; it is trimmed.
  await putSecret(namespace, "trimmed", { "api-key": `  ${TRIMMED_KEY}\n` });
  await createConnection(
    namespace,
    "trimmed",
    customSpec("http://trimmed.internal/v1", "trimmed", "trimmed"),
  );
  // Created last: a healthy connection syncs while all of the above sit in their terminal conditions.
  await createConnection(namespace, "control", customSpec("http://control.internal/v1", "good", "control"));
}, 120_000);

afterAll(async () => {
  try {
    if (operator) {
      await expectNoLeaks({
        namespace,
        operator,
        secrets: [
          GOOD_KEY,
          ROTATED_KEY,
          TRIMMED_KEY,
          world.token,
          ...BAD_VALUES.filter((c) => c.name !== "blank").map((c) => c.value),
          ...BAD_KEY_FILES.map((c) => c.value),
          ...BAD_ORGANIZATIONS.flatMap((c) => (c.token ? [c.token] : [])),
        ],
      });
    }
  } finally {
    await operator?.stop();
    await world?.app.stop();
  }
});

describe("manifests the API server refuses", () => {
  it.each(REJECTED)("$name: rejected, naming $field", async ({ manifest, field, says }) => {
    const body = {
      apiVersion: "modelkeys.dev/v1alpha1",
      ...manifest,
      metadata: { ...manifest.metadata, namespace },
    };
    const result = await testCluster().kubectl(["apply", "--dry-run=server", "-f", "-"], {
      input: stringify(body),
    });
    const output = `${result.stdout}${result.stderr}`;
    expect(result.code, output).not.toBe(0);
    expect(output).toContain(field);
    expect(output).toMatch(says);
  });
});

describe("inputs that end in a terminal condition", () => {
  it.each(BAD_VALUES.map((c) => ({ ...c, key: "api-key" })))(
    "Secret value $name: InvalidSecretValue naming the Secret and key",
    async ({ name, key, says }) => {
      const c = await waitForCondition(namespace, name, "Ready", "False", "InvalidSecretValue");
      const ready = c.status?.conditions?.find((x) => x.type === "Ready");
      expect(ready?.message).toContain(`Secret ${name} key ${key}`);
      expect(ready?.message).toMatch(says);
      expect(c.status?.conditions?.find((x) => x.type === "AppSynced")?.status).toBe("False");
    },
  );

  it.each(BAD_KEY_FILES)("service-account file $name: InvalidSecretValue", async ({ name, says }) => {
    const c = await waitForCondition(namespace, name, "Ready", "False", "InvalidSecretValue");
    const ready = c.status?.conditions?.find((x) => x.type === "Ready");
    expect(ready?.message).toContain(`Secret ${name} key credentials.json`);
    expect(ready?.message).toMatch(says);
  });

  it.each(REFUSED_ENDPOINTS)("endpoint $name: EgressDenied, AppSynced False", async ({ name, says }) => {
    const c = await waitForCondition(namespace, name, "Ready", "False", "EgressDenied");
    expect(c.status?.conditions?.find((x) => x.type === "Ready")?.message).toMatch(says);
    expect(c.status?.conditions?.find((x) => x.type === "AppSynced")).toMatchObject({
      status: "False",
      reason: "EgressDenied",
    });
  });

  it.each(BAD_ORGANIZATIONS)(
    "Organization $name: $reason, and so is its connection",
    async ({ name, reason, says }) => {
      const o = await waitForOrganizationCondition(namespace, name, "Ready", "False", reason);
      expect(o.status?.conditions?.find((x) => x.type === "Ready")?.message).toMatch(says);
      await waitForCondition(namespace, `${name}-connection`, "Ready", "False", reason);
    },
  );
});

describe("what the hostile inputs did not do", () => {
  it("a careless trailing newline is trimmed before the key reaches the app", async () => {
    const c = await waitForCondition(namespace, "trimmed", "Ready", "True");
    const record = world.app.state.listConnections().find((r) => r.id === c.status?.appConnectionId);
    expect(record?.secrets.api_key).toBe(TRIMMED_KEY);
  });

  it("another connection syncs, and rotates, while they sit in their conditions", async () => {
    const c = await waitForCondition(namespace, "control", "Ready", "True");
    await putSecret(namespace, "good", { "api-key": ROTATED_KEY });
    await waitFor(
      () =>
        world.app.state.listConnections().find((r) => r.id === c.status?.appConnectionId)?.secrets.api_key ===
        ROTATED_KEY,
      { description: "the rotated key in the app", timeoutMs: 30_000 },
    );
  });

  it("nothing refused or invalid was checked, written to the app, or retried in a loop", async () => {
    // Several resyncs (every 2 s) after everything settled.
    // Each resync lists the organization's records in the app once.
    const reads = () =>
      world.app.state.requests.filter(
        (r) => r.method === "GET" && r.path === "/api/model-provider-connections/",
      ).length;
    const before = reads();
    await waitFor(() => reads() >= before + 3, { description: "three more resyncs", timeoutMs: 30_000 });

    // A check names its connection by the Custom model name; a refused endpoint or a bad key file by itself.
    const refusedEndpoints = REFUSED_ENDPOINTS.map(
      ({ spec }) => JSON.stringify(spec).match(/"endpoint":"([^"]+)"/)?.[1],
    );
    expect(checked.filter(({ name }) => name !== undefined && terminalConnections.includes(name))).toEqual(
      [],
    );
    expect(checked.filter(({ endpoint }) => refusedEndpoints.includes(endpoint))).toEqual([]);
    const badKeyFiles = BAD_KEY_FILES.map(({ value }) => value.trim());
    expect(
      checked.filter(({ credentials }) => badKeyFiles.includes(credentials.credentialsJson ?? "")),
    ).toEqual([]);
    const bodies = world.app.state.requests.map((r) => JSON.stringify(r.body ?? ""));
    for (const { value } of [...BAD_VALUES, ...BAD_KEY_FILES]) {
      const probe = value.trim().slice(0, 20);
      if (probe.length < 8) continue; // the blank value: nothing to look for
      expect(bodies.some((b) => b.includes(JSON.stringify(probe).slice(1, -1)))).toBe(false);
    }
    const endpoints = world.app.state.listConnections().map((r) => r.endpoint);
    expect(
      endpoints.every(
        (e) =>
          e === SAFE_ENDPOINT || e === "http://trimmed.internal/v1" || e === "http://control.internal/v1",
      ),
    ).toBe(true);

    for (const name of terminalConnections) {
      const c = await getConnection(namespace, name);
      expect(c?.status?.appConnectionId, name).toBeUndefined();
      const reason = c?.status?.conditions?.find((x) => x.type === "Ready")?.reason;
      const warnings = (await eventsFor(namespace, name)).filter((e) => e.startsWith(`Warning ${reason}:`));
      expect(warnings, `${name}: one Warning, not one per resync`).toHaveLength(1);
    }
  });
});
