// A stand-in for OpenAI-format servers: OpenAI itself and Custom endpoints (/v1/models, /v1/chat/completions),
// Azure OpenAI deployments (/openai/deployments/{d}/chat/completions) and Azure AI Foundry (/models/chat/completions).
import {
  type Answer,
  bearer,
  type CommonBehaviour,
  maskedKey,
  type RecordedRequest,
  type StandIn,
  startStandIn,
} from "./stand-in.ts";

/** An Azure / Foundry deployment: the model behind it, and whether it is a chat model. */
export interface StandInDeployment {
  model: string;
  kind?: "chat" | "embeddings";
}

export interface OpenAIBehaviour extends CommonBehaviour {
  /** Keys accepted as `Authorization: Bearer` (and as Azure's `api-key`). */
  keys: string[];
  /** What GET /v1/models lists; also the models /v1/chat/completions knows. */
  models: string[];
  /** Custom servers: JSON mode answered as JSON, ignored (plain text content), or refused with 400. */
  jsonMode: "supported" | "plain-text" | "rejected";
  /** GET /v1/models answers 404 (a server that is not OpenAI-compatible). @default false */
  noModelsEndpoint?: boolean;
  /** Accept requests without any credential. @default false */
  open?: boolean;
  /** Azure OpenAI and Foundry deployments by name. */
  deployments: Record<string, StandInDeployment>;
  /** Azure: every deployment request is refused by network rules (403). @default false */
  networkRestricted?: boolean;
}

export const DEFAULT_OPENAI_BEHAVIOUR: OpenAIBehaviour = {
  keys: ["sk-test-valid-key"],
  models: ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "o1", "text-embedding-3-small", "dall-e-3"],
  jsonMode: "supported",
  deployments: { "chat-4o": { model: "gpt-4o-2024-11-20" } },
};

/** Starts the stand-in; `behaviour` overrides the defaults. */
export function startOpenAIStandIn(
  options: { host?: string; port?: number } = {},
  behaviour: Partial<OpenAIBehaviour> = {},
): Promise<StandIn<OpenAIBehaviour>> {
  return startStandIn(options, { ...DEFAULT_OPENAI_BEHAVIOUR, ...behaviour }, route);
}

function route(request: RecordedRequest, b: OpenAIBehaviour): Answer {
  const { method, path } = request;
  const azure = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(path);
  if (method === "POST" && azure) return azureChat(request, b, decodeURIComponent(azure[1] as string));
  if (method === "POST" && path === "/models/chat/completions") return foundryChat(request, b);
  if (method === "GET" && path === "/v1/models") return listModels(request, b);
  if (method === "POST" && path === "/v1/chat/completions") return chat(request, b);
  return {
    status: 404,
    body: {
      error: {
        message: `Unknown request URL: ${method} ${path}`,
        type: "invalid_request_error",
        code: "unknown_url",
      },
    },
  };
}

/** OpenAI's 401, echoing the masked key the way the real service does (clients must scrub it). */
function unauthorized(request: RecordedRequest): Answer {
  const key = bearer(request);
  const message = key
    ? `Incorrect API key provided: ${maskedKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`
    : "You didn't provide an API key.";
  return {
    status: 401,
    body: { error: { message, type: "invalid_request_error", param: null, code: "invalid_api_key" } },
  };
}

function authorised(request: RecordedRequest, b: OpenAIBehaviour): boolean {
  if (b.open) return true;
  const key = bearer(request) ?? request.headers["api-key"];
  return key !== undefined && b.keys.includes(key);
}

function listModels(request: RecordedRequest, b: OpenAIBehaviour): Answer {
  if (!authorised(request, b)) return unauthorized(request);
  if (b.noModelsEndpoint) return { status: 404, body: "404 page not found" };
  const data = b.models.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "system" }));
  return { status: 200, body: { object: "list", data } };
}

function chat(request: RecordedRequest, b: OpenAIBehaviour): Answer {
  if (!authorised(request, b)) return unauthorized(request);
  const body = (request.body ?? {}) as { model?: string; response_format?: { type?: string } };
  if (!body.model || !b.models.includes(body.model)) {
    return {
      status: 404,
      body: {
        error: {
          message: `The model \`${body.model}\` does not exist or you do not have access to it.`,
          type: "invalid_request_error",
          code: "model_not_found",
        },
      },
    };
  }
  const wantsJson = body.response_format?.type === "json_object";
  if (wantsJson && b.jsonMode === "rejected") {
    return {
      status: 400,
      body: {
        error: {
          message: "response_format is not supported by this server",
          type: "invalid_request_error",
          param: "response_format",
          code: null,
        },
      },
    };
  }
  const content = wantsJson && b.jsonMode === "supported" ? '{"ok": true}' : "Sure! Here you go: ok";
  return { status: 200, body: completion(body.model, content) };
}

function azureChat(request: RecordedRequest, b: OpenAIBehaviour, deployment: string): Answer {
  if (!request.query.get("api-version")) {
    return { status: 404, body: { error: { code: "404", message: "Resource not found" } } };
  }
  if (b.networkRestricted) return networkDenied();
  const key = request.headers["api-key"];
  if (!key || !b.keys.includes(key)) {
    return {
      status: 401,
      body: {
        error: {
          code: "401",
          message:
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
        },
      },
    };
  }
  const found = b.deployments[deployment];
  if (!found) {
    return {
      status: 404,
      body: {
        error: {
          code: "DeploymentNotFound",
          message:
            "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
        },
      },
    };
  }
  if (found.kind === "embeddings") {
    return {
      status: 400,
      body: {
        error: {
          code: "OperationNotSupported",
          message: `The chatCompletion operation does not work with the specified model, ${found.model}. Please choose different model and try again.`,
        },
      },
    };
  }
  return { status: 200, body: completion(found.model, "OK") };
}

function foundryChat(request: RecordedRequest, b: OpenAIBehaviour): Answer {
  if (b.networkRestricted) return networkDenied();
  const key = request.headers["api-key"] ?? bearer(request);
  if (!key || !b.keys.includes(key)) {
    return {
      status: 401,
      body: {
        error: {
          code: "401",
          message: "Access denied due to invalid subscription key or wrong API endpoint.",
        },
      },
    };
  }
  const name = (request.body as { model?: string } | undefined)?.model ?? "";
  const found = b.deployments[name];
  if (!found)
    return {
      status: 400,
      body: {
        error: {
          code: "unknown_model",
          message: `Unknown model: ${name}`,
          details: `Unknown model: ${name}`,
        },
      },
    };
  return { status: 200, body: completion(found.model, "OK") };
}

/** Azure's answer when the caller's address is not allowed by the resource's network rules. */
function networkDenied(): Answer {
  return {
    status: 403,
    headers: { "policy-id": "ThrowExceptionDueToTrafficDenied" },
    body: { error: { code: "403", message: "Access denied due to Virtual Network/Firewall rules." } },
  };
}

function completion(model: string, content: string) {
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2, 10)}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
  };
}
