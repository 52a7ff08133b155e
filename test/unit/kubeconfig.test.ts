// The operator's kubeconfig loader on real files: the current context's cluster and user, files relative to the
// kubeconfig, merged KUBECONFIG lists, token files and exec plugins, in-cluster service accounts, and a clear
// error naming the field for what is broken or not supported.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { KubeClient } from "../../operator/kube/client.ts";
import { clientNodeKubeConfig } from "../../operator/kube/client-node-bridge.ts";
import { inCluster, KubeConfigError, loadClusterAccess } from "../../operator/kube/kubeconfig.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kubeconfig-test-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const b64 = (text: string) => Buffer.from(text).toString("base64");
const CA = "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n";

function write(name: string, content: unknown): string {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, typeof content === "string" ? content : stringify(content));
  return path;
}

/** A kubeconfig with one context `main` of `cluster` and `user`. */
function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown>, extra = {}) {
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "c", cluster }],
    users: [{ name: "u", user }],
    contexts: [{ name: "main", context: { cluster: "c", user: "u", namespace: "ignored" } }],
    "current-context": "main",
    ...extra,
  };
}

const load = (file: string) => loadClusterAccess({ file, env: {} });

describe("kubeconfig loader", () => {
  it("reads the current context's server, CA data and token", async () => {
    const file = write(
      "config",
      kubeconfig(
        { server: "https://api.example:6443/", "certificate-authority-data": b64(CA) },
        { token: "t0k" },
      ),
    );
    const access = load(file);
    expect(access.server).toBe("https://api.example:6443");
    expect(access.tls).toEqual({ ca: CA });
    expect(await access.authorization()).toBe("Bearer t0k");
    expect(access.source).toBe(`${file} (context main)`);
  });

  it("reads certificate files relative to the kubeconfig, and the TLS switches", async () => {
    write("pki/ca.crt", CA);
    write("pki/client.crt", CERT);
    write("pki/client.key", KEY);
    const file = write(
      "nested/../config",
      kubeconfig(
        {
          server: "https://10.0.0.1",
          "certificate-authority": "pki/ca.crt",
          "insecure-skip-tls-verify": true,
          "tls-server-name": "kubernetes.default",
        },
        { "client-certificate": "pki/client.crt", "client-key": join(dir, "pki/client.key") },
      ),
    );
    const access = load(file);
    expect(access.tls).toEqual({
      ca: CA,
      cert: CERT,
      key: KEY,
      insecure: true,
      servername: "kubernetes.default",
    });
    expect(await access.authorization()).toBeUndefined();
  });

  it("takes client certificate and key data, and basic credentials", async () => {
    const file = write(
      "config",
      kubeconfig(
        { server: "https://api" },
        {
          "client-certificate-data": b64(CERT),
          "client-key-data": b64(KEY),
          username: "ada",
          password: "pw",
        },
      ),
    );
    const access = load(file);
    expect(access.tls).toEqual({ cert: CERT, key: KEY });
    expect(await access.authorization()).toBe(`Basic ${b64("ada:pw")}`);
  });

  it("reads a tokenFile", async () => {
    write("token", "from-file\n");
    const access = load(write("config", kubeconfig({ server: "https://api" }, { tokenFile: "token" })));
    expect(await access.authorization()).toBe("Bearer from-file");
  });

  it("merges a KUBECONFIG list: the first file to name a context, cluster or user wins", async () => {
    const first = write("first", {
      "current-context": "main",
      clusters: [{ name: "c", cluster: { server: "https://first" } }],
    });
    const second = write(
      "second",
      kubeconfig({ server: "https://second" }, { token: "second-token" }, { "current-context": "other" }),
    );
    const access = loadClusterAccess({ env: { KUBECONFIG: [first, second].join(delimiter) } });
    expect(access.server).toBe("https://first");
    expect(await access.authorization()).toBe("Bearer second-token");
  });

  it("runs an exec plugin for a token and keeps it until it expires", async () => {
    const counter = join(dir, "runs");
    const plugin = write(
      "plugin.mjs",
      `import { appendFileSync } from "node:fs";
appendFileSync(${JSON.stringify(counter)}, "x");
const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);
process.stdout.write(JSON.stringify({ apiVersion: info.apiVersion, kind: "ExecCredential",
  status: { token: "exec-" + process.env.EXTRA + "-" + process.argv[2], expirationTimestamp: process.argv[3] } }));`,
    );
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const file = write(
      "config",
      kubeconfig(
        { server: "https://api" },
        {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1",
            command: process.execPath,
            args: [plugin, "a1", future],
            env: [{ name: "EXTRA", value: "e" }],
          },
        },
      ),
    );
    const access = load(file);
    expect(await Promise.all([access.authorization(), access.authorization()])).toEqual([
      "Bearer exec-e-a1",
      "Bearer exec-e-a1",
    ]);
    expect(await access.authorization()).toBe("Bearer exec-e-a1");
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(counter, "utf8")).toBe("x");
  });

  it("runs an expired exec credential's plugin again", async () => {
    const counter = join(dir, "runs");
    const plugin = write(
      "plugin.mjs",
      `import { appendFileSync, readFileSync } from "node:fs";
appendFileSync(${JSON.stringify(counter)}, "x");
const n = readFileSync(${JSON.stringify(counter)}, "utf8").length;
process.stdout.write(JSON.stringify({ status: { token: "t" + n, expirationTimestamp: "2000-01-01T00:00:00Z" } }));`,
    );
    const access = load(
      write(
        "config",
        kubeconfig({ server: "https://api" }, { exec: { command: process.execPath, args: [plugin] } }),
      ),
    );
    expect(await access.authorization()).toBe("Bearer t1");
    expect(await access.authorization()).toBe("Bearer t2");
  });

  it("names the plugin when it fails", async () => {
    const plugin = write("fail.sh", "#!/bin/sh\necho 'no credentials here' >&2\nexit 3\n");
    chmodSync(plugin, 0o755);
    const access = load(
      write("config", kubeconfig({ server: "https://api" }, { exec: { command: "./fail.sh" } })),
    );
    await expect(access.authorization()).rejects.toThrow(
      /users\[u\]\.user\.exec: \.\/fail\.sh failed: no credentials here/,
    );
  });

  it("uses the pod's service account in a cluster", async () => {
    const sa = join(dir, "sa");
    write("sa/token", "sa-token");
    write("sa/ca.crt", CA);
    const access = inCluster({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443" }, sa);
    expect(access.server).toBe("https://[fd00::1]:6443");
    expect(access.tls).toEqual({ ca: CA });
    expect(await access.authorization()).toBe("Bearer sa-token");
    const fallback = loadClusterAccess({
      env: { HOME: join(dir, "home"), KUBERNETES_SERVICE_HOST: "10.96.0.1" },
      serviceAccountDir: sa,
    });
    expect(fallback.server).toBe("https://10.96.0.1:443");
    expect(fallback.source).toBe("in-cluster");
  });

  describe("a kubeconfig it cannot use fails with the file and the field", () => {
    const cases: [string, unknown, RegExp][] = [
      ["not YAML", "clusters: [\n  - name", /config: not valid YAML/],
      ["not a mapping", "- a\n- b\n", /config: not a kubeconfig/],
      ["no current context", { clusters: [] }, /config: current-context is not set/],
      [
        "an unknown context",
        { ...kubeconfig({ server: "https://api" }, {}), "current-context": "nope" },
        /context "nope" is not defined/,
      ],
      [
        "an unknown cluster",
        { ...kubeconfig({ server: "https://api" }, {}), clusters: [] },
        /cluster "c" is not defined/,
      ],
      ["no server", kubeconfig({}, {}), /clusters\[c\]\.cluster\.server is missing/],
      [
        "a server that is no URL",
        kubeconfig({ server: "api:6443 x" }, {}),
        /clusters\[c\]\.cluster\.server is not a URL/,
      ],
      [
        "a missing certificate file",
        kubeconfig({ server: "https://api", "certificate-authority": "missing.crt" }, {}),
        /clusters\[c\]\.cluster\.certificate-authority: cannot read .*missing\.crt/,
      ],
      [
        "a certificate without its key",
        kubeconfig({ server: "https://api" }, { "client-certificate-data": b64(CERT) }),
        /users\[u\]\.user\.client-key is missing/,
      ],
      [
        "an auth-provider",
        kubeconfig({ server: "https://api" }, { "auth-provider": { name: "gcp" } }),
        /users\[u\]\.user\.auth-provider is not supported/,
      ],
      [
        "impersonation",
        kubeconfig({ server: "https://api" }, { as: "admin" }),
        /users\[u\]\.user\.as is not supported/,
      ],
      [
        "a proxy",
        kubeconfig({ server: "https://api", "proxy-url": "http://proxy:3128" }, {}),
        /clusters\[c\]\.cluster\.proxy-url is not supported/,
      ],
      [
        "an exec plugin without a command",
        kubeconfig({ server: "https://api" }, { exec: { args: ["x"] } }),
        /users\[u\]\.user\.exec\.command is missing/,
      ],
    ];
    it.each(cases)("%s", (_name, content, message) => {
      const file = write("config", content);
      let error: unknown;
      try {
        load(file);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(KubeConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain(file.split("/").slice(0, -1).join("/"));
    });

    it("a broken YAML file says where, never what: the line may hold a token", () => {
      const token = "sk-kube-token-Vq81mZ";
      const file = write("config", `users:\n- name: u\n  user:\n    token: ${token}\n  [oops\n`);
      expect(() => load(file)).toThrow(/not valid YAML \(\S+ at line \d+, column \d+\)/);
      expect(() => load(file)).not.toThrow(token);
    });

    it("a missing file", () => {
      expect(() => load(join(dir, "absent"))).toThrow(/kubeconfig .*absent: cannot read it/);
    });

    it("no cluster at all", () => {
      expect(() => loadClusterAccess({ env: { HOME: join(dir, "home") } })).toThrow(/no cluster configured/);
    });
  });

  it("hands the same cluster and identity to client-node for code that needs its typed clients", () => {
    const first = write("first", kubeconfig({ server: "https://api.example" }, { token: "t1" }));
    const second = write("second", {
      clusters: [{ name: "other", cluster: { server: "https://other" } }],
    });
    const access = loadClusterAccess({ env: { KUBECONFIG: [first, second].join(delimiter) } });
    const config = clientNodeKubeConfig(new KubeClient(access));
    expect(config.getCurrentCluster()?.server).toBe("https://api.example");
    expect(config.getCurrentUser()?.token).toBe("t1");
    expect(
      config
        .getClusters()
        .map((c) => c.name)
        .sort(),
    ).toEqual(["c", "other"]);

    const bare = clientNodeKubeConfig(
      new KubeClient({
        server: "http://127.0.0.1:1",
        tls: { insecure: true },
        authorization: async () => undefined,
        source: "proxy",
      }),
    );
    expect(bare.getCurrentCluster()).toMatchObject({ server: "http://127.0.0.1:1", skipTLSVerify: true });
  });
});
