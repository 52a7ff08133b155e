// A stand-in for the Gemini API (Google AI Studio keys): GET /v1beta/models, paginated with pageToken,
// a bad key answered 400 API_KEY_INVALID (or 403) as Google does.
import {
  type Answer,
  type CommonBehaviour,
  type RecordedRequest,
  type StandIn,
  startStandIn,
} from "./stand-in.ts";

export interface GeminiBehaviour extends CommonBehaviour {
  /** Keys accepted in `x-goog-api-key` (or `?key=`). */
  keys: string[];
  /** Model ids without the `models/` prefix. */
  models: string[];
  /** The server's page size limit; the client's pageSize is capped by it. @default 50 */
  pageSize?: number;
  /** How a bad key is answered. @default "400" (INVALID_ARGUMENT, API_KEY_INVALID) */
  invalidKey?: "400" | "403";
}

export const DEFAULT_GEMINI_BEHAVIOUR: GeminiBehaviour = {
  keys: ["AIza-test-valid-key"],
  models: [
    "gemini-2.0-flash",
    "gemini-2.0-flash-lite",
    "gemini-1.5-pro",
    "gemini-1.5-flash",
    "text-embedding-004",
  ],
};

export function startGeminiStandIn(
  options: { host?: string; port?: number } = {},
  behaviour: Partial<GeminiBehaviour> = {},
): Promise<StandIn<GeminiBehaviour>> {
  return startStandIn(options, { ...DEFAULT_GEMINI_BEHAVIOUR, ...behaviour }, route);
}

function route(request: RecordedRequest, b: GeminiBehaviour): Answer {
  if (request.method !== "GET" || request.path !== "/v1beta/models") {
    return { status: 404, body: { error: { code: 404, message: "Not found", status: "NOT_FOUND" } } };
  }
  const key = request.headers["x-goog-api-key"] ?? request.query.get("key") ?? undefined;
  if (!key || !b.keys.includes(key)) return invalidKey(b);
  const limit = Math.min(Number(request.query.get("pageSize") ?? 50) || 50, b.pageSize ?? 50);
  const token = request.query.get("pageToken");
  const offset = token
    ? Number(
        Buffer.from(token, "base64url")
          .toString("utf8")
          .replace(/^offset:/, ""),
      )
    : 0;
  if (!Number.isInteger(offset) || offset < 0 || offset > b.models.length) {
    return {
      status: 400,
      body: { error: { code: 400, message: "Invalid page token.", status: "INVALID_ARGUMENT" } },
    };
  }
  const page = b.models.slice(offset, offset + limit);
  const next =
    offset + limit < b.models.length
      ? Buffer.from(`offset:${offset + limit}`).toString("base64url")
      : undefined;
  return {
    status: 200,
    body: {
      models: page.map((id) => ({
        name: `models/${id}`,
        version: "001",
        displayName: id,
        supportedGenerationMethods: id.includes("embedding")
          ? ["embedContent"]
          : ["generateContent", "countTokens"],
      })),
      ...(next ? { nextPageToken: next } : {}),
    },
  };
}

function invalidKey(b: GeminiBehaviour): Answer {
  if (b.invalidKey === "403") {
    return {
      status: 403,
      body: {
        error: {
          code: 403,
          message:
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
          status: "PERMISSION_DENIED",
        },
      },
    };
  }
  return {
    status: 400,
    body: {
      error: {
        code: 400,
        message: "API key not valid. Please pass a valid API key.",
        status: "INVALID_ARGUMENT",
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "API_KEY_INVALID",
            domain: "googleapis.com",
            metadata: { service: "generativelanguage.googleapis.com" },
          },
        ],
      },
    },
  };
}
