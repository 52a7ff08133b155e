// Condition messages are stable: a Kubernetes API error's headers (date, audit-id) never reach them.
import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { errorPolicy } from "../../operator/error-policy.ts";
import { stableMessage } from "../../operator/reconcile/stable-message.ts";

const forbidden = (auditId: string, date: string) =>
  new ApiException(
    403,
    "Forbidden",
    JSON.stringify({
      kind: "Status",
      status: "Failure",
      reason: "Forbidden",
      message: "unable to create new content in namespace ml because it is being terminated",
      code: 403,
    }),
    { "audit-id": auditId, date, "content-type": "application/json" },
  );

describe("stableMessage", () => {
  it("keeps the code, reason and message of a Kubernetes API error, and none of its headers", () => {
    const message = stableMessage(forbidden("4f1c", "Tue, 01 Dec 2026 15:00:00 GMT"));
    expect(message).toBe(
      "the Kubernetes API answered 403 Forbidden: unable to create new content in namespace ml because it is being terminated",
    );
    expect(message).not.toMatch(/audit-id|4f1c|GMT|Headers|HTTP-Code/);
  });

  it("is the same for the same failure whatever the response's date and audit id", () => {
    const first = errorPolicy(forbidden("a1", "Tue, 01 Dec 2026 15:00:00 GMT"));
    const again = errorPolicy(forbidden("b2", "Tue, 01 Dec 2026 15:00:07 GMT"));
    expect(again).toEqual(first);
  });

  it("takes an error's own message otherwise, cut to a condition-friendly length", () => {
    expect(stableMessage(new Error("boom"))).toBe("boom");
    expect(stableMessage({ message: "plain" })).toBe("plain");
    expect(stableMessage("x".repeat(5000))).toHaveLength(1024);
  });
});
