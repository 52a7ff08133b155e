// Error text fit for a condition message: what went wrong, without what differs on every try (response headers
// with their dates and audit ids), so an unchanged failure writes an unchanged status.

const MAX_LENGTH = 1024;

/**
 * A message for `error` that is the same each time the same failure happens. A Kubernetes API error (the
 * operator's KubeApiError, or client-node's ApiException) becomes its code and the Status reason and message from
 * the body; its headers (date, audit-id) never appear.
 */
export function stableMessage(error: unknown): string {
  if (isApiError(error)) {
    const body = parseBody(error.body);
    const reason = typeof body?.reason === "string" && body.reason !== "" ? ` ${body.reason}` : "";
    const detail = typeof body?.message === "string" && body.message !== "" ? `: ${body.message}` : "";
    return truncate(`the Kubernetes API answered ${error.code}${reason}${detail}`);
  }
  const message = (error as { message?: unknown } | null)?.message;
  return truncate(typeof message === "string" ? message : String(error));
}

/** An API server answer: an Error with a numeric HTTP `code` and the response `body`. */
function isApiError(error: unknown): error is Error & { code: number; body: unknown } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "number" && "body" in error;
}

function parseBody(body: unknown): { reason?: unknown; message?: unknown } | undefined {
  if (typeof body === "string") {
    try {
      return JSON.parse(body) as { reason?: unknown; message?: unknown };
    } catch {
      return undefined;
    }
  }
  return body && typeof body === "object" ? (body as { reason?: unknown; message?: unknown }) : undefined;
}

function truncate(text: string): string {
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH - 1)}…` : text;
}
