import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError, configUsage, parseConfig } from "../../operator/config.ts";

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseConfig(argv, env);

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  it("gives the documented defaults", () => {
    const c = parse([]);
    expect(c).toMatchObject({
      kubeconfig: undefined,
      namespaces: undefined,
      concurrency: 4,
      resyncIntervalMs: 600_000,
      leaderElection: true,
      leaseName: "modelkeys-operator",
      leaseNamespace: "modelkeys-system",
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      identity: `${hostname()}-${process.pid}`,
      bindAddress: "127.0.0.1",
      metricsPort: 8080,
      healthPort: 8081,
      logLevel: "info",
      appTimeoutMs: 10_000,
      appWriteTimeoutMs: 30_000,
      providerTimeoutMs: 15_000,
      appProbeIntervalMs: 5_000,
      modelCheckBackoffMs: 5_000,
      egressAllow: [],
      catalogueConfigMap: undefined,
      pulumiBackendUrl: undefined,
      pulumiPassphraseSecret: undefined,
      local: false,
    });
  });

  it("reads conventional variables: KUBECONFIG, POD_NAMESPACE, POD_NAME, PULUMI_BACKEND_URL", () => {
    const c = parse([], {
      KUBECONFIG: "/k",
      POD_NAMESPACE: "ops",
      POD_NAME: "op-0",
      PULUMI_BACKEND_URL: "s3://bucket",
      KUBERNETES_SERVICE_HOST: "10.0.0.1",
    });
    expect(c).toMatchObject({
      kubeconfig: "/k",
      leaseNamespace: "ops",
      identity: "op-0",
      pulumiBackendUrl: "s3://bucket",
      bindAddress: "0.0.0.0",
    });
  });

  it("lets a flag win over MODELKEYS_*, which wins over the conventional variable", () => {
    const env = { MODELKEYS_CONCURRENCY: "8", MODELKEYS_LEASE_NAMESPACE: "a", POD_NAMESPACE: "b" };
    expect(parse([], env)).toMatchObject({ concurrency: 8, leaseNamespace: "a" });
    expect(parse(["--concurrency=16", "--lease-namespace", "c"], env)).toMatchObject({
      concurrency: 16,
      leaseNamespace: "c",
    });
  });

  it.each([
    [["--resync-interval=90s"], { resyncIntervalMs: 90_000 }],
    [["--resync-interval=1h30m"], { resyncIntervalMs: 5_400_000 }],
    [["--namespace=ml-platform"], { namespaces: ["ml-platform"] }],
    [["--no-leader-election"], { leaderElection: false }],
    [["--leader-election=false"], { leaderElection: false }],
    [["--local"], { local: true }],
    [["--health-port=0", "--metrics-port=0"], { healthPort: 0, metricsPort: 0 }],
    [["--log-level=debug"], { logLevel: "debug" }],
    [
      ["--egress-allow=api.example.com, *.corp.example,10.0.0.0/8,::1"],
      {
        egressAllow: ["api.example.com", "*.corp.example", "10.0.0.0/8", "::1"],
      },
    ],
    [
      ["--catalogue-config-map=modelkeys-system/catalogue"],
      {
        catalogueConfigMap: { namespace: "modelkeys-system", name: "catalogue" },
      },
    ],
    [
      ["--pulumi-passphrase-secret=modelkeys-system/pulumi/passphrase"],
      {
        pulumiPassphraseSecret: { namespace: "modelkeys-system", name: "pulumi", key: "passphrase" },
      },
    ],
    [["--model-check-backoff=500ms"], { modelCheckBackoffMs: 500 }],
    [["--namespaces=team-a, team-b,team-a"], { namespaces: ["team-a", "team-b"] }],
    [["--app-probe-interval=30s"], { appProbeIntervalMs: 30_000 }],
    [
      ["--lease-duration=30s", "--renew-deadline=20s", "--retry-period=5s"],
      {
        leaseDurationMs: 30_000,
        renewDeadlineMs: 20_000,
        retryPeriodMs: 5_000,
      },
    ],
  ])("parses %j", (argv, expected) => {
    expect(parse(argv)).toMatchObject(expected);
  });

  it.each([
    [["--concurrency=0"], "--concurrency", "MODELKEYS_CONCURRENCY"],
    [["--concurrency=65"], "--concurrency", "MODELKEYS_CONCURRENCY"],
    [["--concurrency=four"], "--concurrency", "MODELKEYS_CONCURRENCY"],
    [["--resync-interval=10"], "--resync-interval", "MODELKEYS_RESYNC_INTERVAL"],
    [["--resync-interval=0s"], "--resync-interval", "MODELKEYS_RESYNC_INTERVAL"],
    [["--leader-election=maybe"], "--leader-election", "MODELKEYS_LEADER_ELECTION"],
    [["--metrics-port=70000"], "--metrics-port", "MODELKEYS_METRICS_PORT"],
    [["--log-level=loud"], "--log-level", "MODELKEYS_LOG_LEVEL"],
    [["--namespace=Not_A_Namespace"], "--namespace", "MODELKEYS_NAMESPACE"],
    [["--namespaces=team-a,Not_A_Namespace"], "--namespaces", "MODELKEYS_NAMESPACES"],
    [["--namespaces=,"], "--namespaces", "MODELKEYS_NAMESPACES"],
    [["--namespace=a", "--namespaces=b,c"], "--namespaces", "MODELKEYS_NAMESPACES"],
    [["--egress-allow=10.0.0.0/33"], "--egress-allow", "MODELKEYS_EGRESS_ALLOW"],
    [["--egress-allow=http://x"], "--egress-allow", "MODELKEYS_EGRESS_ALLOW"],
    [["--catalogue-config-map=just-a-name"], "--catalogue-config-map", "MODELKEYS_CATALOGUE_CONFIG_MAP"],
    [
      ["--pulumi-passphrase-secret=ns/name"],
      "--pulumi-passphrase-secret",
      "MODELKEYS_PULUMI_PASSPHRASE_SECRET",
    ],
    [["--pulumi-backend-url=not a url"], "--pulumi-backend-url", "MODELKEYS_PULUMI_BACKEND_URL"],
    [["--bind-address=localhost"], "--bind-address", "MODELKEYS_BIND_ADDRESS"],
    [["--model-check-backoff=0s"], "--model-check-backoff", "MODELKEYS_MODEL_CHECK_BACKOFF"],
    [["--renew-deadline=20s"], "--renew-deadline", "MODELKEYS_RENEW_DEADLINE"],
    [["--retry-period=9s"], "--retry-period", "MODELKEYS_RETRY_PERIOD"],
    [["--lease-duration=15500ms"], "--lease-duration", "MODELKEYS_LEASE_DURATION"],
    [["--namespace"], "--namespace", "MODELKEYS_NAMESPACE"],
    // Floors and ceilings: no setting may make the operator spin or overflow a timer.
    [["--resync-interval=100ms"], "--resync-interval", "MODELKEYS_RESYNC_INTERVAL"],
    [["--resync-interval=48h"], "--resync-interval", "MODELKEYS_RESYNC_INTERVAL"],
    [["--app-timeout=1ms"], "--app-timeout", "MODELKEYS_APP_TIMEOUT"],
    [["--provider-timeout=10ms"], "--provider-timeout", "MODELKEYS_PROVIDER_TIMEOUT"],
    [["--model-check-backoff=1ms"], "--model-check-backoff", "MODELKEYS_MODEL_CHECK_BACKOFF"],
    [["--app-probe-interval=100ms"], "--app-probe-interval", "MODELKEYS_APP_PROBE_INTERVAL"],
    [
      ["--retry-period=10ms", "--renew-deadline=1s", "--lease-duration=2s"],
      "--retry-period",
      "MODELKEYS_RETRY_PERIOD",
    ],
    [["--lease-duration=1s"], "--lease-duration", "MODELKEYS_LEASE_DURATION"],
  ])("rejects %j naming %s and %s", (argv, flag, envVar) => {
    const err = errorOf(() => parse(argv));
    expect(err.flag).toBe(flag);
    expect(err.envVar).toBe(envVar);
    expect(err.message).toContain(flag);
    expect(err.message).toContain(envVar);
  });

  it("names the variable when the bad value came from the environment", () => {
    const err = errorOf(() => parse([], { MODELKEYS_CONCURRENCY: "100" }));
    expect(err.message).toContain("MODELKEYS_CONCURRENCY");
    expect(err.message).toContain("from MODELKEYS_CONCURRENCY");
  });

  it("never echoes the Pulumi backend URL, which may carry credentials", () => {
    const err = errorOf(() => parse([], { PULUMI_BACKEND_URL: "canary-secret-value no-scheme" }));
    expect(err.message).not.toContain("canary-secret-value");
  });

  it("rejects unknown flags and stray arguments", () => {
    expect(errorOf(() => parse(["--colour=red"])).message).toContain("unknown flag --colour");
    expect(errorOf(() => parse(["run"])).message).toContain("unexpected argument");
    expect(errorOf(() => parse(["--no-namespace"])).message).toContain("unknown flag --no-namespace");
  });

  it("lists every flag in the usage", () => {
    for (const flag of ["--concurrency", "--resync-interval", "--local", "--pulumi-passphrase-secret"]) {
      expect(configUsage()).toContain(flag);
    }
  });
});
