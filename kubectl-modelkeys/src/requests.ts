// refresh, sync, rotate, release: each sets the annotation the operator reads, and --wait watches status until the
// operator has acted on that very value (or the timeout passes, with the connection's Ready reason).
import { ANNOTATIONS, type ProviderConnection, readiness } from "../../crds/index.ts";
import type { Cluster } from "./kube.ts";

/** The annotation each verb sets. */
export const REQUEST_ANNOTATIONS = {
  refresh: ANNOTATIONS.refreshRequestedAt,
  sync: ANNOTATIONS.syncRequestedAt,
  rotate: ANNOTATIONS.rotateKeyRequestedAt,
  release: ANNOTATIONS.releaseFinalizer,
} as const;
export type RequestVerb = keyof typeof REQUEST_ANNOTATIONS;

/** A request the plugin cannot make (usage: exit 2). */
export class RequestRefused extends Error {}

/** What waiting found. */
export type WaitResult = { done: true; message: string } | { done: false; message: string };

/** Whether the operator has acted on `value` of the verb's annotation; the message says what it did. */
export function acted(verb: RequestVerb, value: string, c: ProviderConnection | undefined): WaitResult {
  if (verb === "release") {
    return c === undefined
      ? { done: true, message: "released: the connection is gone and the app was not touched" }
      : { done: false, message: notYet(c) };
  }
  if (c === undefined) return { done: false, message: "the connection is gone" };
  const status = c.status ?? {};
  if (verb === "refresh" && status.refreshRequestedAt === value) {
    const available = status.models?.filter((m) => m.available).length ?? 0;
    return {
      done: true,
      message: `models checked at ${status.modelsCheckedTime ?? "?"}: ${available} available`,
    };
  }
  if (verb === "sync" && status.syncRequestedAt === value)
    return { done: true, message: `synced: app record ${status.appConnectionId} and its key written again` };
  return { done: false, message: notYet(c) };
}

function notYet(c: ProviderConnection): string {
  const ready = readiness(c);
  return `not yet; Ready=${ready.status} (${ready.reason})${ready.message ? `: ${ready.message}` : ""}`;
}

/** Sets the annotation for `verb` on the connection; returns the value to wait for. */
export async function request(
  cluster: Cluster,
  verb: RequestVerb,
  namespace: string,
  name: string,
  now: Date,
): Promise<string> {
  const connection = await cluster.getConnection(namespace, name);
  if (!connection) throw new RequestRefused(`ProviderConnection ${namespace}/${name} not found`);
  if (verb === "rotate") {
    const account = connection.spec.azure?.provision?.accountRef.name;
    // The keys of a provisioned connection are its AzureOpenAIAccount's, shared by every connection of it.
    throw new RequestRefused(
      account
        ? `${name}'s key belongs to its AzureOpenAIAccount ${account}, shared by its connections: kubectl annotate azureopenaiaccount ${account} -n ${namespace} --overwrite ${REQUEST_ANNOTATIONS.rotate}=${now.toISOString()}`
        : `rotate is for provisioned Azure OpenAI connections (spec.azure.provision); rotate ${name}'s key by putting a new one in its Secret`,
    );
  }
  const value = verb === "release" ? "true" : now.toISOString();
  await cluster.annotateConnection(namespace, name, { [REQUEST_ANNOTATIONS[verb]]: value });
  return value;
}

/** Polls until the operator acted or `timeoutMs` passed. */
export async function waitForAction(
  cluster: Cluster,
  verb: RequestVerb,
  namespace: string,
  name: string,
  value: string,
  timeoutMs: number,
  pollMs = 500,
): Promise<WaitResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = acted(verb, value, await cluster.getConnection(namespace, name));
    if (result.done || Date.now() >= deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
