// The operator's configuration: which settings exist (flags and environment variables), their defaults and
// help, and the rules across them. How a setting is read and validated is settings.ts's job.
import { isIP } from "node:net";
import { hostname } from "node:os";
import { z } from "zod";
import {
  bool,
  ConfigError,
  commaList,
  dnsLabel,
  dnsName,
  duration,
  flagOf,
  hostOrCidr,
  int,
  invalidSetting,
  readSettings,
  type Setting,
  settingsUsage,
} from "./settings.ts";

// The error type is part of this module's contract (parseConfig throws it).
export { ConfigError } from "./settings.ts";

/** The validated configuration of one operator process. Durations are in milliseconds. */
export interface Config {
  /** Path of a kubeconfig; undefined means in-cluster configuration or the default loading rules. */
  kubeconfig: string | undefined;
  /** The namespaces to watch (from --namespaces, or --namespace as a one-element list); undefined means all. */
  namespaces: readonly string[] | undefined;
  /** Reconciles running at once (1..64). */
  concurrency: number;
  /** Requests per second to the API server on average (client-side pacing, as client-go's QPS); 0: unpaced. */
  kubeQps: number;
  /** Requests to the API server allowed at once above kubeQps. */
  kubeBurst: number;
  /** Requests to the API server waiting for their answers at once (watches apart); the API server's protection. */
  kubeMaxInFlight: number;
  /** Every object is reconciled at least this often, to catch drift in the app. */
  resyncIntervalMs: number;
  leaderElection: boolean;
  /** Provision Azure OpenAI accounts for connections that ask; off, they get a terminal ProvisionFailed. */
  azureProvisioning: boolean;
  leaseName: string;
  leaseNamespace: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** This replica's name in the Lease. */
  identity: string;
  /** Address the metrics and health servers bind: 0.0.0.0 inside a pod (probes come from the kubelet), else 127.0.0.1. */
  bindAddress: string;
  /** 0 picks a free port (tests). */
  metricsPort: number;
  /** 0 picks a free port (tests). */
  healthPort: number;
  logLevel: LogLevel;
  appTimeoutMs: number;
  /** Timeout of one write to the app (create, update, delete): some apps check the key with the provider first. */
  appWriteTimeoutMs: number;
  providerTimeoutMs: number;
  /** While an Organization's app is down, how often it is probed (one request per interval for the organization). */
  appProbeIntervalMs: number;
  /** The first wait after a failed model check (rate limited, provider down); it doubles per failure. */
  modelCheckBackoffMs: number;
  /** Hosts (optionally `*.domain`), IP addresses and CIDRs that provider checks may reach. */
  egressAllow: string[];
  /** A ConfigMap that overrides the built-in model catalogue. */
  catalogueConfigMap: { namespace: string; name: string } | undefined;
  /** PULUMI_BACKEND_URL; undefined: each stack's state in a Secret of its account's namespace. */
  pulumiBackendUrl: string | undefined;
  /** The Secret key holding the Pulumi passphrase. */
  pulumiPassphraseSecret: { namespace: string; name: string; key: string } | undefined;
  /** Force the embedded local control plane even when a cluster is configured. */
  local: boolean;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The floor of each duration setting (documented in README, "Limits and floors"). */
export const DURATION_FLOORS_MS = {
  resyncInterval: 1_000,
  leaseDuration: 2_000,
  renewDeadline: 1_000,
  retryPeriod: 200,
  appTimeout: 1_000,
  appWriteTimeout: 1_000,
  providerTimeout: 1_000,
  appProbeInterval: 1_000,
  modelCheckBackoff: 100,
} as const;

const SETTINGS = {
  kubeconfig: { schema: z.string().min(1), alsoEnv: ["KUBECONFIG"], help: "path of a kubeconfig" },
  namespace: {
    schema: dnsLabel,
    help: "watch only this namespace (default: all); same as --namespaces with one",
  },
  namespaces: {
    schema: commaList(dnsLabel).refine((names) => names.length >= 1, "must name at least one namespace"),
    help: "watch only these namespaces, comma-separated (default: all)",
  },
  concurrency: { schema: int(1, 64), default: () => "4", help: "reconciles at once, 1..64" },
  resyncInterval: {
    schema: duration(DURATION_FLOORS_MS.resyncInterval),
    default: () => "10m",
    help: "full resync period",
  },
  // Sized for 10,000 connections: their first sync is about 31,000 requests, which 1000/s with a burst of 2000
  // lets through in under 30 s, faster than the API server answers them; so the pacer stops only a runaway loop,
  // and the in-flight bound (what the API server's own max-requests-inflight and priority and fairness count) is
  // what keeps its load in check.
  kubeQps: {
    schema: int(0, 10_000),
    default: () => "1000",
    help: "API server requests per second on average (0: unpaced)",
  },
  kubeBurst: {
    schema: int(1, 10_000),
    default: () => "2000",
    help: "API server requests allowed at once above --kube-qps",
  },
  kubeMaxInFlight: {
    schema: int(1, 1_000),
    default: () => "32",
    help: "API server requests waiting for an answer at once, watches apart; halved while the server answers 429",
  },
  leaderElection: { schema: bool, boolean: true, default: () => "true", help: "elect a leader with a Lease" },
  azureProvisioning: {
    schema: bool,
    boolean: true,
    default: () => "true",
    help: "provision Azure OpenAI for connections with azure.provision (off: installs without Secret writes)",
  },
  leaseName: { schema: dnsName, default: () => "modelkeys-operator", help: "the Lease's name" },
  leaseNamespace: {
    schema: dnsLabel,
    alsoEnv: ["POD_NAMESPACE"],
    default: () => "modelkeys-system",
    help: "the Lease's namespace",
  },
  leaseDuration: {
    schema: duration(DURATION_FLOORS_MS.leaseDuration),
    default: () => "15s",
    help: "how long a Lease holds without renewal",
  },
  renewDeadline: {
    schema: duration(DURATION_FLOORS_MS.renewDeadline),
    default: () => "10s",
    help: "the leader gives up after failing to renew this long",
  },
  retryPeriod: {
    schema: duration(DURATION_FLOORS_MS.retryPeriod),
    default: () => "2s",
    help: "time between Lease attempts",
  },
  identity: {
    schema: z.string().min(1).max(253),
    alsoEnv: ["POD_NAME"],
    default: () => `${hostname()}-${process.pid}`,
    help: "this replica's identity in the Lease",
  },
  bindAddress: {
    schema: z.string().refine((s) => isIP(s) !== 0, "must be an IP address"),
    default: (env) => (env.KUBERNETES_SERVICE_HOST ? "0.0.0.0" : "127.0.0.1"),
    help: "address of the metrics and health servers",
  },
  metricsPort: { schema: int(0, 65535), default: () => "8080", help: "port of /metrics (0: any free port)" },
  healthPort: {
    schema: int(0, 65535),
    default: () => "8081",
    help: "port of /healthz and /readyz (0: any free port)",
  },
  logLevel: { schema: z.enum(LOG_LEVELS), default: () => "info", help: LOG_LEVELS.join(" | ") },
  appTimeout: {
    schema: duration(DURATION_FLOORS_MS.appTimeout),
    default: () => "10s",
    help: "timeout of one read from Label Studio",
  },
  appWriteTimeout: {
    schema: duration(DURATION_FLOORS_MS.appWriteTimeout),
    default: () => "30s",
    help: "timeout of one write to Label Studio (some versions check the key with the provider first)",
  },
  providerTimeout: {
    schema: duration(DURATION_FLOORS_MS.providerTimeout),
    default: () => "15s",
    help: "timeout of one request to a model provider",
  },
  appProbeInterval: {
    schema: duration(DURATION_FLOORS_MS.appProbeInterval),
    default: () => "5s",
    help: "while an Organization's app is down, one probe per interval instead of a request per connection",
  },
  modelCheckBackoff: {
    schema: duration(DURATION_FLOORS_MS.modelCheckBackoff),
    default: () => "5s",
    help: "first wait after a failed model check; doubles per failure up to 30m",
  },
  egressAllow: {
    schema: commaList(hostOrCidr),
    default: () => "",
    help: "comma-separated hosts, *.domains, IPs or CIDRs provider checks may reach",
  },
  catalogueConfigMap: {
    schema: z
      .string()
      .regex(/^[^/]+\/[^/]+$/, "must be namespace/name")
      .transform((s) => s.split("/"))
      .pipe(z.tuple([dnsLabel, dnsName]))
      .transform(([namespace, name]) => ({ namespace, name })),
    help: "namespace/name of a ConfigMap overriding the model catalogue",
  },
  pulumiBackendUrl: {
    schema: z.url("must be a URL such as s3://bucket, azblob://container or file:///path"),
    alsoEnv: ["PULUMI_BACKEND_URL"],
    sensitive: true,
    help: "Pulumi state backend; unset, each stack's state is kept in a Secret of its account's namespace",
  },
  pulumiPassphraseSecret: {
    schema: z
      .string()
      .regex(/^[^/]+\/[^/]+\/[^/]+$/, "must be namespace/name/key")
      .transform((s) => s.split("/"))
      .pipe(z.tuple([dnsLabel, dnsName, z.string().regex(/^[-._a-zA-Z0-9]+$/, "must be a Secret key")]))
      .transform(([namespace, name, key]) => ({ namespace, name, key })),
    help: "namespace/name/key of the Secret holding the Pulumi passphrase",
  },
  local: {
    schema: bool,
    boolean: true,
    default: () => "false",
    help: "force the embedded local control plane",
  },
} satisfies Record<string, Setting>;

/**
 * Parses flags (`argv` without node and the script: `--foo-bar=value`, `--foo-bar value`, `--flag`/`--no-flag` for
 * booleans) and the environment into a {@link Config}. A flag `--foo-bar` wins over `MODELKEYS_FOO_BAR`, which
 * wins over a conventional variable, then the default.
 * @throws ConfigError naming the flag and the environment variable of the first bad setting.
 */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  return crossCheck(toConfig(readSettings(SETTINGS, argv, env)));
}

function toConfig(v: Record<string, unknown>): Config {
  return {
    kubeconfig: v.kubeconfig as string | undefined,
    namespaces: watchedNamespaces(v.namespace as string | undefined, v.namespaces as string[] | undefined),
    concurrency: v.concurrency as number,
    resyncIntervalMs: v.resyncInterval as number,
    kubeQps: v.kubeQps as number,
    kubeBurst: v.kubeBurst as number,
    kubeMaxInFlight: v.kubeMaxInFlight as number,
    leaderElection: v.leaderElection as boolean,
    azureProvisioning: v.azureProvisioning as boolean,
    leaseName: v.leaseName as string,
    leaseNamespace: v.leaseNamespace as string,
    leaseDurationMs: v.leaseDuration as number,
    renewDeadlineMs: v.renewDeadline as number,
    retryPeriodMs: v.retryPeriod as number,
    identity: v.identity as string,
    bindAddress: v.bindAddress as string,
    metricsPort: v.metricsPort as number,
    healthPort: v.healthPort as number,
    logLevel: v.logLevel as LogLevel,
    appTimeoutMs: v.appTimeout as number,
    appWriteTimeoutMs: v.appWriteTimeout as number,
    providerTimeoutMs: v.providerTimeout as number,
    appProbeIntervalMs: v.appProbeInterval as number,
    modelCheckBackoffMs: v.modelCheckBackoff as number,
    egressAllow: v.egressAllow as string[],
    catalogueConfigMap: v.catalogueConfigMap as Config["catalogueConfigMap"],
    pulumiBackendUrl: v.pulumiBackendUrl as string | undefined,
    pulumiPassphraseSecret: v.pulumiPassphraseSecret as Config["pulumiPassphraseSecret"],
    local: v.local as boolean,
  };
}

/** The Lease timings must nest as client-go requires: retry period < renew deadline < lease duration. */
/** --namespace is a one-element --namespaces; both at once is ambiguous. Duplicates are dropped. */
function watchedNamespaces(one: string | undefined, many: string[] | undefined): string[] | undefined {
  if (one !== undefined && many !== undefined) {
    throw invalidSetting("namespaces", `give it or ${flagOf("namespace")}, not both`);
  }
  if (one !== undefined) return [one];
  return many ? [...new Set(many)] : undefined;
}

function crossCheck(config: Config): Config {
  if (config.renewDeadlineMs >= config.leaseDurationMs) {
    throw invalidSetting(
      "renewDeadline",
      `must be shorter than ${flagOf("leaseDuration")} (${config.leaseDurationMs}ms)`,
    );
  }
  if (config.retryPeriodMs * 1.2 >= config.renewDeadlineMs) {
    throw invalidSetting(
      "retryPeriod",
      `1.2 × the retry period must be shorter than ${flagOf("renewDeadline")} (${config.renewDeadlineMs}ms)`,
    );
  }
  if (config.leaseDurationMs % 1000 !== 0)
    throw invalidSetting("leaseDuration", "a Lease counts whole seconds");
  return config;
}

/** One line per flag, for `--help`. */
export function configUsage(): string {
  return `Usage: modelkeys-operator [flags]\n\nFlags (and environment variables; a flag wins):\n${settingsUsage(SETTINGS)}\n`;
}

/**
 * Parses the process's flags and environment; on a bad setting prints the message to stderr and exits with code 2,
 * on `--help` prints the usage and exits with 0.
 */
export function loadConfigOrExit(
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): Config {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(configUsage());
    process.exit(0);
  }
  try {
    return parseConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`modelkeys: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
