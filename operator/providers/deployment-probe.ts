// What an Azure deployment's answer to a minimal chat completion means (Azure OpenAI and AI Foundry):
// the model behind it, a missing deployment, a non-chat model, or a network rule that keeps us out.
import type OpenAI from "openai";
import { APIError } from "openai";
import { APP_ADDRESSES } from "../../labelstudio/app-addresses.ts";
import { answerText, NULL_BODY_STATUSES } from "../dispatcher-fetch.ts";
import { scrubMessage as scrub } from "../scrub.ts";
import { deploymentAvailability } from "./availability.ts";
import { guardedEndpoint } from "./guarded.ts";
import { errorDetails, failed, failureFromError, parsedOrText } from "./http.ts";
import { sdkRequestOptions } from "./sdk.ts";
import type { ModelCheck, ModelReason, ProviderContext } from "./types.ts";
import { MODEL_REASON } from "./types.ts";

/** Azure's marker and wording for a request refused by the resource's network rules. */
const NETWORK_POLICY_ID = "ThrowExceptionDueToTrafficDenied";
const NETWORK_WORDING =
  /virtual network|firewall rules|private endpoint|public access is disabled|traffic.*denied/i;

/** The smallest useful request: one short user message, so a deployment answers cheaply. */
export const PROBE_MESSAGES = [{ role: "user" as const, content: "Reply with the single word OK." }];

/**
 * A fetch that keeps the body of the last answer (and of the last answer per URL path, for requests sent at
 * once), to validate it with zod or read an error the SDK drops (it keeps only an `error` key). An answer of
 * `dispatcherFetch` (every pinned fetch) comes with its text, and is handed on unread; any other is read once and
 * handed to the SDK as a new Response of the same text, status and headers: a clone would tee the stream, a cost
 * every model check paid twice (the answer is bounded by the pinned pool's maxResponseSize).
 */
export function capturingFetch(base: typeof fetch): {
  fetch: typeof fetch;
  lastBody: () => unknown;
  /** The last answer's body of a request whose URL path ends with `suffix`. */
  bodyOf: (suffix: string) => unknown;
} {
  let body: unknown;
  const byPath = new Map<string, unknown>();
  const wrapped = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const path = URL.parse(input instanceof Request ? input.url : String(input))?.pathname ?? "";
    body = undefined;
    byPath.delete(path);
    const response = await base(input, init);
    // dispatcherFetch (every pinned fetch) kept the text it built the answer from: nothing to read or rebuild.
    const known = answerText(response);
    if (known !== undefined) {
      body = parsedOrText(known);
      byPath.set(path, body);
      return response;
    }
    // A status a Response cannot be built with (a server may send 600-999): read a clone, hand on the original.
    const rebuildable = response.status >= 200 && response.status <= 599;
    const text = await (rebuildable ? response : response.clone()).text();
    body = parsedOrText(text);
    byPath.set(path, body);
    if (!rebuildable) return response;
    // Null-body statuses take no body; the rest get the text back.
    const bodyless = NULL_BODY_STATUSES.has(response.status);
    return new Response(bodyless ? null : text, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }) as typeof fetch;
  const bodyOf = (suffix: string) => {
    for (const [path, value] of byPath) if (path.endsWith(suffix)) return value;
    return undefined;
  };
  return { fetch: wrapped, lastBody: () => body, bodyOf };
}

/** True for Azure's 403 "Access denied due to Virtual Network/Firewall rules." and its siblings. */
export function isNetworkRuleDenial(status: number, headers: Headers | undefined, body: unknown): boolean {
  if (status !== 403) return false;
  if (headers?.get("policy-id") === NETWORK_POLICY_ID) return true;
  return NETWORK_WORDING.test(errorDetails(body).message ?? "");
}

/** Where one deployment lives and how to reach it: what a provider's client is built from. */
export interface DeploymentTarget {
  /** The endpoint after the base-URL rewrite (tests and the sandbox point it at a stand-in). */
  endpoint: string;
  apiKey: string;
  deployment: string;
  /** The guarded fetch, pinned to the address the egress guard allowed. */
  fetch: typeof fetch;
}

/**
 * Checks one Azure deployment (OpenAI or AI Foundry): the key, the endpoint and the deployment must be set,
 * the endpoint (after `rewrite`) must pass the egress guard's default refusals, then the client that `connect`
 * builds on the guarded fetch is probed ({@link probeDeployment}).
 */
export async function checkDeployment(
  ctx: ProviderContext,
  providerName: string,
  rewrite: ((endpoint: string) => string) | undefined,
  connect: (target: DeploymentTarget) => OpenAI,
): Promise<ModelCheck> {
  const { credentials, deployment } = ctx.request;
  if (!credentials.apiKey) return failed("InvalidCredentials", `no ${providerName} API key was given`);
  if (!ctx.request.endpoint || !deployment)
    return failed("Unavailable", `the ${providerName} endpoint or deployment is not set`);
  const endpoint = rewrite?.(ctx.request.endpoint) ?? ctx.request.endpoint;
  const pinned = await guardedEndpoint(ctx, "the endpoint", endpoint, false);
  if ("failure" in pinned) return pinned.failure;
  try {
    const capture = capturingFetch(pinned.fetch);
    const client = connect({ endpoint, apiKey: credentials.apiKey, deployment, fetch: capture.fetch });
    return await probeDeployment(ctx, providerName, deployment, client, capture.lastBody);
  } finally {
    await pinned.close();
  }
}

/**
 * Sends the probe and classifies the answer. 200: the deployment answers (its `model` is the served
 * model). 404 / unknown_model: DeploymentNotFound (credentials valid). 400 OperationNotSupported:
 * NotAChatModel. Another 400: the deployment answered (it exists) but refused the probe. 403 by network
 * rules: NetworkRestricted, naming the app's addresses. Everything else as any provider failure.
 */
export async function probeDeployment(
  ctx: ProviderContext,
  providerName: string,
  deployment: string,
  client: OpenAI,
  lastBody: () => unknown,
): Promise<ModelCheck> {
  const expected = ctx.request.expectedModels ?? [];
  let servedModel: string | undefined;
  try {
    const completion = await client.chat.completions.create(
      { model: deployment, messages: PROBE_MESSAGES },
      sdkRequestOptions(ctx),
    );
    servedModel =
      typeof completion.model === "string" && completion.model !== "" ? completion.model : undefined;
  } catch (error) {
    if (!(error instanceof APIError) || error.status === undefined)
      return failureFromError(ctx, providerName, error);
    const body = lastBody() ?? error.error;
    const { code, message } = errorDetails(body);
    const codeText = code ? ` (${code})` : "";
    if (isNetworkRuleDenial(error.status, error.headers, body)) {
      return failed(
        "NetworkRestricted",
        `${providerName} refused the request by its network rules (HTTP 403): allow the app's addresses ${APP_ADDRESSES.join(", ")} (and the operator's egress address) in the resource's networking settings`,
      );
    }
    const notFound =
      error.status === 404 || (error.status === 400 && /unknown_model|DeploymentNotFound/i.test(code ?? ""));
    if (notFound) {
      return notAvailable(
        deployment,
        MODEL_REASON.DeploymentNotFound,
        expected,
        `${providerName} has no deployment "${deployment}" at this endpoint: HTTP ${error.status}${codeText}`,
      );
    }
    if (error.status === 400 && code === "OperationNotSupported") {
      return notAvailable(
        deployment,
        MODEL_REASON.NotAChatModel,
        expected,
        `the deployment "${deployment}" is not a chat model${codeText}`,
      );
    }
    if (error.status === 400) {
      const said = message ? `: ${scrub(message, ctx.secrets)}` : "";
      return {
        outcome: "Valid",
        message: `the deployment "${deployment}" answers, but refused the probe (HTTP 400${codeText})${said}`,
        ...deploymentAvailability(deployment, true, undefined, expected),
      };
    }
    return failureFromError(ctx, providerName, error);
  }
  return {
    outcome: "Valid",
    message: `the deployment "${deployment}" answers${servedModel ? ` with model ${servedModel}` : ""}`,
    ...(servedModel ? { servedModel } : {}),
    ...deploymentAvailability(deployment, true, servedModel, expected),
  };
}

function notAvailable(
  deployment: string,
  reason: ModelReason,
  expected: readonly string[],
  message: string,
): ModelCheck {
  return { outcome: "Valid", message, ...deploymentAvailability(deployment, reason, undefined, expected) };
}
