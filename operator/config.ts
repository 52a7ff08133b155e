// The operator's configuration: command-line flags and environment variables, validated with zod.
// A flag `--foo-bar=value` wins over `MODELKEYS_FOO_BAR`, which wins over a conventional variable, then the default.
import { isIP } from "node:net";
import { hostname } from "node:os";
import { z } from "zod";
import { Duration, durationToMs } from "../crds/common.ts";

/** The validated configuration of one operator process. Durations are in milliseconds. */
export interface Config {
  /** Path of a kubeconfig; undefined means in-cluster configuration or the default loading rules. */
  kubeconfig: string | undefined;
  /** The one namespace to watch; undefined means all namespaces. */
  namespace: string | undefined;
  /** Reconciles running at once (1..64). */
  concurrency: number;
  /** Requests per second to the API server on average (client-side pacing, as client-go's QPS); 0: unpaced. */
  kubeQps: number;
  /** Requests to the API server allowed at once above kubeQps. */
  kubeBurst: number;
  /** Every object is reconciled at least this often, to catch drift in the app. */
  resyncIntervalMs: number;
  leaderElection: boolean;
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
  providerTimeoutMs: number;
  /** The first wait after a failed model check (rate limited, provider down); it doubles per failure. */
  modelCheckBackoffMs: number;
  /** Hosts (optionally `*.domain`), IP addresses and CIDRs that provider checks may reach. */
  egressAllow: string[];
  /** A ConfigMap that overrides the built-in model catalogue. */
  catalogueConfigMap: { namespace: string; name: string } | undefined;
  pulumiBackendUrl: string;
  /** The Secret key holding the Pulumi passphrase. */
  pulumiPassphraseSecret: { namespace: string; name: string; key: string } | undefined;
  /** Force the embedded local control plane even when a cluster is configured. */
  local: boolean;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A setting that failed validation; the message names the flag and the environment variable, never a secret. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    message: string,
    readonly flag: string,
    readonly envVar: string,
  ) {
    super(message);
  }
}

const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label (lower case letters, digits, '-')");
const dnsName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a DNS subdomain name");
const duration = z
  .string()
  .refine((s) => Duration.safeParse(s).success, "must be a duration such as 30s, 10m or 1h30m")
  .transform(durationToMs)
  .refine((ms) => ms > 0, "must be longer than 0");
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const bool = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no"], "must be true or false"))
  .transform((s) => s === "true" || s === "1" || s === "yes");
const hostOrCidr = z.string().refine(isHostOrCidr, "must be a host name, *.domain, an IP address or a CIDR");

interface Setting {
  schema: z.ZodType;
  default?: (env: NodeJS.ProcessEnv) => string | undefined;
  /** Conventional variables read after MODELKEYS_*, such as KUBECONFIG or POD_NAME. */
  alsoEnv?: string[];
  boolean?: boolean;
  /** Never echo the value in an error (it may carry credentials). */
  sensitive?: boolean;
  help: string;
}

const SETTINGS = {
  kubeconfig: { schema: z.string().min(1), alsoEnv: ["KUBECONFIG"], help: "path of a kubeconfig" },
  namespace: { schema: dnsLabel, help: "watch only this namespace (default: all)" },
  concurrency: { schema: int(1, 64), default: () => "4", help: "reconciles at once, 1..64" },
  resyncInterval: { schema: duration, default: () => "10m", help: "full resync period" },
  kubeQps: {
    schema: int(0, 10_000),
    default: () => "200",
    help: "API server requests per second on average (0: unpaced)",
  },
  kubeBurst: {
    schema: int(1, 10_000),
    default: () => "400",
    help: "API server requests allowed at once above --kube-qps",
  },
  leaderElection: { schema: bool, boolean: true, default: () => "true", help: "elect a leader with a Lease" },
  leaseName: { schema: dnsName, default: () => "modelkeys-operator", help: "the Lease's name" },
  leaseNamespace: {
    schema: dnsLabel,
    alsoEnv: ["POD_NAMESPACE"],
    default: () => "modelkeys-system",
    help: "the Lease's namespace",
  },
  leaseDuration: { schema: duration, default: () => "15s", help: "how long a Lease holds without renewal" },
  renewDeadline: {
    schema: duration,
    default: () => "10s",
    help: "the leader gives up after failing to renew this long",
  },
  retryPeriod: { schema: duration, default: () => "2s", help: "time between Lease attempts" },
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
  appTimeout: { schema: duration, default: () => "10s", help: "timeout of one request to Label Studio" },
  providerTimeout: {
    schema: duration,
    default: () => "15s",
    help: "timeout of one request to a model provider",
  },
  modelCheckBackoff: {
    schema: duration,
    default: () => "5s",
    help: "first wait after a failed model check; doubles per failure up to 30m",
  },
  egressAllow: {
    schema: z
      .string()
      .transform((s) =>
        s
          .split(",")
          .map((x) => x.trim())
          .filter(Boolean),
      )
      .pipe(z.array(hostOrCidr)),
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
    schema: z.url("must be a URL such as file:///var/lib/modelkeys/pulumi"),
    alsoEnv: ["PULUMI_BACKEND_URL"],
    default: () => "file:///var/lib/modelkeys/pulumi",
    sensitive: true,
    help: "Pulumi state backend",
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

type SettingName = keyof typeof SETTINGS;

const flagOf = (name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
const envOf = (name: string) => `MODELKEYS_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/**
 * Parses flags (`argv` without node and the script: `--foo-bar=value`, `--foo-bar value`, `--flag`/`--no-flag` for
 * booleans) and the environment into a {@link Config}.
 * @throws ConfigError naming the flag and the environment variable of the first bad setting.
 */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  const flags = parseFlags(argv);
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, Setting][]) {
    const sources: [string, string | undefined][] = [
      [flagOf(name), flags.get(name)],
      [envOf(name), env[envOf(name)]],
      ...(setting.alsoEnv ?? []).map((e): [string, string | undefined] => [e, env[e]]),
    ];
    const found = sources.find(([, v]) => v !== undefined && v !== "");
    const raw = found?.[1] ?? setting.default?.(env);
    if (raw === undefined) {
      values[name] = undefined;
      continue;
    }
    const parsed = setting.schema.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => i.message).join("; ");
      const shown = setting.sensitive
        ? ""
        : ` (got ${JSON.stringify(raw)}${found ? ` from ${found[0]}` : ""})`;
      throw new ConfigError(
        `invalid ${flagOf(name)} / ${envOf(name)}: ${why}${shown}`,
        flagOf(name),
        envOf(name),
      );
    }
    values[name] = parsed.data;
  }
  return crossCheck(toConfig(values));
}

function toConfig(v: Record<string, unknown>): Config {
  return {
    kubeconfig: v.kubeconfig as string | undefined,
    namespace: v.namespace as string | undefined,
    concurrency: v.concurrency as number,
    resyncIntervalMs: v.resyncInterval as number,
    kubeQps: v.kubeQps as number,
    kubeBurst: v.kubeBurst as number,
    leaderElection: v.leaderElection as boolean,
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
    providerTimeoutMs: v.providerTimeout as number,
    modelCheckBackoffMs: v.modelCheckBackoff as number,
    egressAllow: v.egressAllow as string[],
    catalogueConfigMap: v.catalogueConfigMap as Config["catalogueConfigMap"],
    pulumiBackendUrl: v.pulumiBackendUrl as string,
    pulumiPassphraseSecret: v.pulumiPassphraseSecret as Config["pulumiPassphraseSecret"],
    local: v.local as boolean,
  };
}

/** The Lease timings must nest as client-go requires: retry period < renew deadline < lease duration. */
function crossCheck(config: Config): Config {
  if (config.renewDeadlineMs >= config.leaseDurationMs) {
    throw new ConfigError(
      `invalid --renew-deadline / MODELKEYS_RENEW_DEADLINE: must be shorter than --lease-duration (${config.leaseDurationMs}ms)`,
      "--renew-deadline",
      "MODELKEYS_RENEW_DEADLINE",
    );
  }
  if (config.retryPeriodMs * 1.2 >= config.renewDeadlineMs) {
    throw new ConfigError(
      `invalid --retry-period / MODELKEYS_RETRY_PERIOD: 1.2 × the retry period must be shorter than --renew-deadline (${config.renewDeadlineMs}ms)`,
      "--retry-period",
      "MODELKEYS_RETRY_PERIOD",
    );
  }
  if (config.leaseDurationMs % 1000 !== 0) {
    throw new ConfigError(
      "invalid --lease-duration / MODELKEYS_LEASE_DURATION: a Lease counts whole seconds",
      "--lease-duration",
      "MODELKEYS_LEASE_DURATION",
    );
  }
  return config;
}

function parseFlags(argv: string[]): Map<string, string> {
  const byFlag = new Map(Object.keys(SETTINGS).map((name) => [flagOf(name), name as SettingName]));
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const negated = flag.startsWith("--no-") ? byFlag.get(`--${flag.slice(5)}`) : undefined;
    const name = byFlag.get(flag) ?? negated;
    if (!name) {
      const what = arg.startsWith("-")
        ? `unknown flag ${flag}`
        : `unexpected argument ${JSON.stringify(arg)}`;
      throw new ConfigError(`${what}; see --help`, flag, "");
    }
    const setting: Setting = SETTINGS[name];
    if (negated && setting.boolean && eq === -1) flags.set(name, "false");
    else if (negated) throw new ConfigError(`unknown flag ${flag}; see --help`, flag, "");
    else if (eq !== -1) flags.set(name, arg.slice(eq + 1));
    else if (setting.boolean) flags.set(name, "true");
    else if (i + 1 < argv.length && !(argv[i + 1] as string).startsWith("--"))
      flags.set(name, argv[++i] as string);
    else throw new ConfigError(`invalid ${flag} / ${envOf(name)}: needs a value`, flag, envOf(name));
  }
  return flags;
}

function isHostOrCidr(s: string): boolean {
  const [addr, prefix, ...rest] = s.split("/");
  if (rest.length > 0 || !addr) return false;
  const family = isIP(addr);
  if (prefix !== undefined) {
    if (!family || !/^[0-9]{1,3}$/.test(prefix)) return false;
    return Number(prefix) <= (family === 4 ? 32 : 128);
  }
  if (family) return true;
  return /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i.test(addr);
}

/** One line per flag, for `--help`. */
export function configUsage(): string {
  const lines = Object.entries(SETTINGS).map(([name, s]: [string, Setting]) => {
    const def = s.default?.({});
    const also = s.alsoEnv ? `, ${s.alsoEnv.join(", ")}` : "";
    return `  ${flagOf(name).padEnd(28)} ${envOf(name)}${also}\n${" ".repeat(31)}${s.help}${def ? ` (default ${def})` : ""}`;
  });
  return `Usage: modelkeys-operator [flags]\n\nFlags (and environment variables; a flag wins):\n${lines.join("\n")}\n`;
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
