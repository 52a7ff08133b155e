// How often a failing provider is asked again, counted at the stand-in: a dead provider (5xx) follows the
// backoff steps and recovers, Retry-After is honoured, a rejected key waits for its Secret (or the refresh).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderConnection } from "../../crds/index.ts";
import type { RecordedRequest } from "../../local/providers/stand-in.ts";
import { ANNOTATIONS, CONDITION, REASON } from "../../operator/constants.ts";
import {
  carriesKey,
  type ModelCheckWorld,
  modelsColumn,
  requestsWithKey,
  startModelCheckWorld,
} from "../support/model-checks.ts";
import { waitFor } from "../support/wait.ts";
import {
  createConnection,
  eventsFor,
  getConnection,
  patchConnection,
  putSecret,
  waitForCondition,
} from "../support/world.ts";

/** --model-check-backoff: the first wait after a failed check; each further failure doubles it. */
const BACKOFF_MS = 500;
/** Clock granularity: a step counts from the previous answer, so a retry never arrives earlier than it. */
const EARLY_MS = 50;
/** How late it may arrive on a busy machine before we call it stalled. */
const LATE_MS = 2_000;

let w: ModelCheckWorld;

async function openAIConnection(name: string, key: string, extra: Record<string, unknown> = {}) {
  await w.organization(`org-${name}`);
  await putSecret(w.namespace, name, { credential: key });
  await createConnection(w.namespace, name, {
    organizationRef: { name: `org-${name}` },
    provider: "OpenAI",
    openAI: { apiKeySecretRef: { name, key: "credential" } },
    ...extra,
  });
}

/** Waits until the stand-in has seen `count` requests with `key` since `since`; returns them. */
function requestsSeen(key: string, count: number, since: number, timeoutMs: number) {
  return waitFor(
    () => {
      const seen = requestsWithKey(w.providers.openai, key, since);
      return seen.length >= count ? seen : undefined;
    },
    { timeoutMs, intervalMs: 50, description: `${count} requests with the key` },
  );
}

const gaps = (requests: readonly RecordedRequest[]) =>
  requests.slice(1).map((r, i) => r.at - (requests[i] as RecordedRequest).at);

/** Reconciles of a connection so far, from the operator's `reconcile.done` debug events. */
function reconcileCount(name: string): number {
  const key = `"key":"ProviderConnection/${w.namespace}/${name}"`;
  return w.operator
    .logs()
    .split("\n")
    .filter((line) => line.includes('"event":"reconcile.done"') && line.includes(key)).length;
}

/** Waits until the operator has reconciled `name` `n` more times. */
async function reconciles(name: string, n: number): Promise<void> {
  const before = reconcileCount(name);
  await waitFor(() => reconcileCount(name) >= before + n, {
    timeoutMs: 30_000,
    description: `${n} reconciles of ${name}`,
  });
}

beforeAll(async () => {
  w = await startModelCheckWorld("model-backoff", {
    // A short resync reconciles every object every 2 s: none of those reconciles may ask the provider.
    flags: [`--model-check-backoff=${BACKOFF_MS}ms`, "--resync-interval=2s"],
  });
  w.providers.openai.set({ keys: [] });
}, 120_000);

afterAll(async () => {
  await w?.stop();
});

describe("model check backoff", () => {
  it("a dead provider (5xx) is probed once per backoff step, keeps the last known models, and recovers", async () => {
    const key = w.key("dead");
    w.providers.openai.set({ keys: [...w.providers.openai.behaviour.keys, key] });
    await openAIConnection("openai-dead", key);
    const healthy = await waitForCondition(
      w.namespace,
      "openai-dead",
      CONDITION.Ready,
      "True",
      REASON.Synced,
    );
    expect(healthy.status?.availableModels).toBeGreaterThan(0);

    // The provider dies for this key; a refresh request finds it dead.
    w.providers.openai.set({ faults: [{ status: 503, match: carriesKey(key) }] });
    const since = Date.now();
    await patchConnection(w.namespace, "openai-dead", {
      metadata: { annotations: { [ANNOTATIONS.refreshRequestedAt]: new Date(since).toISOString() } },
    });
    // Four failures: the first, then one, two and four steps later.
    const failed = await requestsSeen(key, 4, since, 30_000);
    // The provider comes back: the next step (eight) finds it and the backoff ends.
    w.providers.openai.set({ faults: [] });
    const recovered = await waitForCondition(
      w.namespace,
      "openai-dead",
      CONDITION.CredentialsValid,
      "True",
      REASON.Valid,
      30_000,
    );
    const requests = requestsWithKey(w.providers.openai, key, since);
    const measured = gaps(requests);
    console.info(`dead provider: ${requests.length} requests, gaps ${measured.join(", ")} ms`);
    expect(requests).toHaveLength(5);
    const steps = [1, 2, 4, 8].map((n) => n * BACKOFF_MS);
    measured.forEach((gap, i) => {
      const step = steps[i] as number;
      expect(gap, `gap ${i + 1} (step ${step} ms)`).toBeGreaterThanOrEqual(step - EARLY_MS);
      expect(gap, `gap ${i + 1} (step ${step} ms)`).toBeLessThanOrEqual(step + LATE_MS);
    });
    expect(failed.slice(0, 4).map((r) => r.at)).toEqual(requests.slice(0, 4).map((r) => r.at));

    // While it was down the last known models stayed (a recovery check wrote the same ones again).
    expect(recovered.status?.models).toEqual(healthy.status?.models);
    const events = await eventsFor(w.namespace, "openai-dead");
    expect(events.filter((e) => e.startsWith("Warning ProviderUnavailable"))).toHaveLength(1);

    // Healthy again: later reconciles (every 2 s) ask nothing until the refresh interval.
    await reconciles("openai-dead", 2);
    expect(requestsWithKey(w.providers.openai, key, since)).toHaveLength(5);
  });

  it("keeps the last known models and their check time in status while the provider is down", async () => {
    const key = w.key("down-status");
    w.providers.openai.set({ keys: [...w.providers.openai.behaviour.keys, key] });
    await openAIConnection("openai-down", key);
    const healthy = await waitForCondition(
      w.namespace,
      "openai-down",
      CONDITION.Ready,
      "True",
      REASON.Synced,
    );
    w.providers.openai.set({ faults: [{ status: 500, match: carriesKey(key) }] });
    const since = Date.now();
    await patchConnection(w.namespace, "openai-down", {
      metadata: { annotations: { [ANNOTATIONS.refreshRequestedAt]: new Date(since).toISOString() } },
    });
    const down = await waitForCondition(
      w.namespace,
      "openai-down",
      CONDITION.CredentialsValid,
      "Unknown",
      REASON.ProviderUnavailable,
    );
    await requestsSeen(key, 2, since, 10_000);
    const still = (await getConnection(w.namespace, "openai-down")) as ProviderConnection;
    for (const c of [down, still]) {
      expect(c.status?.models).toEqual(healthy.status?.models);
      expect(c.status?.availableModels).toBe(healthy.status?.availableModels);
      expect(c.status?.modelsCheckedTime).toBe(healthy.status?.modelsCheckedTime);
      expect(c.status?.conditions?.find((x) => x.type === CONDITION.ModelsAvailable)?.status).toBe("True");
      expect(c.status?.conditions?.find((x) => x.type === CONDITION.Ready)?.status).toBe("True");
    }
    expect(await modelsColumn(w.namespace, "openai-down")).toBe(String(healthy.status?.availableModels));
    const app = w.world.app.state.getConnection(still.status?.appConnectionId ?? -1);
    expect(app?.cached_available_models).toBe(
      (healthy.status?.models ?? [])
        .filter((m) => m.available)
        .map((m) => m.name)
        .join(","),
    );
    w.providers.openai.set({ faults: [] });
  });

  it("honours Retry-After when it is longer than the backoff steps", async () => {
    const key = w.key("retry-after");
    w.providers.openai.set({ keys: [...w.providers.openai.behaviour.keys, key] });
    await openAIConnection("openai-retry-after", key);
    await waitForCondition(w.namespace, "openai-retry-after", CONDITION.Ready, "True", REASON.Synced);
    w.providers.openai.set({ faults: [{ status: 429, retryAfterSeconds: 2, match: carriesKey(key) }] });
    const since = Date.now();
    await patchConnection(w.namespace, "openai-retry-after", {
      metadata: { annotations: { [ANNOTATIONS.refreshRequestedAt]: new Date(since).toISOString() } },
    });
    const limited = await requestsSeen(key, 3, since, 20_000);
    w.providers.openai.set({ faults: [] });
    const measured = gaps(limited.slice(0, 3));
    console.info(`rate limited (Retry-After 2 s): gaps ${measured.join(", ")} ms`);
    // Steps of 0.5 s and 1 s, but the provider asked for 2 s each time.
    for (const gap of measured) {
      expect(gap).toBeGreaterThanOrEqual(2_000 - EARLY_MS);
      expect(gap).toBeLessThanOrEqual(2_000 + LATE_MS);
    }
    await waitForCondition(
      w.namespace,
      "openai-retry-after",
      CONDITION.CredentialsValid,
      "True",
      REASON.Valid,
    );
  });

  it("a rejected key (401) is not asked again until its Secret changes, then at once", async () => {
    const bad = w.key("rejected");
    await openAIConnection("openai-rejected", bad);
    await waitForCondition(
      w.namespace,
      "openai-rejected",
      CONDITION.CredentialsValid,
      "False",
      REASON.InvalidCredentials,
    );
    expect(requestsWithKey(w.providers.openai, bad)).toHaveLength(1);

    // Resyncs and a sync request reconcile it again and again: none asks the provider.
    await patchConnection(w.namespace, "openai-rejected", {
      metadata: { annotations: { [ANNOTATIONS.syncRequestedAt]: "again" } },
    });
    await reconciles("openai-rejected", 3);
    const rejectedCount = requestsWithKey(w.providers.openai, bad).length;
    console.info(`rejected key: ${rejectedCount} request(s) over 3 reconciles`);
    expect(rejectedCount).toBe(1);

    // The Secret gets a good key: it is checked at once.
    const good = w.key("rejected-fixed");
    w.providers.openai.set({ keys: [...w.providers.openai.behaviour.keys, good] });
    const changedAt = Date.now();
    await putSecret(w.namespace, "openai-rejected", { credential: good });
    await waitForCondition(w.namespace, "openai-rejected", CONDITION.CredentialsValid, "True", REASON.Valid);
    const [first] = requestsWithKey(w.providers.openai, good);
    console.info(
      `rejected key: the new key was checked ${(first?.at ?? 0) - changedAt} ms after the Secret changed`,
    );
    expect((first?.at ?? Number.POSITIVE_INFINITY) - changedAt).toBeLessThan(5_000);
    expect(requestsWithKey(w.providers.openai, good)).toHaveLength(1);
    expect(requestsWithKey(w.providers.openai, bad)).toHaveLength(1);
  });

  it("a rejected key waits for the refresh interval (at least 1m): resyncs do not ask again", async () => {
    const bad = w.key("rejected-refresh");
    // The shortest interval the API server accepts; that it is asked again once the interval has passed is
    // model-schedule's unit table (a minute of waiting here would prove nothing more).
    await openAIConnection("openai-rejected-refresh", bad, { refreshInterval: "1m" });
    const since = Date.now();
    await requestsSeen(bad, 1, since, 30_000);
    await waitForCondition(
      w.namespace,
      "openai-rejected-refresh",
      CONDITION.CredentialsValid,
      "False",
      REASON.InvalidCredentials,
    );
    // Several resyncs (every 2 s) later, still the one request.
    await reconciles("openai-rejected-refresh", 3);
    expect(requestsWithKey(w.providers.openai, bad, since)).toHaveLength(1);
    const events = await eventsFor(w.namespace, "openai-rejected-refresh");
    expect(events.filter((e) => e.startsWith("Warning InvalidCredentials"))).toHaveLength(1);
  });

  it("leaks no credential into logs, events, status or metrics", async () => {
    await w.expectNoLeaks();
  });
});
