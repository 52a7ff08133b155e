// When models are checked again and what reaches status and the app: Gemini's pages, the on-demand refresh
// annotation, the catalogue override ConfigMap, a spec change made while blocked, cached_available_models.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INSTALL } from "../../cdk8s/names.ts";
import type { ProviderConnection } from "../../crds/index.ts";
import { DEFAULT_OPENAI_BEHAVIOUR } from "../../local/providers/openai.ts";
import { ANNOTATIONS, CONDITION, REASON } from "../../operator/constants.ts";
import { CATALOGUE_KEY } from "../../operator/model-checker.ts";
import { testCluster } from "../support/cluster.ts";
import { type ModelCheckWorld, requestsWithKey, startModelCheckWorld } from "../support/model-checks.ts";
import { waitFor } from "../support/wait.ts";
import {
  createConnection,
  getConnection,
  patchConnection,
  putSecret,
  waitForCondition,
} from "../support/world.ts";

const CATALOGUE = { namespace: INSTALL.namespace, name: INSTALL.catalogueConfigMap };

let w: ModelCheckWorld;

const availableOf = (c: ProviderConnection | undefined) =>
  (c?.status?.models ?? []).filter((m) => m.available).map((m) => m.name);

/** Creates an OpenAI-style connection with its own Organization and Secret; returns its key. */
async function connectionWithKey(
  name: string,
  provider: "OpenAI" | "Gemini",
  extra: Record<string, unknown> = {},
): Promise<string> {
  const key = w.key(name, provider === "Gemini" ? "AIza" : "sk");
  const standIn = provider === "Gemini" ? w.providers.gemini : w.providers.openai;
  standIn.set({ keys: [...standIn.behaviour.keys, key] });
  await w.organization(`org-${name}`);
  await putSecret(w.namespace, name, { credential: key });
  const block = provider === "Gemini" ? "gemini" : "openAI";
  await createConnection(w.namespace, name, {
    organizationRef: { name: `org-${name}` },
    provider,
    [block]: { apiKeySecretRef: { name, key: "credential" } },
    ...extra,
  });
  return key;
}

/** Annotates a refresh request and waits until status says it was handled; returns the object. */
async function requestRefresh(name: string): Promise<ProviderConnection> {
  const value = new Date().toISOString();
  await patchConnection(w.namespace, name, {
    metadata: { annotations: { [ANNOTATIONS.refreshRequestedAt]: value } },
  });
  return waitFor(
    async () => {
      const c = await getConnection(w.namespace, name);
      return c?.status?.refreshRequestedAt === value ? c : undefined;
    },
    { description: `${name}: refresh ${value} handled`, timeoutMs: 30_000 },
  );
}

/** The app record of a connection, as the app stores it. */
function appRecord(c: ProviderConnection | undefined) {
  const id = c?.status?.appConnectionId;
  return id === undefined ? undefined : w.world.app.state.getConnection(id);
}

/** Waits for an operator log line that contains every one of `parts`. */
async function waitForLog(...parts: string[]): Promise<void> {
  await waitFor(
    () =>
      w.operator
        .logs()
        .split("\n")
        .some((line) => parts.every((part) => line.includes(part))),
    { description: `a log line with ${parts.join(" and ")}` },
  );
}

async function deleteCatalogue(): Promise<void> {
  await testCluster()
    .core.deleteNamespacedConfigMap(CATALOGUE)
    .catch(() => undefined);
}

beforeAll(async () => {
  w = await startModelCheckWorld("model-refresh", {
    flags: [`--catalogue-config-map=${CATALOGUE.namespace}/${CATALOGUE.name}`],
  });
  w.providers.openai.set({ keys: [] });
  w.providers.gemini.set({ keys: [] });
  await deleteCatalogue();
}, 120_000);

afterAll(async () => {
  await deleteCatalogue();
  await w?.stop();
});

describe("model refresh", () => {
  it("Gemini: follows nextPageToken through every page and ends in the supported models of all of them", async () => {
    // Two models per page, four pages; supported models on every page, one only on the last.
    w.providers.gemini.set({
      pageSize: 2,
      models: [
        "gemini-2.0-flash",
        "text-embedding-004",
        "aqa",
        "gemini-2.0-flash-lite",
        "gemini-exp-1206",
        "gemini-1.5-flash",
        "gemini-1.5-pro",
      ],
    });
    const key = await connectionWithKey("gemini-pages", "Gemini");
    const conn = await waitForCondition(
      w.namespace,
      "gemini-pages",
      CONDITION.ModelsAvailable,
      "True",
      REASON.ModelsAvailable,
    );
    const pages = requestsWithKey(w.providers.gemini, key);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.map((r) => r.query.get("pageToken") ?? "")).toEqual([
      "",
      ...pages.slice(1).map((r) => r.query.get("pageToken")),
    ]);
    expect(new Set(pages.map((r) => r.query.get("pageToken"))).size).toBe(pages.length);
    expect(availableOf(conn).sort()).toEqual(
      ["gemini-1.5-flash", "gemini-1.5-pro", "gemini-2.0-flash", "gemini-2.0-flash-lite"].sort(),
    );
    expect(conn.status?.models?.find((m) => m.name === "gemini-1.5-flash-8b")).toEqual({
      name: "gemini-1.5-flash-8b",
      available: false,
      reason: "NotListed",
    });
  });

  it("the refresh annotation checks again at once, once per value, and the app learns the new models", async () => {
    const key = await connectionWithKey("openai-refresh", "OpenAI");
    const first = await waitForCondition(
      w.namespace,
      "openai-refresh",
      CONDITION.Ready,
      "True",
      REASON.Synced,
    );
    expect(first.status?.modelsCheckedTime).toBeDefined();
    expect(requestsWithKey(w.providers.openai, key)).toHaveLength(1);
    expect(appRecord(first)?.cached_available_models).toBe(availableOf(first).join(","));

    // The key now reaches gpt-5 too: nothing changes until someone asks.
    w.providers.openai.set({ models: [...DEFAULT_OPENAI_BEHAVIOUR.models, "gpt-5"] });
    const refreshed = await requestRefresh("openai-refresh");
    expect(requestsWithKey(w.providers.openai, key)).toHaveLength(2);
    expect(availableOf(refreshed)).toContain("gpt-5");
    expect(refreshed.status?.availableModels).toBe((first.status?.availableModels ?? 0) + 1);
    expect(Date.parse(refreshed.status?.modelsCheckedTime ?? "")).toBeGreaterThan(
      Date.parse(first.status?.modelsCheckedTime ?? ""),
    );
    await waitFor(() => appRecord(refreshed)?.cached_available_models === availableOf(refreshed).join(","), {
      description: "cached_available_models updated in the app",
    });
    expect(appRecord(refreshed)?.cached_available_models).toContain("gpt-5");

    // The same annotation value again is not a new request: a reconcile (a sync request's, proved by its
    // reconcile.done event) checks nothing.
    const logKey = `"key":"ProviderConnection/${w.namespace}/openai-refresh"`;
    const reads = () =>
      w.operator
        .logs()
        .split("\n")
        .filter((line) => line.includes('"event":"reconcile.done"') && line.includes(logKey)).length;
    const before = reads();
    await patchConnection(w.namespace, "openai-refresh", {
      metadata: { annotations: { [ANNOTATIONS.syncRequestedAt]: "again" } },
    });
    await waitFor(() => reads() > before, { description: "a reconcile after the sync request" });
    expect(requestsWithKey(w.providers.openai, key)).toHaveLength(2);
  });

  it("the catalogue ConfigMap overrides the shipped models without a restart, and its removal restores them", async () => {
    const key = await connectionWithKey("openai-catalogue", "OpenAI");
    w.providers.openai.set({ models: [...DEFAULT_OPENAI_BEHAVIOUR.models, "o3"] });
    const shipped = await waitForCondition(
      w.namespace,
      "openai-catalogue",
      CONDITION.Ready,
      "True",
      REASON.Synced,
    );
    const names = (c: ProviderConnection) => (c.status?.models ?? []).map((m) => m.name);
    expect(names(shipped)).not.toContain("o3");
    expect(availableOf(shipped)).toContain("gpt-4o-mini");

    // The override (in the one ConfigMap the installed Role lets the operator read): add o3, drop gpt-4o-mini.
    await testCluster().core.createNamespacedConfigMap({
      namespace: CATALOGUE.namespace,
      body: {
        metadata: { name: CATALOGUE.name },
        data: {
          [CATALOGUE_KEY]:
            "version: test-override\nproviders:\n  OpenAI:\n    add: [o3]\n    remove: [gpt-4o-mini]\n",
        },
      },
    });
    let overridden: ProviderConnection;
    try {
      // The operator watches the ConfigMap (no read per check): a refresh after it logged the version uses it.
      await waitForLog('"event":"catalogue.loaded"', '"version":"test-override"');
      overridden = await requestRefresh("openai-catalogue");
    } finally {
      await deleteCatalogue();
    }
    expect(availableOf(overridden)).toContain("o3");
    expect(names(overridden)).not.toContain("gpt-4o-mini");
    expect(overridden.status?.availableModels).toBe(shipped.status?.availableModels);
    expect(appRecord(overridden)?.cached_available_models).toBe(availableOf(overridden).join(","));

    await waitForLog('"event":"catalogue.override.removed"');
    const restored = await requestRefresh("openai-catalogue");
    expect(names(restored).sort()).toEqual(names(shipped).sort());
    expect(availableOf(restored)).toContain("gpt-4o-mini");
    expect(requestsWithKey(w.providers.openai, key)).toHaveLength(3);
  });

  it("a broken catalogue override is logged naming its field, and the shipped catalogue stays in force", async () => {
    await connectionWithKey("openai-bad-catalogue", "OpenAI");
    const shipped = await waitForCondition(
      w.namespace,
      "openai-bad-catalogue",
      CONDITION.Ready,
      "True",
      REASON.Synced,
    );
    const names = (c: ProviderConnection) => (c.status?.models ?? []).map((m) => m.name).sort();
    await testCluster().core.createNamespacedConfigMap({
      namespace: CATALOGUE.namespace,
      body: {
        metadata: { name: CATALOGUE.name },
        data: { [CATALOGUE_KEY]: "providers:\n  OpenAI:\n    add: 5\n" },
      },
    });
    try {
      await waitForLog('"event":"catalogue.override.invalid"', "providers.OpenAI");
      const checked = await requestRefresh("openai-bad-catalogue");
      expect(names(checked)).toEqual(names(shipped));
      expect(checked.status?.conditions).toContainEqual(
        expect.objectContaining({ type: CONDITION.Ready, status: "True" }),
      );
    } finally {
      await deleteCatalogue();
    }
  });

  it("a spec change made while the connection was blocked is checked once it is unblocked", async () => {
    w.providers.openai.set({ models: DEFAULT_OPENAI_BEHAVIOUR.models });
    const key = await connectionWithKey("openai-blocked", "OpenAI");
    await waitForCondition(w.namespace, "openai-blocked", CONDITION.Ready, "True", REASON.Synced);
    expect(requestsWithKey(w.providers.openai, key)).toHaveLength(1);

    // Blocked: the Secret is gone. The spec changes meanwhile; the blocked reconcile observes generation 2.
    await testCluster().core.deleteNamespacedSecret({ namespace: w.namespace, name: "openai-blocked" });
    await waitForCondition(w.namespace, "openai-blocked", CONDITION.Ready, "False", REASON.SecretNotFound);
    await patchConnection(w.namespace, "openai-blocked", { spec: { models: ["gpt-4o", "gpt-5"] } });
    const blocked = await waitForCondition(
      w.namespace,
      "openai-blocked",
      CONDITION.Ready,
      "False",
      REASON.SecretNotFound,
    );
    expect(blocked.metadata.generation).toBe(2);
    expect(blocked.status?.observedGeneration).toBe(2);
    expect(blocked.status?.modelsCheckedGeneration).toBe(1);
    expect(requestsWithKey(w.providers.openai, key)).toHaveLength(1);

    // The same key comes back (same fingerprint): only the new generation makes the check due.
    await putSecret(w.namespace, "openai-blocked", { credential: key });
    const checked = await waitForCondition(
      w.namespace,
      "openai-blocked",
      CONDITION.ModelsAvailable,
      "True",
      REASON.ModelsMissing,
    );
    expect(checked.status?.conditions?.find((c) => c.type === CONDITION.ModelsAvailable)?.message).toBe(
      "missing: gpt-5",
    );
    expect(checked.status?.modelsCheckedGeneration).toBe(2);
    expect(requestsWithKey(w.providers.openai, key)).toHaveLength(2);
  });

  it("leaks no credential into logs, events, status or metrics", async () => {
    await w.expectNoLeaks();
  });
});
