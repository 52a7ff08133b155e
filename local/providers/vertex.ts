// A stand-in for Vertex AI: an OAuth2 token endpoint for the JWT-bearer grant (the assertion's RS256
// signature is verified against the service account's public key) and the publisher-model GET per location.
import { createPublicKey, generateKeyPairSync, randomBytes, verify } from "node:crypto";
import {
  type Answer,
  bearer,
  type CommonBehaviour,
  type RecordedRequest,
  type StandIn,
  startStandIn,
} from "./stand-in.ts";

/** A service account the token endpoint knows: its public key and the projects it may use. */
export interface StandInServiceAccount {
  publicKeyPem: string;
  projects: string[];
}

export interface VertexBehaviour extends CommonBehaviour {
  /** By client_email. */
  serviceAccounts: Record<string, StandInServiceAccount>;
  /** The publisher models each location serves. */
  locations: Record<string, string[]>;
  /** Models that answer 403 even in an allowed project. @default [] */
  deniedModels?: string[];
  /** Lifetime of issued access tokens. @default 3600 */
  tokenTtlSeconds?: number;
}

export const DEFAULT_VERTEX_BEHAVIOUR: VertexBehaviour = {
  serviceAccounts: {},
  locations: {
    "us-central1": [
      "gemini-2.5-pro-preview-03-25",
      "gemini-2.0-flash",
      "gemini-2.0-flash-lite",
      "gemini-1.5-flash",
      "gemini-1.5-pro",
    ],
    "europe-west4": ["gemini-2.0-flash", "gemini-1.5-pro"],
  },
};

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";
const MODEL_PATH = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/]+)$/;

/** The stand-in plus a way to mint service accounts it trusts. */
export interface VertexStandIn extends StandIn<VertexBehaviour> {
  /** The token endpoint, for a key file's token_uri. */
  tokenUri: string;
  /** Creates a key pair, registers the account for `projects`, and returns its key-file JSON. */
  createServiceAccount(options: {
    projectId: string;
    email?: string;
    projects?: string[];
  }): ServiceAccountFile;
}

export interface ServiceAccountFile {
  email: string;
  /** The key file's content, as a Secret would hold it. */
  json: string;
}

/** A throwaway service-account key file (RSA 2048) pointing at `tokenUri`, and its public key. */
export function createServiceAccountKey(options: {
  projectId: string;
  email?: string;
  tokenUri: string;
}): ServiceAccountFile & { publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const email =
    options.email ?? `checker-${randomBytes(3).toString("hex")}@${options.projectId}.iam.gserviceaccount.com`;
  const json = JSON.stringify({
    type: "service_account",
    project_id: options.projectId,
    private_key_id: randomBytes(20).toString("hex"),
    private_key: privateKey,
    client_email: email,
    client_id: String(100000000000000000000n + BigInt(randomBytes(4).readUInt32BE())),
    auth_uri: "https://accounts.google.com/o/oauth2/auth",
    token_uri: options.tokenUri,
  });
  return { email, json, publicKeyPem: publicKey };
}

export async function startVertexStandIn(
  options: { host?: string; port?: number } = {},
  behaviour: Partial<VertexBehaviour> = {},
): Promise<VertexStandIn> {
  const tokens = new Map<string, { email: string; expiresAt: number }>();
  const standIn = await startStandIn(
    options,
    { ...DEFAULT_VERTEX_BEHAVIOUR, ...behaviour },
    (request, b, self) => {
      if (request.method === "POST" && request.path === "/token") return token(request, b, self.url, tokens);
      const model = MODEL_PATH.exec(request.path);
      if (request.method === "GET" && model) {
        const [, project, location, name] = model.map((part) => decodeURIComponent(part)) as [
          string,
          string,
          string,
          string,
        ];
        return publisherModel(request, b, tokens, project, location, name);
      }
      return googleError(404, "NOT_FOUND", "The requested URL was not found on this server.");
    },
  );
  const tokenUri = `${standIn.url}/token`;
  return Object.assign(standIn, {
    tokenUri,
    createServiceAccount(o: { projectId: string; email?: string; projects?: string[] }) {
      const key = createServiceAccountKey({
        projectId: o.projectId,
        tokenUri,
        ...(o.email ? { email: o.email } : {}),
      });
      standIn.set({
        serviceAccounts: {
          ...standIn.behaviour.serviceAccounts,
          [key.email]: { publicKeyPem: key.publicKeyPem, projects: o.projects ?? [o.projectId] },
        },
      });
      return { email: key.email, json: key.json };
    },
  });
}

function token(
  request: RecordedRequest,
  b: VertexBehaviour,
  url: string,
  tokens: Map<string, { email: string; expiresAt: number }>,
): Answer {
  const form = (request.body ?? {}) as Record<string, string>;
  if (form.grant_type !== JWT_BEARER) return oauthError("unsupported_grant_type", "Invalid grant_type");
  const parts = (form.assertion ?? "").split(".");
  if (parts.length !== 3) return oauthError("invalid_grant", "Invalid JWT: malformed assertion");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let header: { alg?: string };
  let claims: { iss?: string; scope?: string; aud?: string; exp?: number; iat?: number };
  try {
    header = JSON.parse(Buffer.from(headerPart, "base64url").toString("utf8"));
    claims = JSON.parse(Buffer.from(payloadPart, "base64url").toString("utf8"));
  } catch {
    return oauthError("invalid_grant", "Invalid JWT: not JSON");
  }
  if (header.alg !== "RS256") return oauthError("invalid_grant", "Invalid JWT: alg must be RS256");
  const account = claims.iss ? b.serviceAccounts[claims.iss] : undefined;
  if (!account) return oauthError("invalid_grant", "Invalid grant: account not found");
  const signed = verify(
    "RSA-SHA256",
    Buffer.from(`${headerPart}.${payloadPart}`),
    createPublicKey(account.publicKeyPem),
    Buffer.from(signaturePart, "base64url"),
  );
  if (!signed) return oauthError("invalid_grant", "Invalid JWT Signature.");
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== "number" || claims.exp <= now || (claims.iat ?? 0) > now + 300) {
    return oauthError(
      "invalid_grant",
      "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe",
    );
  }
  const audiences = ["https://oauth2.googleapis.com/token", `${url}/token`];
  if (!claims.aud || !audiences.includes(claims.aud))
    return oauthError("invalid_grant", "Invalid JWT: audience");
  if (!(claims.scope ?? "").split(" ").includes(CLOUD_PLATFORM))
    return oauthError("invalid_scope", "Invalid OAuth scope");
  const ttl = b.tokenTtlSeconds ?? 3600;
  const accessToken = `ya29.standin-${randomBytes(24).toString("base64url")}`;
  tokens.set(accessToken, { email: claims.iss as string, expiresAt: now + ttl });
  return { status: 200, body: { access_token: accessToken, expires_in: ttl, token_type: "Bearer" } };
}

function publisherModel(
  request: RecordedRequest,
  b: VertexBehaviour,
  tokens: Map<string, { email: string; expiresAt: number }>,
  project: string,
  location: string,
  model: string,
): Answer {
  const grant = tokens.get(bearer(request) ?? "");
  if (!grant || grant.expiresAt <= Date.now() / 1000) {
    return googleError(
      401,
      "UNAUTHENTICATED",
      "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
    );
  }
  const account = b.serviceAccounts[grant.email];
  if (!account?.projects.includes(project) || b.deniedModels?.includes(model)) {
    return googleError(
      403,
      "PERMISSION_DENIED",
      `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/${project}/locations/${location}/publishers/google/models/${model}' (or it may not exist).`,
    );
  }
  if (!b.locations[location]?.includes(model)) {
    return googleError(
      404,
      "NOT_FOUND",
      `Publisher Model \`projects/${project}/locations/${location}/publishers/google/models/${model}\` not found.`,
    );
  }
  return {
    status: 200,
    body: {
      name: `publishers/google/models/${model}`,
      versionId: "001",
      launchStage: "GA",
      openSourceCategory: "PROPRIETARY",
    },
  };
}

function oauthError(error: string, description: string): Answer {
  return { status: 400, body: { error, error_description: description } };
}

function googleError(code: number, status: string, message: string): Answer {
  return { status: code, body: { error: { code, message, status } } };
}
