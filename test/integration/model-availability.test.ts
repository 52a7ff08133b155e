// Which models each connection can really use, per provider × outcome, on the real API server with the
// provider stand-ins: status.models, the conditions, the events and the MODELS printer column.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ModelStatus, Provider, ProviderConnection } from "../../crds/index.ts";
import { APP_ADDRESSES } from "../../labelstudio/app-addresses.ts";
import { type OpenAIBehaviour, startOpenAIStandIn } from "../../local/providers/openai.ts";
import type { Fault, StandIn } from "../../local/providers/stand-in.ts";
import { CONDITION, REASON } from "../../operator/constants.ts";
import { SHIPPED_CATALOGUE, supportedModels } from "../../operator/providers/index.ts";
import { MODEL_REASON } from "../../operator/providers/types.ts";
import {
  carriesKey,
  type ModelCheckWorld,
  modelsColumn,
  startModelCheckWorld,
} from "../support/model-checks.ts";
import { createConnection, eventsFor, putSecret, waitForCondition } from "../support/world.ts";

type Outcome = "valid" | "invalid" | "ratelimited" | "down" | "some" | "restricted" | "nojson";
type Status = "True" | "False" | "Unknown";

/** What a case must end in. */
interface Expected {
  /** Available model names; undefined: no check result yet, so no status.models at all. */
  available: string[] | undefined;
  /** Unavailable models and why (list providers: every supported model not available, computed below). */
  unavailable: Record<string, string>;
  conditions: Partial<Record<string, [Status, string] | null>>;
  /** The one Warning event (reason) the outcome raises, if any. */
  warning?: string;
  /** Words the named condition's message must contain. */
  says?: Partial<Record<string, string>>;
}

interface Case {
  name: string;
  provider: Provider;
  outcome: Outcome;
  spec: Record<string, unknown>;
  secret: string;
  expected: Expected;
}

const LIST_PROVIDERS: Provider[] = ["OpenAI", "Gemini", "Anthropic", "VertexAI"];
const CUSTOM_MODEL = "llama3.1:8b";
const DEPLOYMENT = "chat-4o"; // the stand-in serves gpt-4o-2024-11-20 behind it

/** What the stand-ins' default data reach, per list provider (the us-central1 models for Vertex). */
const REACHED: Record<string, string[]> = {
  OpenAI: ["gpt-4.1", "gpt-4o", "gpt-4o-mini", "o1"],
  Gemini: ["gemini-2.0-flash", "gemini-2.0-flash-lite", "gemini-1.5-flash", "gemini-1.5-pro"],
  Anthropic: ["claude-3-5-haiku-latest", "claude-3-5-sonnet-latest", "claude-3-7-sonnet-latest"],
  VertexAI: [
    "gemini-2.5-pro-preview-03-25",
    "gemini-2.0-flash",
    "gemini-2.0-flash-lite",
    "gemini-1.5-flash",
    "gemini-1.5-pro",
  ],
};
/** Only some: what each provider's "some" case expects (spec.models) and what of it is really there. */
const SOME: Record<Provider, { expected: string[]; missing: string[]; available?: string[] }> = {
  // gpt-5 is supported but not listed for the key; the fine-tune is not supported by the app.
  OpenAI: { expected: ["gpt-4o", "gpt-5", "ft:gpt-4o:acme"], missing: ["gpt-5", "ft:gpt-4o:acme"] },
  Gemini: { expected: ["gemini-1.5-pro", "gemini-1.5-flash-8b"], missing: ["gemini-1.5-flash-8b"] },
  Anthropic: {
    expected: ["claude-3-7-sonnet-latest", "claude-3-opus-latest"],
    missing: ["claude-3-opus-latest"],
  },
  // europe-west4 serves two of the supported models: the others are NotInLocation.
  VertexAI: {
    expected: ["gemini-2.0-flash", "gemini-2.0-flash-lite"],
    missing: ["gemini-2.0-flash-lite"],
    available: ["gemini-2.0-flash", "gemini-1.5-pro"],
  },
  AzureOpenAI: { expected: ["gpt-4o", "gpt-4.1"], missing: ["gpt-4.1"] },
  AzureAIFoundry: { expected: ["gpt-4o", "phi-4"], missing: ["phi-4"] },
  Custom: { expected: [CUSTOM_MODEL, "mistral-large"], missing: ["mistral-large"] },
};

let w: ModelCheckWorld;
let restricted: StandIn<OpenAIBehaviour>;
let plainJson: StandIn<OpenAIBehaviour>;
const cases: Case[] = [];
const ORGANIZATION_OF = (outcome: Outcome) => `org-${outcome}`;

/** The catalogue's models for a list provider plus the expected ones, each with its availability. */
function listExpectation(
  provider: Provider,
  available: string[],
  expected: string[],
): Expected["unavailable"] {
  const supported = supportedModels(SHIPPED_CATALOGUE, provider) ?? [];
  const notReached = provider === "VertexAI" ? MODEL_REASON.NotInLocation : MODEL_REASON.NotListed;
  const unavailable: Record<string, string> = {};
  for (const name of new Set([...supported, ...expected])) {
    if (available.includes(name)) continue;
    unavailable[name] = supported.includes(name) ? notReached : MODEL_REASON.NotSupportedByApp;
  }
  return unavailable;
}

/** The spec block of `provider` for a case, with its Secret named after the connection. */
function block(provider: Provider, outcome: Outcome, name: string, customEndpoint: string) {
  const ref = { name, key: "credential" };
  switch (provider) {
    case "OpenAI":
      return { openAI: { apiKeySecretRef: ref } };
    case "Gemini":
      return { gemini: { apiKeySecretRef: ref } };
    case "Anthropic":
      return { anthropic: { apiKeySecretRef: ref } };
    case "VertexAI":
      return {
        vertexAI: {
          credentialsSecretRef: ref,
          projectId: `proj-${outcome}`,
          location: outcome === "some" ? "europe-west4" : "us-central1",
        },
      };
    case "AzureOpenAI":
      return {
        azure: {
          deployment: DEPLOYMENT,
          endpoint: `https://${outcome}.openai.azure.com/`,
          apiKeySecretRef: ref,
        },
      };
    case "AzureAIFoundry":
      return {
        azureAIFoundry: {
          deployment: DEPLOYMENT,
          endpoint: `https://${outcome}.services.ai.azure.com/models`,
          apiKeySecretRef: ref,
        },
      };
    case "Custom":
      return { custom: { name: CUSTOM_MODEL, endpoint: customEndpoint, apiKeySecretRef: ref } };
  }
}

/** The conditions, models and warning each outcome ends in for `provider`. */
function expectation(provider: Provider, outcome: Outcome): Expected {
  const custom = provider === "Custom";
  const listed = LIST_PROVIDERS.includes(provider);
  const checked = (extra: Expected["conditions"] = {}): Expected["conditions"] => ({
    ...(custom
      ? {
          [CONDITION.OpenAICompatible]: ["True", REASON.Valid],
          [CONDITION.JSONMode]: ["True", REASON.JSONModeSupported],
        }
      : {}),
    ...extra,
  });
  const notChecked = custom
    ? {
        [CONDITION.OpenAICompatible]: ["Unknown", REASON.NotChecked] as [Status, string],
        [CONDITION.JSONMode]: ["Unknown", REASON.NotChecked] as [Status, string],
      }
    : {};
  switch (outcome) {
    case "valid": {
      const available = listed ? (REACHED[provider] as string[]) : [custom ? CUSTOM_MODEL : DEPLOYMENT];
      return {
        available,
        unavailable: listed ? listExpectation(provider, available, []) : {},
        conditions: checked({
          [CONDITION.CredentialsValid]: ["True", REASON.Valid],
          [CONDITION.ModelsAvailable]: ["True", REASON.ModelsAvailable],
          [CONDITION.Ready]: ["True", REASON.Synced],
        }),
      };
    }
    case "some": {
      const some = SOME[provider];
      const available = listed
        ? (some.available ?? (REACHED[provider] as string[]))
        : [custom ? CUSTOM_MODEL : DEPLOYMENT];
      return {
        available,
        unavailable: listed ? listExpectation(provider, available, some.expected) : {},
        conditions: checked({
          [CONDITION.CredentialsValid]: ["True", REASON.Valid],
          [CONDITION.ModelsAvailable]: ["True", REASON.ModelsMissing],
          [CONDITION.Ready]: ["True", REASON.Synced],
        }),
        warning: REASON.ModelsMissing,
        says: { [CONDITION.ModelsAvailable]: `missing: ${some.missing.join(", ")}` },
      };
    }
    case "invalid":
    case "restricted": {
      const reason = outcome === "invalid" ? REASON.InvalidCredentials : REASON.NetworkRestricted;
      return {
        available: [],
        unavailable: {},
        conditions: {
          ...notChecked,
          [CONDITION.CredentialsValid]: ["False", reason],
          [CONDITION.ModelsAvailable]: ["False", REASON.NoModelsAvailable],
          [CONDITION.Ready]: ["False", reason],
        },
        warning: reason,
        ...(outcome === "restricted"
          ? { says: { [CONDITION.CredentialsValid]: APP_ADDRESSES.join(", ") } }
          : {}),
      };
    }
    case "ratelimited":
    case "down": {
      const reason = outcome === "ratelimited" ? REASON.RateLimited : REASON.ProviderUnavailable;
      return {
        available: undefined,
        unavailable: {},
        conditions: {
          ...notChecked,
          [CONDITION.CredentialsValid]: ["Unknown", reason],
          [CONDITION.ModelsAvailable]: null,
          // Never verified: no last known result to stand on, so not Ready (an outage after one keeps Ready).
          [CONDITION.Ready]: ["False", reason],
        },
        warning: reason,
      };
    }
    case "nojson":
      return {
        available: [CUSTOM_MODEL],
        unavailable: {},
        conditions: {
          [CONDITION.CredentialsValid]: ["True", REASON.Valid],
          [CONDITION.OpenAICompatible]: ["True", REASON.Valid],
          [CONDITION.JSONMode]: ["False", REASON.JSONModeUnsupported],
          [CONDITION.ModelsAvailable]: ["True", REASON.ModelsAvailable],
          [CONDITION.Ready]: ["False", REASON.JSONModeUnsupported],
        },
        warning: REASON.JSONModeUnsupported,
      };
  }
}

const PROVIDERS: Provider[] = [...LIST_PROVIDERS, "AzureOpenAI", "AzureAIFoundry", "Custom"];
const OUTCOMES: Array<[Outcome, Provider[]]> = [
  ["valid", PROVIDERS],
  ["invalid", PROVIDERS],
  ["ratelimited", PROVIDERS],
  ["down", PROVIDERS],
  ["some", PROVIDERS],
  ["restricted", ["AzureOpenAI"]],
  ["nojson", ["Custom"]],
];

/** The credential of a case: a key the stand-in accepts, or one it does not; a service account for Vertex. */
function credential(provider: Provider, outcome: Outcome, name: string): string {
  if (provider === "VertexAI") {
    const vertex = w.providers.vertex;
    const account =
      outcome === "invalid"
        ? // A well-formed key the token endpoint does not know.
          (() => {
            const other = vertex.createServiceAccount({ projectId: "proj-invalid" });
            vertex.set({
              serviceAccounts: Object.fromEntries(
                Object.entries(vertex.behaviour.serviceAccounts).filter(([email]) => email !== other.email),
              ),
            });
            return other;
          })()
        : vertex.createServiceAccount({ projectId: `proj-${outcome}` });
    const privateKey = (JSON.parse(account.json) as { private_key: string }).private_key;
    w.secrets.push(privateKey, account.json);
    return account.json;
  }
  const prefix = provider === "Gemini" ? "AIza" : provider === "Anthropic" ? "sk-ant" : "sk";
  const key = w.key(name, prefix);
  if (outcome === "invalid") return key;
  const standIn =
    provider === "Gemini"
      ? w.providers.gemini
      : provider === "Anthropic"
        ? w.providers.anthropic
        : outcome === "restricted"
          ? restricted
          : outcome === "nojson"
            ? plainJson
            : w.providers.openai;
  standIn.set({ keys: [...standIn.behaviour.keys, key] });
  const fault: Fault | undefined =
    outcome === "ratelimited"
      ? { status: 429, retryAfterSeconds: 600, match: carriesKey(key) }
      : outcome === "down"
        ? { status: 503, body: { error: { message: "upstream unavailable" } }, match: carriesKey(key) }
        : undefined;
  if (fault) standIn.set({ faults: [...(standIn.behaviour.faults ?? []), fault] });
  return key;
}

beforeAll(async () => {
  restricted = await startOpenAIStandIn({ host: "127.0.0.1" }, { keys: [], networkRestricted: true });
  plainJson = await startOpenAIStandIn(
    { host: "127.0.0.1" },
    { keys: [], jsonMode: "plain-text", models: [CUSTOM_MODEL] },
  );
  w = await startModelCheckWorld("model-availability", {
    baseUrls: (p) => ({
      ...p.baseUrls,
      // The network-restricted resource is another server; every other endpoint goes to the shared stand-in.
      azureOpenAI: (endpoint) => (endpoint.includes("restricted") ? restricted.url : p.openai.url),
    }),
  });
  const { openai, vertex } = w.providers;
  openai.set({ keys: [], models: [...openai.behaviour.models, CUSTOM_MODEL] });
  w.providers.gemini.set({ keys: [] });
  w.providers.anthropic.set({ keys: [] });
  // Vertex: faults by project (its requests carry access tokens, not the key).
  vertex.set({
    faults: [
      { status: 429, retryAfterSeconds: 600, match: "/projects/proj-ratelimited/" },
      { status: 503, match: "/projects/proj-down/" },
    ],
  });

  for (const [outcome] of OUTCOMES) await w.organization(ORGANIZATION_OF(outcome));
  for (const [outcome, providers] of OUTCOMES) {
    for (const provider of providers) {
      const name = `${provider.toLowerCase()}-${outcome}`;
      const customEndpoint = `${(outcome === "nojson" ? plainJson : openai).url}/v1`;
      cases.push({
        name,
        provider,
        outcome,
        spec: {
          organizationRef: { name: ORGANIZATION_OF(outcome) },
          provider,
          ...block(provider, outcome, name, customEndpoint),
          ...(outcome === "some" ? { models: SOME[provider].expected } : {}),
        },
        secret: credential(provider, outcome, name),
        expected: expectation(provider, outcome),
      });
    }
  }
  for (const c of cases) await putSecret(w.namespace, c.name, { credential: c.secret });
  await Promise.all(cases.map((c) => createConnection(w.namespace, c.name, c.spec)));
}, 120_000);

afterAll(async () => {
  await w?.stop();
  await Promise.all([restricted?.stop(), plainJson?.stop()]);
});

/** Waits until the case's check has reported (CredentialsValid as expected) and returns the object. */
async function settled(c: Case): Promise<ProviderConnection> {
  const [status, reason] = c.expected.conditions[CONDITION.CredentialsValid] as [Status, string];
  return waitForCondition(w.namespace, c.name, CONDITION.CredentialsValid, status, reason, 60_000);
}

const byName = (models: readonly ModelStatus[]) => [...models].sort((a, b) => a.name.localeCompare(b.name));

describe("model availability per provider and outcome", () => {
  // Built in beforeAll (the keys are random); the titles come from the same table.
  const titles = OUTCOMES.flatMap(([outcome, providers]) => providers.map((p) => ({ p, outcome })));

  it.each(titles)("$p, $outcome", async ({ p, outcome }) => {
    const c = cases.find((x) => x.provider === p && x.outcome === outcome) as Case;
    const conn = await settled(c);
    const status = conn.status ?? {};
    const { expected } = c;

    // status.models: every model with its availability and, when unavailable, why.
    if (expected.available === undefined) {
      expect(status.models).toBeUndefined();
      expect(status.availableModels).toBeUndefined();
      expect(status.modelsCheckedTime).toBeUndefined();
    } else {
      const want = byName([
        ...expected.available.map((name) => ({ name, available: true })),
        ...Object.entries(expected.unavailable).map(([name, reason]) => ({ name, available: false, reason })),
      ]);
      expect(byName(status.models ?? [])).toEqual(want);
      expect(status.availableModels).toBe(expected.available.length);
      expect(status.modelsCheckedTime).toBeDefined();
    }
    expect(status.modelsCheckedGeneration).toBe(conn.metadata.generation);

    // The conditions, each for this generation.
    for (const [type, want] of Object.entries(expected.conditions)) {
      const found = status.conditions?.find((x) => x.type === type);
      if (want === null || want === undefined) {
        expect(found, `${type} should be absent`).toBeUndefined();
        continue;
      }
      expect({ type, status: found?.status, reason: found?.reason }).toEqual({
        type,
        status: want[0],
        reason: want[1],
      });
      expect(found?.observedGeneration).toBe(conn.metadata.generation);
    }
    for (const [type, words] of Object.entries(expected.says ?? {})) {
      expect(status.conditions?.find((x) => x.type === type)?.message).toContain(words);
    }
    expect(status.conditions?.find((x) => x.type === CONDITION.AppSynced)).toMatchObject({
      status: "True",
      reason: REASON.Synced,
    });

    // The events: the app record was created, and the outcome's one Warning (none for a valid check).
    const events = await eventsFor(w.namespace, c.name);
    expect(events.filter((e) => e.startsWith("Normal Created:"))).toHaveLength(1);
    const warnings = events.filter((e) => e.startsWith("Warning ")).map((e) => e.split(/[ :]/)[1]);
    expect(warnings).toEqual(expected.warning ? [expected.warning] : []);

    // The MODELS printer column.
    const column = await modelsColumn(w.namespace, c.name);
    expect(column).toBe(expected.available === undefined ? "" : String(expected.available.length));
  });

  it("leaks no credential into logs, events, status or metrics", async () => {
    for (const c of cases) await settled(c);
    await w.expectNoLeaks();
  });
});
