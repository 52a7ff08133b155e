// The command line of `kubectl modelkeys`: parses arguments, runs one command, and returns the exit code
// (0 clean or done, 1 findings or a wait that timed out, 2 usage or access errors).
import { parseArgs } from "node:util";
import { Duration, durationToMs } from "../../crds/index.ts";
import { type OutputFormat, renderAudit } from "./audit-output.ts";
import { AccessError, type Cluster, type ClusterOptions, connect, NotFound } from "./kube.ts";
import { audit } from "./report.ts";
import { REQUEST_ANNOTATIONS, RequestRefused, type RequestVerb, request, waitForAction } from "./requests.ts";
import { renderStatus } from "./status-screen.ts";

/** The exit codes: 0 clean or done, 1 findings or a wait that timed out, 2 usage or access errors. */
export const EXIT = { clean: 0, findings: 1, usage: 2 } as const;

/** The help text (`-h`, and after a usage error). */
export const USAGE = `kubectl modelkeys: audit and operate modelkeys ProviderConnections with your own kubeconfig.

Usage:
  kubectl modelkeys audit [-A | -n NAMESPACE] [--max-key-age 90d] [-o table|json|yaml]
  kubectl modelkeys status NAME [-n NAMESPACE]
  kubectl modelkeys refresh|sync|rotate|release NAME [-n NAMESPACE] [--wait] [--timeout 2m]

Commands:
  audit    one row per connection and per Organization; exit 0 when clean, 1 when anything is found
           (a key past its max age, a connection or Organization not Ready, app records no connection
           manages, records changed in the app), 2 on usage or access errors
  status   conditions, models with reasons, the key's last rotation and recent Events of one connection
  refresh  check the models now            (annotation ${REQUEST_ANNOTATIONS.refresh})
  sync     write the app record and key now (annotation ${REQUEST_ANNOTATIONS.sync})
  rotate   says how to rotate a provisioned connection's key (its AzureOpenAIAccount's annotation ${REQUEST_ANNOTATIONS.rotate})
  release  let a deleting connection go without touching the app (annotation ${REQUEST_ANNOTATIONS.release})

Options:
  -n, --namespace NS   the namespace (default: the kubeconfig context's)
  -A, --all-namespaces audit every namespace
  --max-key-age D      flag keys older than D (e.g. 90d, 720h), whatever their own max age
  -o, --output F       table (default), json or yaml; the JSON schema is kubectl-modelkeys/audit-report.schema.json
  --wait               wait until the operator has acted (or --timeout, default 2m)
  --kubeconfig PATH, --context NAME
  -h, --help
It reads ProviderConnections, Organizations and Events, and patches annotations; it never reads a Secret.
`;

/** What main needs from the world; tests replace the cluster. */
export interface MainDeps {
  connect(options: ClusterOptions): Cluster;
  now(): Date;
  out(text: string): void;
  err(text: string): void;
}

const defaultDeps: MainDeps = {
  connect,
  now: () => new Date(),
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

class UsageError extends Error {}

/** Runs the command line `argv` (without node and the script) and returns the exit code. */
export async function main(argv: readonly string[], deps: MainDeps = defaultDeps): Promise<number> {
  try {
    return await run(argv, deps);
  } catch (error) {
    if (error instanceof UsageError || error instanceof RequestRefused) {
      deps.err(`error: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof AccessError) {
      deps.err(`error: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof NotFound) {
      deps.err("error: the modelkeys.dev API is not installed on this cluster (no such resource)\n");
      return EXIT.usage;
    }
    throw error;
  }
}

async function run(argv: readonly string[], deps: MainDeps): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === "help") {
    deps.out(USAGE);
    return command === undefined && !values.help ? EXIT.usage : EXIT.clean;
  }
  const duration = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    if (!Duration.safeParse(value).success)
      throw new UsageError(`--${flag} ${value}: expected a duration such as 90d, 720h or 30m`);
    return value;
  };
  const clusterOptions = {
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context ? { context: values.context } : {}),
  };

  if (command === "audit") {
    if (rest.length > 0) throw new UsageError(`audit takes no NAME (got ${rest.join(" ")})`);
    if (values["all-namespaces"] && values.namespace)
      throw new UsageError("-A and -n cannot be used together");
    const format = values.output ?? "table";
    if (!["table", "json", "yaml"].includes(format))
      throw new UsageError(`-o ${format}: expected table, json or yaml`);
    const maxKeyAge = duration("max-key-age", values["max-key-age"]);
    const cluster = deps.connect(clusterOptions);
    const namespace = values["all-namespaces"] ? undefined : (values.namespace ?? cluster.defaultNamespace);
    const [connections, organizations] = await Promise.all([
      cluster.listConnections(namespace),
      cluster.listOrganizations(namespace),
    ]);
    const report = audit({
      connections,
      organizations,
      scope: namespace ?? "*",
      ...(maxKeyAge ? { maxKeyAge } : {}),
      now: deps.now(),
    });
    deps.out(renderAudit(report, format as OutputFormat));
    return report.clean ? EXIT.clean : EXIT.findings;
  }

  const name = rest[0];
  if (name === undefined || rest.length > 1) throw new UsageError(`${command} takes one NAME\n\n${USAGE}`);
  if (values["all-namespaces"]) throw new UsageError(`-A is for audit only`);

  if (command === "status") {
    const cluster = deps.connect(clusterOptions);
    const namespace = values.namespace ?? cluster.defaultNamespace;
    const connection = await cluster.getConnection(namespace, name);
    if (!connection) {
      deps.err(`error: ProviderConnection ${namespace}/${name} not found\n`);
      return EXIT.usage;
    }
    const events = await cluster.events(namespace, "ProviderConnection", name);
    deps.out(renderStatus(connection, events, deps.now()));
    return EXIT.clean;
  }

  if (command in REQUEST_ANNOTATIONS) {
    const verb = command as RequestVerb;
    const timeout = duration("timeout", values.timeout) ?? "2m";
    const cluster = deps.connect(clusterOptions);
    const namespace = values.namespace ?? cluster.defaultNamespace;
    const value = await request(cluster, verb, namespace, name, deps.now());
    deps.out(`providerconnection ${namespace}/${name} annotated ${REQUEST_ANNOTATIONS[verb]}=${value}\n`);
    if (!values.wait) return EXIT.clean;
    const result = await waitForAction(cluster, verb, namespace, name, value, durationToMs(timeout));
    if (result.done) {
      deps.out(`${result.message}\n`);
      return EXIT.clean;
    }
    deps.err(`timed out after ${timeout}: ${result.message}\n`);
    return EXIT.findings;
  }
  throw new UsageError(`unknown command ${command}\n\n${USAGE}`);
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      namespace: { type: "string", short: "n" },
      "all-namespaces": { type: "boolean", short: "A" },
      "max-key-age": { type: "string" },
      output: { type: "string", short: "o" },
      wait: { type: "boolean" },
      timeout: { type: "string" },
      kubeconfig: { type: "string" },
      context: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
