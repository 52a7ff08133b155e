// The world of the model-availability tests: provider stand-ins, the app with one owner per organization,
// an in-process operator whose checks go to the stand-ins, and ways to count and read what happened.
import { randomBytes } from "node:crypto";
import { type ProviderStandIns, startProviderStandIns } from "../../local/providers/index.ts";
import type { RecordedRequest } from "../../local/providers/stand-in.ts";
import type { ProviderBaseUrls } from "../../operator/providers/types.ts";
import { expectNoLeaks } from "./canary.ts";
import { testCluster } from "./cluster.ts";
import { startTestOperator, type TestOperator } from "./operator.ts";
import {
  type AppWithOwner,
  createOrganization,
  startAppWithOwner,
  waitForOrganizationCondition,
} from "./world.ts";

export interface ModelCheckWorld {
  namespace: string;
  providers: ProviderStandIns;
  world: AppWithOwner;
  operator: TestOperator;
  /** Every secret value handed out (keys, tokens, private keys), for the canary scan. */
  readonly secrets: string[];
  /** A fresh canary key such as `sk-canary-openai-valid-3f9a1c2b`, remembered for the canary scan. */
  key(label: string, prefix?: string): string;
  /**
   * Creates Organization `name` backed by its own organization in the app (so each can hold its own
   * organization-wide connections) and waits until it is Ready.
   */
  organization(name: string): Promise<void>;
  /** Fails the test when any secret value handed out appears in logs, events, objects or metrics. */
  expectNoLeaks(): Promise<void>;
  stop(): Promise<void>;
}

export interface ModelCheckWorldOptions {
  /** Extra operator flags, e.g. `--model-check-backoff=1s`. */
  flags?: string[];
  /** Adjusts the stand-ins' base URLs (e.g. to send one Azure endpoint elsewhere). */
  baseUrls?: (providers: ProviderStandIns) => ProviderBaseUrls;
}

/** Starts stand-ins, the app and an operator watching a new namespace named after `prefix`. */
export async function startModelCheckWorld(
  prefix: string,
  options: ModelCheckWorldOptions = {},
): Promise<ModelCheckWorld> {
  const namespace = await testCluster().createTestNamespace(prefix);
  const providers = await startProviderStandIns();
  const world = await startAppWithOwner();
  const operator = await startTestOperator({
    namespace,
    flags: options.flags ?? [],
    baseUrls: options.baseUrls?.(providers) ?? providers.baseUrls,
  });
  const secrets: string[] = [world.token];
  let nextAppOrganization = 1;
  return {
    namespace,
    providers,
    world,
    operator,
    secrets,
    key(label, prefix = "sk") {
      const value = `${prefix}-canary-${label}-${randomBytes(6).toString("hex")}`;
      secrets.push(value);
      return value;
    },
    async organization(name) {
      const appOrganization = nextAppOrganization++;
      let token = world.token;
      if (appOrganization > 1) {
        token = `canary-token-${randomBytes(10).toString("hex")}`;
        world.app.state.addUser({
          role: "owner",
          organization: appOrganization,
          email: `owner-${appOrganization}@test.local`,
          legacyToken: token,
        });
        secrets.push(token);
      }
      await createOrganization(namespace, name, world.app.url, token);
      await waitForOrganizationCondition(namespace, name, "Ready", "True");
    },
    expectNoLeaks: () => expectNoLeaks({ namespace, operator, secrets }),
    async stop() {
      await operator.stop();
      await Promise.all([providers.stop(), world.app.stop()]);
    },
  };
}

/** Whether a provider request carries `key` in any of the places providers take one. */
export function carriesKey(key: string): (request: RecordedRequest) => boolean {
  return (request) =>
    request.headers.authorization === `Bearer ${key}` ||
    request.headers["api-key"] === key ||
    request.headers["x-api-key"] === key ||
    request.headers["x-goog-api-key"] === key ||
    request.query.get("key") === key;
}

/** The requests a stand-in received with `key` (optionally only those after `since`, ms since the epoch). */
export function requestsWithKey(
  standIn: { readonly requests: readonly RecordedRequest[] },
  key: string,
  since = 0,
): RecordedRequest[] {
  const carries = carriesKey(key);
  return standIn.requests.filter((r) => r.at >= since && carries(r));
}

/**
 * The MODELS printer column of connection `name`, as `kubectl get providerconnection` prints it: the cell
 * under the header (kubectl aligns the columns), "" when status has no count.
 */
export async function modelsColumn(namespace: string, name: string): Promise<string> {
  const result = await testCluster().kubectl(["get", "pconn", name, "-n", namespace]);
  if (result.code !== 0) throw new Error(`kubectl get pconn ${name} failed: ${result.stderr}`);
  const [header = "", row = ""] = result.stdout.split("\n");
  const start = header.search(/\bMODELS\b/);
  if (start < 0) throw new Error(`no MODELS column in: ${header}`);
  const next = header.slice(start + "MODELS".length).search(/\S/);
  const end = next < 0 ? undefined : start + "MODELS".length + next;
  return row.slice(start, end).trim();
}
