// Vertex AI: a service-account key is exchanged for an access token (google-auth-library JWT), then each
// catalogue model is probed in the project and location: 200 available, 404 NotInLocation, 403 PermissionDenied.
import { gaxios, JWT } from "google-auth-library";
import { z } from "zod";
import { validListing } from "./availability.ts";
import { supportedModels } from "./catalogue.ts";
import { guardedEndpoint } from "./guarded.ts";
import { callSignal, errorCode, failed, failureFromError, failureFromStatus, send } from "./http.ts";
import type { ModelCheck, ModelReason, ProviderContext } from "./types.ts";
import { MODEL_REASON } from "./types.ts";

export const VERTEX_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
export const DEFAULT_LOCATION = "us-central1";
/** The token URL google-auth-library posts to; a key's own token_uri replaces it. */
const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";

/** The default regional endpoint; "global" has no regional host. */
export function vertexBaseUrl(location: string): string {
  return location === "global"
    ? "https://aiplatform.googleapis.com/v1"
    : `https://${location}-aiplatform.googleapis.com/v1`;
}

/** The fields of a service-account key file that a check needs. */
export const ServiceAccountKey = z.object({
  type: z.literal("service_account"),
  client_email: z.string().min(3).max(320).includes("@"),
  private_key: z.string().includes("PRIVATE KEY"),
  private_key_id: z.string().max(128).optional(),
  project_id: z.string().max(128).optional(),
  token_uri: z.url({ protocol: /^https?$/ }).optional(),
});
export type ServiceAccountKey = z.infer<typeof ServiceAccountKey>;

/** Project ids (also domain-scoped `example.com:proj`) and locations go into a URL path: keep them plain. */
const PROJECT = /^[a-z][a-z0-9.:-]{3,127}$/;
const LOCATION = /^[a-z][a-z0-9-]{1,62}$/;

/** One probe's verdict: a per-model reach, or a failure that ends the whole check. */
type Probe = { reach: true | ModelReason; status: number } | { failure: ModelCheck };

/**
 * Exchanges the key for a token and probes each catalogue model (not expected models the app does not
 * support) in the project (spec, else the key's project_id) and location (spec, else us-central1).
 * When every probe is 403 the service account is treated as lacking access (InvalidCredentials).
 */
export async function checkVertex(ctx: ProviderContext): Promise<ModelCheck> {
  const raw = ctx.request.credentials.credentialsJson;
  const key = parseKey(raw);
  if ("failure" in key) return key.failure;
  const project = ctx.request.projectId ?? key.sa.project_id;
  const location = ctx.request.location ?? DEFAULT_LOCATION;
  if (!project)
    return failed("InvalidCredentials", "no project: set vertexAI.projectId or use a key with project_id");
  if (!PROJECT.test(project))
    return failed("InvalidCredentials", `the project id "${project}" is not a valid project id`);
  if (!LOCATION.test(location))
    return failed("InvalidCredentials", `the location "${location}" is not a valid location`);
  ctx.secrets.push(key.sa.private_key);

  const token = await accessToken(ctx, key.sa);
  if ("failure" in token) return token.failure;
  ctx.secrets.push(token.value);

  const supported = supportedModels(ctx.catalogue, "VertexAI") ?? [];
  const base = (ctx.baseUrls.vertex ?? vertexBaseUrl)(location).replace(/\/+$/, "");
  const probes = await Promise.all(
    supported.map((model) =>
      probe(
        ctx,
        `${base}/projects/${project}/locations/${location}/publishers/google/models/${model}`,
        token.value,
      ),
    ),
  );
  const failure = pickFailure(probes);
  if (failure) return failure;
  const reach = new Map(
    supported.map((model, i) => [model, (probes[i] as { reach: true | ModelReason }).reach]),
  );
  if (supported.length > 0 && [...reach.values()].every((r) => r === MODEL_REASON.PermissionDenied)) {
    return failed(
      "InvalidCredentials",
      `the service account may use no Vertex AI model in project ${project} (HTTP 403): grant it roles/aiplatform.user and enable the Vertex AI API`,
    );
  }
  return validListing(
    ctx,
    supported,
    (name) => reach.get(name) ?? MODEL_REASON.NotListed,
    (count) =>
      `the service account reaches ${count} supported Vertex AI model(s) in project ${project}, location ${location}`,
  );
}

function parseKey(raw: string | undefined): { sa: ServiceAccountKey } | { failure: ModelCheck } {
  if (!raw) return { failure: failed("InvalidCredentials", "no service-account JSON was given") };
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return {
      failure: failed(
        "InvalidCredentials",
        "the credentials are not JSON (expected a service-account key file)",
      ),
    };
  }
  const parsed = ServiceAccountKey.safeParse(data);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join(".") || "(root)"))].join(", ");
    return {
      failure: failed("InvalidCredentials", `the credentials are not a service-account key: check ${fields}`),
    };
  }
  return { sa: parsed.data };
}

/** The JWT-bearer grant against the key's token_uri (guarded and pinned when it is not Google's). */
async function accessToken(
  ctx: ProviderContext,
  sa: ServiceAccountKey,
): Promise<{ value: string } | { failure: ModelCheck }> {
  const tokenUri = sa.token_uri ?? GOOGLE_TOKEN_URL;
  let fetchImpl: typeof fetch | undefined;
  let close = async () => {};
  if (!isGoogleHost(tokenUri)) {
    const pinned = await guardedEndpoint(ctx, "the key's token_uri", tokenUri, false);
    if ("failure" in pinned) return pinned;
    fetchImpl = pinned.fetch;
    close = pinned.close;
  }
  const transporter = new gaxios.Gaxios({ fetchImplementation: fetchImpl ?? ctx.egress.fetch });
  transporter.interceptors.request.add({
    resolved: async (config) => {
      if (String(config.url) === GOOGLE_TOKEN_URL) config.url = new URL(tokenUri);
      // No retries: the library retries token POSTs three times; the reconciler backs off instead.
      config.retryConfig = { ...config.retryConfig, retry: 0, noResponseRetries: 0 };
      config.retry = false;
      config.signal = callSignal(ctx);
      return config;
    },
  });
  const client = new JWT({
    email: sa.client_email,
    key: sa.private_key,
    ...(sa.private_key_id ? { keyId: sa.private_key_id } : {}),
    scopes: [VERTEX_SCOPE],
    transporter,
  });
  try {
    const { token } = await client.getAccessToken();
    if (!token) return { failure: failed("Unavailable", "the token endpoint answered no access token") };
    return { value: token };
  } catch (error) {
    return { failure: tokenFailure(ctx, error) };
  } finally {
    await close();
  }
}

function tokenFailure(ctx: ProviderContext, error: unknown): ModelCheck {
  if (error instanceof gaxios.GaxiosError && error.response) {
    const data = error.response.data as { error?: unknown } | undefined;
    const code = errorCode(data?.error);
    const status = error.response.status;
    if (status === 400 || status === 401 || status === 403) {
      return failed(
        "InvalidCredentials",
        `the token endpoint rejected the service account: HTTP ${status}${code ? ` (${code})` : ""}`,
      );
    }
    return failureFromStatus(ctx, "the Vertex AI token endpoint", {
      status,
      headers: error.response.headers,
      body: data,
    });
  }
  const cause = error instanceof gaxios.GaxiosError ? (error.cause ?? error) : error;
  if (
    cause instanceof Error &&
    /DECODER|PEM|key/i.test(cause.message) &&
    !(error instanceof gaxios.GaxiosError)
  ) {
    return failed("InvalidCredentials", "the service account's private_key cannot sign a token");
  }
  return failureFromError(ctx, "the Vertex AI token endpoint", cause);
}

async function probe(ctx: ProviderContext, url: string, token: string): Promise<Probe> {
  let answer: Awaited<ReturnType<typeof send>>;
  try {
    answer = await send(ctx, url, {
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
    });
  } catch (error) {
    return { failure: failureFromError(ctx, "Vertex AI", error) };
  }
  if (answer.status === 200) return { reach: true, status: 200 };
  if (answer.status === 404) return { reach: MODEL_REASON.NotInLocation, status: 404 };
  if (answer.status === 403) return { reach: MODEL_REASON.PermissionDenied, status: 403 };
  return { failure: failureFromStatus(ctx, "Vertex AI", answer) };
}

/** The failure that decides the check: a credential rejection first, then rate limiting, then the rest. */
function pickFailure(probes: Probe[]): ModelCheck | undefined {
  const failures = probes.flatMap((p) => ("failure" in p ? [p.failure] : []));
  const order = ["InvalidCredentials", "EgressDenied", "RateLimited", "Unavailable"];
  return failures.sort((a, b) => order.indexOf(a.outcome) - order.indexOf(b.outcome))[0];
}

function isGoogleHost(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return url.startsWith("https://") && (host.endsWith(".googleapis.com") || host === "accounts.google.com");
  } catch {
    return false;
  }
}
