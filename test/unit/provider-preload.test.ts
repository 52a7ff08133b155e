// A start loads the providers its connections use ahead of their first check (providers/index.ts loadChecker,
// ModelChecker.prepare): every provider's module loads on its own, and a check after a preload still answers.
import { describe, expect, it } from "vitest";
import { PROVIDERS } from "../../crds/providerconnection.ts";
import { createLogger } from "../../operator/log.ts";
import { createMetrics } from "../../operator/metrics.ts";
import { createModelChecker } from "../../operator/model-checker.ts";
import { loadChecker } from "../../operator/providers/index.ts";

describe("loading a provider's checks ahead of its first check", () => {
  it.each(PROVIDERS)("loads %s's module on its own", async (provider) => {
    await expect(loadChecker(provider)).resolves.toBeUndefined();
  });

  it("leaves the checker answering as before (a preloaded provider's check is a check like any other)", async () => {
    const checker = createModelChecker({
      config: { providerTimeoutMs: 1000, egressAllow: [], catalogueConfigMap: undefined },
      metrics: createMetrics({ defaultMetrics: false }),
      log: createLogger({ level: "silent", destination: { write: () => undefined } }),
      kc: undefined as never,
    });
    try {
      checker.prepare("Custom");
      checker.prepare("Custom");
      const check = await checker.check({
        provider: "Custom",
        credentials: {},
        name: "m",
        endpoint: "http://127.0.0.1:9/v1",
        expectedModels: [],
      } as never);
      // Nothing listens on the discard port: the check answers as any check of an unreachable server does.
      expect(check.outcome).toBe("Unavailable");
    } finally {
      await checker.stop();
    }
  });
});
