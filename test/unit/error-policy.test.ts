// The error policy as a table: which error waits for a change (terminal) and which one the queue retries, with
// the condition reason and message each one gives.
import { describe, expect, it } from "vitest";
import { AppError, type AppErrorKind } from "../../operator/app/errors.ts";
import { ProvisionInputError } from "../../operator/azure/provisioner.ts";
import { REASON, type Reason } from "../../operator/constants.ts";
import { type ErrorVerdict, errorPolicy, isTerminal, TerminalError } from "../../operator/error-policy.ts";

const appError = (kind: AppErrorKind, status?: number, retryAfterMs?: number) =>
  new AppError({
    kind,
    method: "PATCH",
    route: "/api/model-provider-connections/{id}/",
    status,
    detail: "said no",
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });

describe("errorPolicy", () => {
  it.each<[string, unknown, ErrorVerdict["action"], Reason, string]>([
    ["app 401", appError("Unauthorized", 401), "wait", REASON.InvalidToken, "the app rejected the token"],
    ["app 403", appError("Forbidden", 403), "wait", REASON.InsufficientRole, "may not manage connections"],
    ["app 400", appError("Invalid", 400), "wait", REASON.AppRejected, "the app rejected the connection"],
    ["app 3xx", appError("Invalid", 301), "wait", REASON.AppRejected, "the app rejected the connection"],
    ["app 404", appError("NotFound", 404), "wait", REASON.AppRejected, "404"],
    ["app 429", appError("RateLimited", 429), "retry", REASON.AppUnreachable, "the app is unreachable"],
    ["app 503", appError("Unavailable", 503), "retry", REASON.AppUnreachable, "the app is unreachable"],
    ["app network", appError("Network"), "retry", REASON.AppUnreachable, "the app is unreachable"],
    ["app timeout", appError("Timeout"), "retry", REASON.AppUnreachable, "the app is unreachable"],
    ["app bad answer", appError("UnexpectedResponse", 200), "retry", REASON.Reconciling, "reconcile failed"],
    [
      "a TerminalError",
      new TerminalError(REASON.ProvisionFailed, "no Pulumi engine configured"),
      "wait",
      REASON.ProvisionFailed,
      "no Pulumi engine configured",
    ],
    [
      "an invalid provisioning spec",
      new ProvisionInputError(["deployments: at least one"]),
      "wait",
      REASON.ProvisionFailed,
      "invalid Azure OpenAI provisioning spec: deployments: at least one",
    ],
    ["an Error", new Error("boom"), "retry", REASON.Reconciling, "reconcile failed: boom"],
    ["a string", "plain", "retry", REASON.Reconciling, "reconcile failed: plain"],
    ["undefined", undefined, "retry", REASON.Reconciling, "reconcile failed: undefined"],
    ["null", null, "retry", REASON.Reconciling, "reconcile failed: null"],
    // Looking like an app error is not enough: only the client's AppError speaks for the app.
    [
      "a duck-typed 401",
      { kind: "Unauthorized", message: "401" },
      "retry",
      REASON.Reconciling,
      "reconcile failed",
    ],
  ])("%s → %s, %s", (_case, error, action, reason, words) => {
    const verdict = errorPolicy(error);
    expect(verdict).toMatchObject({ action, reason });
    expect(verdict.message).toContain(words);
    expect(isTerminal(error)).toBe(action === "wait");
  });

  it("keeps the app's own words in the message", () => {
    for (const kind of ["Unauthorized", "Forbidden", "Invalid", "NotFound", "Unavailable"] as const) {
      expect(errorPolicy(appError(kind)).message).toContain("said no");
    }
  });

  it("carries the app's Retry-After to the queue, and only when it sent one", () => {
    expect(errorPolicy(appError("RateLimited", 429, 120_000))).toMatchObject({
      action: "retry",
      retryAfterMs: 120_000,
    });
    expect(errorPolicy(appError("Unavailable", 503))).not.toHaveProperty("retryAfterMs");
  });
});
