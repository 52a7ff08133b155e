// Where the API server is and who we are to it: a kubeconfig's current context, or the pod's service account.
// Only what an operator needs; anything else in a kubeconfig fails with an error naming the field.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, resolve } from "node:path";
import { parse } from "yaml";

/** The API server and the credentials to reach it. */
export interface ClusterAccess {
  /** The API server's base URL, e.g. `https://10.96.0.1:443` (no trailing slash). */
  server: string;
  /** TLS settings for the connection (PEM text). */
  tls: {
    ca?: string;
    cert?: string;
    key?: string;
    /** `insecure-skip-tls-verify`: the server's certificate is not checked. */
    insecure?: boolean;
    /** `tls-server-name`: the name the server's certificate must carry, when not the URL's host. */
    servername?: string;
  };
  /** The Authorization header for the next request (a token read again when its file or plugin says so). */
  authorization(): Promise<string | undefined>;
  /** Where this came from, for logs and errors: `in-cluster`, or `<file> (context <name>)`. */
  source: string;
  /** What was loaded: the kubeconfig files (merged in this order) or the service account directory. */
  origin?: { files: string[] } | { serviceAccountDir: string };
}

/** Where the service account's credentials are mounted in a pod. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
/** How long a token read from a file is used before the file is read again (client-go: one minute). */
const TOKEN_FILE_TTL_MS = 60_000;

/** A kubeconfig that cannot be used; the message names the file and the field. */
export class KubeConfigError extends Error {
  override name = "KubeConfigError";
}

export interface LoadOptions {
  /** A kubeconfig path, or several joined by the path delimiter (as KUBECONFIG); merged, first one wins. */
  file?: string;
  /** @default process.env */
  env?: Record<string, string | undefined>;
  /** The service account directory (tests). @default SERVICE_ACCOUNT_DIR */
  serviceAccountDir?: string;
}

/**
 * Loads cluster access as kubectl's default rules do: `file` (or $KUBECONFIG), else ~/.kube/config, else the
 * pod's service account (KUBERNETES_SERVICE_HOST and the mounted token and CA).
 *
 * Supported: the current context's cluster (server, certificate-authority[-data], insecure-skip-tls-verify,
 * tls-server-name) and user (client-certificate[-data], client-key[-data], token, tokenFile, username/password,
 * exec plugins that return a token). Relative paths are relative to the kubeconfig file.
 * Unsupported, with a KubeConfigError naming the field: auth-provider, impersonation (as, as-groups…),
 * proxy-url, exec plugins that return a client certificate.
 */
export function loadClusterAccess(options: LoadOptions = {}): ClusterAccess {
  const env = options.env ?? process.env;
  const file = options.file ?? env.KUBECONFIG;
  if (file) return fromKubeConfigFiles(file.split(delimiter).filter(Boolean), env);
  const home = env.HOME ?? homedir();
  const standard = resolve(home, ".kube", "config");
  if (existsSync(standard)) return fromKubeConfigFiles([standard], env);
  if (env.KUBERNETES_SERVICE_HOST) return inCluster(env, options.serviceAccountDir);
  throw new KubeConfigError(
    "no cluster configured: set --kubeconfig (or KUBECONFIG), create ~/.kube/config, or run in a pod",
  );
}

/** The pod's service account: token re-read each minute (it is rotated), the cluster CA. */
export function inCluster(
  env: Record<string, string | undefined> = process.env,
  dir = SERVICE_ACCOUNT_DIR,
): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  if (!host) throw new KubeConfigError("in-cluster: KUBERNETES_SERVICE_HOST is not set");
  const tokenPath = `${dir}/token`;
  const caPath = `${dir}/ca.crt`;
  if (!existsSync(tokenPath))
    throw new KubeConfigError(`in-cluster: no service account token at ${tokenPath}`);
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    tls: existsSync(caPath) ? { ca: readFileSync(caPath, "utf8") } : {},
    authorization: bearerFromFile(tokenPath),
    source: "in-cluster",
    origin: { serviceAccountDir: dir },
  };
}

interface Named<T> {
  name: string;
  value: T;
}

type Doc = Record<string, unknown>;

/** Reads and merges kubeconfig files (the first file to name a cluster, user, context or current-context wins). */
function fromKubeConfigFiles(files: string[], env: Record<string, string | undefined>): ClusterAccess {
  const clusters = new Map<string, Named<Doc>>();
  const users = new Map<string, Named<Doc>>();
  const contexts = new Map<string, Named<Doc>>();
  let current: string | undefined;
  let currentFile: string | undefined;
  const origin = new Map<object, string>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new KubeConfigError(`kubeconfig ${file}: cannot read it (${(error as Error).message})`);
    }
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (error) {
      throw new KubeConfigError(`kubeconfig ${file}: not valid YAML (${yamlErrorWhere(error)})`);
    }
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== "object" || Array.isArray(doc))
      throw new KubeConfigError(`kubeconfig ${file}: not a kubeconfig (expected a mapping)`);
    const d = doc as Doc;
    const collect = (field: string, inner: string, into: Map<string, Named<Doc>>) => {
      const list = d[field];
      if (list === undefined || list === null) return;
      if (!Array.isArray(list)) throw new KubeConfigError(`kubeconfig ${file}: ${field} must be a list`);
      for (const [i, entry] of list.entries()) {
        const e = entry as Doc | null;
        if (!e || typeof e.name !== "string" || e.name === "")
          throw new KubeConfigError(`kubeconfig ${file}: ${field}[${i}].name is missing`);
        const value = (e[inner] ?? {}) as Doc;
        if (typeof value !== "object" || Array.isArray(value))
          throw new KubeConfigError(`kubeconfig ${file}: ${field}[${i}].${inner} must be a mapping`);
        if (!into.has(e.name)) {
          into.set(e.name, { name: e.name, value });
          origin.set(value, file);
        }
      }
    };
    collect("clusters", "cluster", clusters);
    collect("users", "user", users);
    collect("contexts", "context", contexts);
    const cc = d["current-context"];
    if (current === undefined && typeof cc === "string" && cc !== "") {
      current = cc;
      currentFile = file;
    }
  }
  const where = files.join(delimiter);
  if (!current) throw new KubeConfigError(`kubeconfig ${where}: current-context is not set`);
  const context = contexts.get(current)?.value;
  if (!context) throw new KubeConfigError(`kubeconfig ${currentFile}: context "${current}" is not defined`);
  const clusterName = context.cluster;
  const userName = context.user;
  if (typeof clusterName !== "string" || clusterName === "")
    throw new KubeConfigError(`kubeconfig ${where}: contexts[${current}].context.cluster is missing`);
  const cluster = clusters.get(clusterName)?.value;
  if (!cluster) throw new KubeConfigError(`kubeconfig ${where}: cluster "${clusterName}" is not defined`);
  const user =
    typeof userName === "string" && userName !== "" ? (users.get(userName)?.value ?? undefined) : {};
  if (!user) throw new KubeConfigError(`kubeconfig ${where}: user "${String(userName)}" is not defined`);

  const clusterFile = origin.get(cluster) ?? where;
  const userFile = origin.get(user) ?? where;
  const clusterField = (f: string) => `kubeconfig ${clusterFile}: clusters[${clusterName}].cluster.${f}`;
  const userField = (f: string) => `kubeconfig ${userFile}: users[${String(userName)}].user.${f}`;

  const raw = cluster.server;
  if (typeof raw !== "string" || raw === "")
    throw new KubeConfigError(`${clusterField("server")} is missing`);
  // client-go's rule: a server without a scheme is https.
  const server = raw.includes("://") ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeConfigError(`${clusterField("server")} is not a URL: ${raw}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new KubeConfigError(`${clusterField("server")} must be an https:// (or http://) URL: ${raw}`);
  if (cluster["proxy-url"]) throw new KubeConfigError(`${clusterField("proxy-url")} is not supported`);
  for (const f of ["auth-provider", "as", "as-uid", "as-groups", "as-user-extra"]) {
    if (user[f] !== undefined) throw new KubeConfigError(`${userField(f)} is not supported`);
  }

  const tls: ClusterAccess["tls"] = {};
  const ca = pem(cluster, "certificate-authority", clusterFile, clusterField);
  if (ca) tls.ca = ca;
  if (cluster["insecure-skip-tls-verify"] === true) tls.insecure = true;
  if (typeof cluster["tls-server-name"] === "string") tls.servername = cluster["tls-server-name"];
  const cert = pem(user, "client-certificate", userFile, userField);
  const key = pem(user, "client-key", userFile, userField);
  if (cert && !key)
    throw new KubeConfigError(`${userField("client-key")} is missing (client-certificate is set)`);
  if (key && !cert)
    throw new KubeConfigError(`${userField("client-certificate")} is missing (client-key is set)`);
  if (cert) tls.cert = cert;
  if (key) tls.key = key;

  let authorization: ClusterAccess["authorization"] = async () => undefined;
  if (typeof user.token === "string" && user.token !== "") {
    const header = `Bearer ${user.token}`;
    authorization = async () => header;
  } else if (typeof user.tokenFile === "string" && user.tokenFile !== "") {
    authorization = bearerFromFile(relativeTo(userFile, user.tokenFile));
  } else if (user.exec !== undefined) {
    authorization = execPlugin(user.exec as Doc, userFile, userField, env);
  } else if (typeof user.username === "string") {
    const basic = `Basic ${Buffer.from(`${user.username}:${String(user.password ?? "")}`).toString("base64")}`;
    authorization = async () => basic;
  }
  return {
    server: server.replace(/\/+$/, ""),
    tls,
    authorization,
    source: `${currentFile} (context ${current})`,
    origin: { files },
  };
}

/** `<field>-data` (base64) or `<field>` (a path relative to the file), as PEM text. */
function pem(section: Doc, field: string, file: string, name: (f: string) => string): string | undefined {
  const data = section[`${field}-data`];
  if (typeof data === "string" && data !== "") return Buffer.from(data, "base64").toString("utf8");
  const path = section[field];
  if (typeof path !== "string" || path === "") return undefined;
  const full = relativeTo(file, path);
  try {
    return readFileSync(full, "utf8");
  } catch (error) {
    throw new KubeConfigError(`${name(field)}: cannot read ${full} (${(error as Error).message})`);
  }
}

function relativeTo(file: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dirname(file), path);
}

/** A bearer token read from `path`, read again once a minute (projected tokens are rotated). */
function bearerFromFile(path: string): () => Promise<string | undefined> {
  let cached: { header: string; at: number } | undefined;
  return async () => {
    const now = Date.now();
    if (!cached || now - cached.at > TOKEN_FILE_TTL_MS) {
      const token = readFileSync(path, "utf8").trim();
      cached = { header: `Bearer ${token}`, at: now };
    }
    return cached.header;
  };
}

/**
 * A client.authentication.k8s.io exec plugin that returns a token: run when there is no token yet or the last
 * one has expired (per its expirationTimestamp); one run at a time.
 */
function execPlugin(
  exec: Doc,
  file: string,
  field: (f: string) => string,
  env: Record<string, string | undefined>,
): ClusterAccess["authorization"] {
  const command = exec.command;
  if (typeof command !== "string" || command === "")
    throw new KubeConfigError(`${field("exec.command")} is missing`);
  const args = Array.isArray(exec.args) ? exec.args.map(String) : [];
  const extraEnv: Record<string, string> = {};
  if (Array.isArray(exec.env)) {
    for (const e of exec.env as Doc[])
      if (typeof e?.name === "string") extraEnv[e.name] = String(e.value ?? "");
  }
  const apiVersion =
    typeof exec.apiVersion === "string" ? exec.apiVersion : "client.authentication.k8s.io/v1";
  // A command with a path separator is relative to the kubeconfig (kubectl's rule); a bare name is looked up on PATH.
  const cmd = command.includes("/") ? relativeTo(file, command) : command;
  let cached: { header: string; expiresAt: number } | undefined;
  let running: Promise<string> | undefined;
  const run = () =>
    new Promise<string>((resolvePromise, reject) => {
      const execInfo = JSON.stringify({ apiVersion, kind: "ExecCredential", spec: { interactive: false } });
      execFile(
        cmd,
        args,
        { env: { ...env, ...extraEnv, KUBERNETES_EXEC_INFO: execInfo }, timeout: 60_000, maxBuffer: 1 << 20 },
        (error, stdout, stderr) => {
          if (error) {
            const detail = String(stderr).trim().split("\n").slice(-1)[0] ?? error.message;
            return reject(
              new KubeConfigError(`${field("exec")}: ${command} failed: ${detail || error.message}`),
            );
          }
          let status: Doc | undefined;
          try {
            status = (JSON.parse(String(stdout)) as Doc).status as Doc | undefined;
          } catch {
            return reject(
              new KubeConfigError(`${field("exec")}: ${command} did not print an ExecCredential`),
            );
          }
          if (status?.clientCertificateData || status?.clientKeyData)
            return reject(
              new KubeConfigError(`${field("exec")}: client certificates from a plugin are not supported`),
            );
          if (typeof status?.token !== "string" || status.token === "")
            return reject(new KubeConfigError(`${field("exec")}: ${command} returned no status.token`));
          const expiry =
            typeof status.expirationTimestamp === "string"
              ? Date.parse(status.expirationTimestamp)
              : Number.NaN;
          const header = `Bearer ${status.token}`;
          // Renewed a little before it expires; without an expiry it is kept for the process's life (kubectl does too).
          cached = {
            header,
            expiresAt: Number.isFinite(expiry) ? expiry - 10_000 : Number.POSITIVE_INFINITY,
          };
          resolvePromise(header);
        },
      );
    });
  return async () => {
    if (cached && Date.now() < cached.expiresAt) return cached.header;
    running ??= run().finally(() => {
      running = undefined;
    });
    return running;
  };
}

/**
 * Where a YAML error is, without its message: the parser quotes the offending line, which in a kubeconfig may be a
 * token or a key.
 */
function yamlErrorWhere(error: unknown): string {
  const { code, linePos } = error as { code?: string; linePos?: { line: number; col: number }[] };
  const at = linePos?.[0];
  return [code ?? "parse error", at ? `at line ${at.line}, column ${at.col}` : undefined]
    .filter(Boolean)
    .join(" ");
}
