// The canary scan: secret values a test used must appear nowhere the operator writes — its logs, the Events in
// the test's namespace, the objects' status, and its metrics.
import { expect } from "vitest";
import { secretMaterial } from "../../operator/scrub.ts";
import { testCluster } from "./cluster.ts";
import type { TestOperator } from "./operator.ts";

/** What to scan and for which values. */
export interface CanaryScanOptions {
  namespace: string;
  operator: TestOperator;
  /** Every secret value the test handed out: API keys, tokens, credential files. */
  secrets: readonly string[];
}

/** One place a secret value was found: where, and which value (by its position in `secrets`, never the value). */
export interface Leak {
  where: string;
  secretIndex: number;
}

// Values short enough to occur by chance would make the scan flaky and prove nothing.
const MIN_CANARY_LENGTH = 8;

/**
 * The pieces of a value the scan looks for: every run of {@link MIN_CANARY_LENGTH} characters of the value
 * (of a key file: of its private key and key id), as written, base64-encoded, URL-encoded or JSON-escaped.
 * Runs without a digit are left out: the canaries are words plus a random tail ("canary-drift-key-0e5d72"),
 * and their words ("deletion", "rotation") are also in namespace and object names by design.
 */
export function fragmentsOf(value: string): string[] {
  const pieces = new Set<string>();
  for (const material of secretMaterial(value)) {
    const forms = [
      material,
      Buffer.from(material).toString("base64"),
      encodeURIComponent(material),
      JSON.stringify(material).slice(1, -1),
    ];
    for (const form of forms) {
      for (let i = 0; i + MIN_CANARY_LENGTH <= form.length; i++) {
        const piece = form.slice(i, i + MIN_CANARY_LENGTH);
        if (/[0-9]/.test(piece)) pieces.add(piece);
      }
    }
  }
  return [...pieces];
}

/**
 * Collects the operator's logs, every Event in the namespace, every Organization and ProviderConnection there
 * (as JSON, status included) and the metrics text, and returns where any piece of `secrets` occurs (see
 * {@link fragmentsOf}: 8 characters of a value are a leak, whole or encoded). The report names places and indexes only, so a failing test does not print a secret.
 */
export async function findLeaks(options: CanaryScanOptions): Promise<Leak[]> {
  const { namespace, operator, secrets } = options;
  for (const [index, value] of secrets.entries()) {
    if (value.length < MIN_CANARY_LENGTH)
      throw new Error(`canary ${index} is shorter than ${MIN_CANARY_LENGTH} characters`);
  }
  const { core, custom } = testCluster();
  const texts: Array<{ where: string; text: string }> = [{ where: "operator logs", text: operator.logs() }];
  const events = await core.listNamespacedEvent({ namespace });
  for (const event of events.items) {
    texts.push({ where: `Event ${event.metadata?.name} (${event.reason})`, text: JSON.stringify(event) });
  }
  for (const plural of ["organizations", "providerconnections"]) {
    const list = (await custom.listNamespacedCustomObject({
      group: "modelkeys.dev",
      version: "v1alpha1",
      namespace,
      plural,
    })) as { items: Array<{ metadata: { name: string } }> };
    for (const item of list.items)
      texts.push({ where: `${plural}/${item.metadata.name}`, text: JSON.stringify(item) });
  }
  texts.push({ where: "metrics", text: await operator.metrics.render() });

  const leaks: Leak[] = [];
  for (const { where, text } of texts) {
    for (const [secretIndex, value] of secrets.entries()) {
      if (fragmentsOf(value).some((piece) => text.includes(piece))) leaks.push({ where, secretIndex });
    }
  }
  return leaks;
}

/** Fails the test when any secret value occurs in logs, events, objects or metrics (see {@link findLeaks}). */
export async function expectNoLeaks(options: CanaryScanOptions): Promise<void> {
  const leaks = await findLeaks(options);
  expect(leaks, "secret values found (index into the test's canaries)").toEqual([]);
}
