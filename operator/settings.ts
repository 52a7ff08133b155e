// A setting of the operator and where its value comes from: its flag (lexed by node:util parseArgs), its
// MODELKEYS_* variable, a conventional variable, then its default; each value is validated by its zod schema.
import { isIP } from "node:net";
import { parseArgs } from "node:util";
import { z } from "zod";
import { Duration, durationToMs } from "../crds/common.ts";

/** One setting: how its text is validated and turned into a value, where else it may come from, and its help. */
export interface Setting {
  schema: z.ZodType;
  default?: (env: NodeJS.ProcessEnv) => string | undefined;
  /** Conventional variables read after MODELKEYS_*, such as KUBECONFIG or POD_NAME. */
  alsoEnv?: string[];
  /** A switch: `--flag`, `--no-flag` or `--flag=false`. */
  boolean?: boolean;
  /** Never echo the value in an error (it may carry credentials). */
  sensitive?: boolean;
  help: string;
}

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

/** The error for setting `name` (camelCase): `invalid --flag / MODELKEYS_VAR: why`. */
export function invalidSetting(name: string, why: string): ConfigError {
  return new ConfigError(`invalid ${flagOf(name)} / ${envOf(name)}: ${why}`, flagOf(name), envOf(name));
}

/** `resyncInterval` → `--resync-interval`. */
export const flagOf = (name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
/** `resyncInterval` → `MODELKEYS_RESYNC_INTERVAL`. */
export const envOf = (name: string) => `MODELKEYS_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/**
 * Reads every setting of `settings` from `argv` (without node and the script) and `env`: a flag wins over
 * MODELKEYS_*, which wins over a conventional variable, then the default. Values are the schemas' outputs;
 * a setting with no value at all is undefined.
 * @throws ConfigError naming the flag and the environment variable of the first bad setting, an unknown flag
 * or a stray argument.
 */
export function readSettings(
  settings: Record<string, Setting>,
  argv: string[],
  env: NodeJS.ProcessEnv,
): Record<string, unknown> {
  const flags = flagValues(settings, argv);
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(settings)) {
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
      throw invalidSetting(name, `${why}${shown}`);
    }
    values[name] = parsed.data;
  }
  return values;
}

/**
 * The flags' raw text by setting name. parseArgs lexes (`--a=b`, `--a b`, `--no-a`, `--`); strict mode is off
 * because a switch also takes `=false`, and the errors must name the setting's flag and variable.
 */
function flagValues(settings: Record<string, Setting>, argv: string[]): Map<string, string> {
  const byFlag = new Map(Object.keys(settings).map((name) => [flagOf(name).slice(2), name]));
  const options = Object.fromEntries(
    [...byFlag].map(([flag, name]) => [
      flag,
      { type: settings[name]?.boolean ? "boolean" : "string" } as const,
    ]),
  );
  const { tokens } = parseArgs({
    args: argv,
    options,
    strict: false,
    allowNegative: true,
    allowPositionals: true,
    tokens: true,
  });
  const values = new Map<string, string>();
  for (const token of tokens) {
    if (token.kind === "positional") {
      throw new ConfigError(
        `unexpected argument ${JSON.stringify(token.value)}; see --help`,
        token.value,
        "",
      );
    }
    if (token.kind !== "option") continue;
    const name = byFlag.get(token.name);
    const setting = name === undefined ? undefined : settings[name];
    const negated = token.rawName.startsWith("--no-");
    if (!name || !setting || !token.rawName.startsWith("--") || (negated && !setting.boolean)) {
      throw new ConfigError(`unknown flag ${token.rawName}; see --help`, token.rawName, "");
    }
    if (negated) {
      if (token.value !== undefined)
        throw new ConfigError(`unknown flag ${token.rawName}; see --help`, token.rawName, "");
      values.set(name, "false");
    } else if (token.value !== undefined && (token.inlineValue || !token.value.startsWith("--"))) {
      values.set(name, token.value);
    } else if (setting.boolean) {
      values.set(name, "true");
    } else {
      throw new ConfigError(
        `invalid ${token.rawName} / ${envOf(name)}: needs a value`,
        token.rawName,
        envOf(name),
      );
    }
  }
  return values;
}

/** One line per setting, for `--help`. */
export function settingsUsage(settings: Record<string, Setting>): string {
  return Object.entries(settings)
    .map(([name, s]) => {
      const def = s.default?.({});
      const also = s.alsoEnv ? `, ${s.alsoEnv.join(", ")}` : "";
      return `  ${flagOf(name).padEnd(28)} ${envOf(name)}${also}\n${" ".repeat(31)}${s.help}${def ? ` (default ${def})` : ""}`;
    })
    .join("\n");
}

// The kinds of value settings take.

/** A DNS label (a namespace). */
export const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label (lower case letters, digits, '-')");
/** A DNS subdomain name (an object's name). */
export const dnsName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a DNS subdomain name");
/** The longest any duration setting may be: timers cannot wait longer than 2^31 ms (~24.8 days). */
const MAX_DURATION_MS = 24 * 3_600_000;
/**
 * A Kubernetes-style duration, in milliseconds, with a floor, so no setting can make the operator spin (0s,
 * 1ms) or overflow a timer.
 */
export const duration = (floorMs: number) =>
  z
    .string()
    .refine((s) => Duration.safeParse(s).success, "must be a duration such as 30s, 10m or 1h30m")
    .transform(durationToMs)
    .refine((ms) => ms > 0, "must be longer than 0")
    .refine((ms) => ms >= floorMs, `must be at least ${formatMs(floorMs)}`)
    .refine((ms) => ms <= MAX_DURATION_MS, "must be at most 24h");

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
/** A whole number in [min, max]. */
export const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
/** true/false, 1/0, yes/no. */
/** A comma-separated list (blanks and surrounding spaces dropped), each item validated by `item`. */
export const commaList = (item: z.ZodType<string, string>) =>
  z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));
export const bool = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no"], "must be true or false"))
  .transform((s) => s === "true" || s === "1" || s === "yes");
/** A host name, `*.domain`, an IP address or a CIDR. */
export const hostOrCidr = z
  .string()
  .refine(isHostOrCidr, "must be a host name, *.domain, an IP address or a CIDR");

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
