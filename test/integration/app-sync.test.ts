// Each of the seven providers: create, update and delete send exactly the documented request fields and scope.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServiceAccountKey } from "../../local/providers/index.ts";
import { expectNoLeaks } from "../support/canary.ts";
import { testCluster } from "../support/cluster.ts";
import { answersValid, startTestOperator, type TestOperator } from "../support/operator.ts";
import { waitFor } from "../support/wait.ts";
import type { AppWithOwner } from "../support/world.ts";
import {
  createConnection,
  createOrganization,
  deleteConnection,
  getConnection,
  putSecret,
  startAppWithOwner,
  waitForCondition,
} from "../support/world.ts";

const KEY = "canary-key-7f3a91";
/** A real service-account key file (the operator refuses one whose private_key is not a PEM key). */
const KEY_FILE = createServiceAccountKey({
  projectId: "proj-a",
  tokenUri: "https://oauth2.googleapis.com/token",
}).json;

interface Case {
  provider: string;
  spec: Record<string, unknown>;
  secret: Record<string, string>;
  /** Exactly the fields a create sends (secrets included). */
  created: Record<string, unknown>;
  /** A spec change and the fields its PATCH sends. */
  change?: { spec: Record<string, unknown>; patched: Record<string, unknown> };
  /** The write-only field the rotated secret lands in. */
  secretField: string;
}

const ref = (key = "value") => ({ name: "cred", key });
const CASES: Case[] = [
  {
    provider: "OpenAI",
    spec: { openAI: { apiKeySecretRef: ref() } },
    secret: { value: KEY },
    created: {
      provider: "OpenAI",
      scope: "Organization",
      api_key: KEY,
      deployment_name: null,
      endpoint: null,
      google_project_id: null,
      google_location: null,
    },
    secretField: "api_key",
  },
  {
    provider: "Gemini",
    spec: { gemini: { apiKeySecretRef: ref() } },
    secret: { value: KEY },
    created: {
      provider: "Gemini",
      scope: "Organization",
      api_key: KEY,
      deployment_name: null,
      endpoint: null,
      google_project_id: null,
      google_location: null,
    },
    secretField: "api_key",
  },
  {
    provider: "Anthropic",
    spec: { anthropic: { apiKeySecretRef: ref() } },
    secret: { value: KEY },
    created: {
      provider: "Anthropic",
      scope: "Organization",
      api_key: KEY,
      deployment_name: null,
      endpoint: null,
      google_project_id: null,
      google_location: null,
    },
    secretField: "api_key",
  },
  {
    provider: "VertexAI",
    spec: { vertexAI: { credentialsSecretRef: ref(), projectId: "proj-a", location: "europe-west4" } },
    secret: { value: KEY_FILE },
    created: {
      provider: "VertexAI",
      scope: "Organization",
      google_application_credentials: KEY_FILE,
      deployment_name: null,
      endpoint: null,
      google_project_id: "proj-a",
      google_location: "europe-west4",
    },
    change: {
      spec: { vertexAI: { credentialsSecretRef: ref(), projectId: "proj-b", location: "europe-west4" } },
      patched: { google_project_id: "proj-b" },
    },
    secretField: "google_application_credentials",
  },
  {
    provider: "AzureOpenAI",
    spec: {
      azure: { deployment: "gpt4o-prod", endpoint: "https://acme.openai.azure.com/", apiKeySecretRef: ref() },
    },
    secret: { value: KEY },
    created: {
      provider: "AzureOpenAI",
      scope: "Model",
      api_key: KEY,
      deployment_name: "gpt4o-prod",
      endpoint: "https://acme.openai.azure.com/",
      google_project_id: null,
      google_location: null,
    },
    change: {
      spec: {
        azure: {
          deployment: "gpt4o-next",
          endpoint: "https://acme.openai.azure.com/",
          apiKeySecretRef: ref(),
        },
      },
      patched: { deployment_name: "gpt4o-next" },
    },
    secretField: "api_key",
  },
  {
    provider: "AzureAIFoundry",
    spec: {
      azureAIFoundry: {
        deployment: "phi-4",
        endpoint: "https://acme.services.ai.azure.com/models",
        apiKeySecretRef: ref(),
      },
    },
    secret: { value: KEY },
    created: {
      provider: "AzureAIFoundry",
      scope: "Model",
      api_key: KEY,
      deployment_name: "phi-4",
      endpoint: "https://acme.services.ai.azure.com/models",
      google_project_id: null,
      google_location: null,
    },
    change: {
      spec: {
        azureAIFoundry: {
          deployment: "phi-4",
          endpoint: "https://acme2.services.ai.azure.com/models",
          apiKeySecretRef: ref(),
        },
      },
      patched: { endpoint: "https://acme2.services.ai.azure.com/models" },
    },
    secretField: "api_key",
  },
  {
    provider: "Custom",
    spec: {
      custom: {
        name: "llama3.1",
        endpoint: "http://ollama.internal:11434/v1",
        apiKeySecretRef: ref(),
        authTokenSecretRef: ref("token"),
      },
    },
    secret: { value: KEY, token: `${KEY}-token` },
    created: {
      provider: "Custom",
      scope: "Model",
      api_key: KEY,
      auth_token: `${KEY}-token`,
      deployment_name: "llama3.1",
      endpoint: "http://ollama.internal:11434/v1",
      google_project_id: null,
      google_location: null,
    },
    change: {
      spec: {
        custom: {
          name: "llama3.2",
          endpoint: "http://ollama.internal:11434/v1",
          apiKeySecretRef: ref(),
          authTokenSecretRef: ref("token"),
        },
      },
      patched: { deployment_name: "llama3.2" },
    },
    secretField: "api_key",
  },
];

let world: AppWithOwner;
let operator: TestOperator;
let namespace: string;

beforeAll(async () => {
  const cluster = testCluster();
  namespace = await cluster.createTestNamespace("app-sync");
  world = await startAppWithOwner();
  await createOrganization(namespace, "acme", world.app.url, world.token);
  // This file is about the app side: the provider check answers at once, with no model.
  operator = await startTestOperator({
    namespace,
    checkModels: answersValid("gpt-4o"),
  });
});

afterAll(async () => {
  try {
    // Every key and credential file this file pushed, and the app token: none may show in logs, events,
    // status or metrics.
    const secrets = CASES.flatMap((c) => Object.values(c.secret));
    if (operator) await expectNoLeaks({ namespace, operator, secrets: [...secrets, world.token] });
  } finally {
    await operator?.stop();
    await world?.app.stop();
  }
});

const connectionRequests = (method: string) =>
  world.app.state.requests.filter(
    (r) => r.method === method && r.path.startsWith("/api/model-provider-connections/"),
  );

describe.each(CASES)("$provider", (c) => {
  const name = c.provider.toLowerCase();
  it("creates the app record with exactly the documented fields and scope", async () => {
    await putSecret(namespace, "cred", c.secret);
    await createConnection(namespace, name, {
      organizationRef: { name: "acme" },
      provider: c.provider,
      ...c.spec,
    });
    const connection = await waitForCondition(namespace, name, "Ready", "True");
    const id = connection.status?.appConnectionId;
    expect(id).toBeTypeOf("number");
    const create = connectionRequests("POST").find(
      (r) => (r.body as { provider?: string }).provider === c.provider,
    );
    // The models the check found travel with the create (the app learns them in cached_available_models).
    expect(create?.body).toEqual({ ...c.created, cached_available_models: "gpt-4o" });
    expect(connection.status?.scope).toBe(c.created.scope);
    expect(connection.status?.credentialFingerprint).toMatch(/^sha256:[0-9a-f]{12}$/);
  });

  it("patches only what changed when the spec changes", async () => {
    if (!c.change) return;
    const before = await getConnection(namespace, name);
    const id = before?.status?.appConnectionId as number;
    world.app.state.clearRequests();
    await testCluster().custom.patchNamespacedCustomObject(
      {
        group: "modelkeys.dev",
        version: "v1alpha1",
        namespace,
        plural: "providerconnections",
        name,
        body: { spec: c.change.spec },
      },
      (await import("@kubernetes/client-node")).setHeaderOptions(
        "Content-Type",
        "application/merge-patch+json",
      ),
    );
    const patch = await waitFor(
      () => connectionRequests("PATCH").find((r) => r.path === `/api/model-provider-connections/${id}/`),
      {
        description: `PATCH of ${c.provider} record`,
      },
    );
    expect(patch.body).toEqual(c.change.patched);
  });

  it("deletes the app record when the connection is deleted", async () => {
    const id = (await getConnection(namespace, name))?.status?.appConnectionId as number;
    await deleteConnection(namespace, name);
    await waitFor(async () => (await getConnection(namespace, name)) === undefined, {
      description: `${name} gone`,
    });
    expect(connectionRequests("DELETE").map((r) => r.path)).toContain(
      `/api/model-provider-connections/${id}/`,
    );
    expect(world.app.state.getConnection(id)).toBeUndefined();
  });
});
