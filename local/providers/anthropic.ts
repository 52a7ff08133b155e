// A stand-in for the Anthropic API: GET /v1/models with x-api-key and anthropic-version, paginated with
// has_more / after_id, listing dated model ids (the `-latest` aliases are not listed, as on the real API).
import {
  type Answer,
  type CommonBehaviour,
  type RecordedRequest,
  type StandIn,
  startStandIn,
} from "./stand-in.ts";

export interface AnthropicBehaviour extends CommonBehaviour {
  keys: string[];
  /** Model ids, newest first as the API lists them. */
  models: string[];
  /** The server's page size limit. @default 20 */
  pageSize?: number;
}

export const DEFAULT_ANTHROPIC_BEHAVIOUR: AnthropicBehaviour = {
  keys: ["sk-ant-test-valid-key"],
  models: [
    "claude-3-7-sonnet-20250219",
    "claude-3-5-sonnet-20241022",
    "claude-3-5-haiku-20241022",
    "claude-3-opus-20240229",
  ],
};

export function startAnthropicStandIn(
  options: { host?: string; port?: number } = {},
  behaviour: Partial<AnthropicBehaviour> = {},
): Promise<StandIn<AnthropicBehaviour>> {
  return startStandIn(options, { ...DEFAULT_ANTHROPIC_BEHAVIOUR, ...behaviour }, route);
}

const error = (status: number, type: string, message: string): Answer => ({
  status,
  body: { type: "error", error: { type, message } },
});

function route(request: RecordedRequest, b: AnthropicBehaviour): Answer {
  if (request.method !== "GET" || request.path !== "/v1/models")
    return error(404, "not_found_error", "Not found");
  if (!request.headers["anthropic-version"])
    return error(400, "invalid_request_error", "anthropic-version: header is required");
  const key = request.headers["x-api-key"];
  if (!key || !b.keys.includes(key)) return error(401, "authentication_error", "invalid x-api-key");
  const limit = Math.min(Number(request.query.get("limit") ?? 20) || 20, b.pageSize ?? 20);
  const afterId = request.query.get("after_id");
  const start = afterId ? b.models.indexOf(afterId) + 1 : 0;
  if (afterId && start === 0) return error(400, "invalid_request_error", "after_id: unknown model id");
  const page = b.models.slice(start, start + limit);
  return {
    status: 200,
    body: {
      data: page.map((id) => ({ type: "model", id, display_name: id, created_at: "2025-02-19T00:00:00Z" })),
      has_more: start + limit < b.models.length,
      first_id: page[0] ?? null,
      last_id: page.at(-1) ?? null,
    },
  };
}
