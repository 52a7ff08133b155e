// Pulumi.yaml's `config:` declarations as the real Pulumi CLI reads them: it accepts the project file, stops a
// stack that lacks a required key before anything runs, and fills in the declared defaults.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const PROJECT_FILE = fileURLToPath(new URL("../../Pulumi.yaml", import.meta.url));

/** The CLI: MODELKEYS_PULUMI_DIR/bin/pulumi (local/pulumi/build.sh), else `pulumi` on PATH. */
function pulumiBinary(): string | undefined {
  const dir = process.env.MODELKEYS_PULUMI_DIR;
  if (dir) return existsSync(join(dir, "bin", "pulumi")) ? join(dir, "bin", "pulumi") : undefined;
  const found = (process.env.PATH ?? "").split(delimiter).find((p) => p && existsSync(join(p, "pulumi")));
  return found ? join(found, "pulumi") : undefined;
}
const binary = pulumiBinary();
if (!binary && process.env.CI === "true") {
  throw new Error("the Pulumi CLI is required in CI: set MODELKEYS_PULUMI_DIR=$(bash local/pulumi/build.sh)");
}
const withCli = binary ? describe : describe.skip;

withCli("Pulumi.yaml's config declarations, read by the Pulumi CLI", () => {
  let dir: string;

  /** Runs the CLI in a copy of the project with a file backend; never throws for a non-zero exit. */
  async function pulumi(args: string[]): Promise<{ code: number; output: string }> {
    try {
      const { stdout, stderr } = await run(binary as string, [...args, "--non-interactive"], {
        cwd: dir,
        env: {
          ...process.env,
          PULUMI_BACKEND_URL: `file://${join(dir, "state")}`,
          PULUMI_HOME: join(dir, "home"),
          PULUMI_CONFIG_PASSPHRASE: "test-only",
          PULUMI_SKIP_UPDATE_CHECK: "true",
        },
      });
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? 1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelkeys-project-config-"));
    await mkdir(join(dir, "state"));
    await copyFile(PROJECT_FILE, join(dir, "Pulumi.yaml"));
    const init = await pulumi(["stack", "init", "dev"]);
    expect(init.code, init.output).toBe(0);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("stops a stack without the required keys before running the program, naming them", async () => {
    const preview = await pulumi(["preview"]);
    expect(preview.code).not.toBe(0);
    expect(preview.output).toContain(
      "Stack 'dev' is missing configuration values 'accountName', 'deployments' and 'resourceGroupName'",
    );
  });

  it("fills in the declared defaults for the other keys", async () => {
    for (const args of [
      ["config", "set", "accountName", "acme-openai"],
      ["config", "set", "resourceGroupName", "rg-llm"],
      ["config", "set", "--path", "deployments[0].model", "gpt-4o"],
    ]) {
      const set = await pulumi(args);
      expect(set.code, set.output).toBe(0);
    }
    const shown = await pulumi(["config", "--json"]);
    expect(shown.code, shown.output).toBe(0);
    const values = Object.fromEntries(
      Object.entries(JSON.parse(shown.output) as Record<string, { value?: string }>).map(([key, entry]) => [
        key,
        entry.value,
      ]),
    );
    expect(values).toMatchObject({
      "modelkeys:createResourceGroup": "false",
      "modelkeys:sku": "S0",
      "modelkeys:publicNetworkAccess": "Enabled",
      "modelkeys:location": "",
      "modelkeys:customSubDomainName": "",
      "modelkeys:networkRules": "{}",
    });
  });
});
