// Two test projects: "unit" (pure, no cluster) and "integration" (a real kube-apiserver, started once by
// the global setup and shared by every integration file). `vitest run` runs both.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // cdk8s/constructs.ts imports the API by its package name (as @modelkeys/cdk8s does); here it is crds/.
  resolve: { alias: { "@modelkeys/api": fileURLToPath(new URL("./crds/index.ts", import.meta.url)) } },
  test: {
    // Two CPU cores serve the API server, etcd and the tests alike.
    maxWorkers: 2,
    // In CI (and under .ci/run anywhere) a JSON report too, from which .ci/run prints the plain closing line.
    reporters:
      process.env.CI || process.env.MODELKEYS_TEST_REPORT
        ? ["default", ["json", { outputFile: ".modelkeys/vitest-report.json" }]]
        : ["default"],
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/unit/**/*.test.ts"] },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 120_000,
          // A cold cache builds the control plane inside the global setup: minutes, not seconds.
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
