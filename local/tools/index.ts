// Finds and runs the ecosystem tools built from local/tools (helm, kstatus, argo-health, promrules, promtext):
// MODELKEYS_TOOLS_DIR when set (as .ci/run exports it), otherwise the cached build of build.sh.
import { execFile, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";

/** The commands local/tools builds. */
export type ToolName = "helm" | "kstatus" | "argo-health" | "promrules" | "promtext";

const TOOLS: ToolName[] = ["helm", "kstatus", "argo-health", "promrules", "promtext"];
const BUILD_SCRIPT = join(import.meta.dirname, "build.sh");

function assertComplete(dir: string, origin: string): string {
  const missing = TOOLS.filter((tool) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) throw new Error(`${origin}: missing or not executable: ${missing.join(", ")}`);
  return dir;
}

let built: Promise<string> | undefined;

/** Runs build.sh once per process (a warm cache answers at once) and returns the directory it prints. */
function build(): Promise<string> {
  built ??= new Promise<string>((resolve, reject) => {
    const child = spawn("bash", [BUILD_SCRIPT], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      const dir = stdout.trim().split("\n").at(-1);
      if (code !== 0 || !dir) reject(new Error(`local/tools/build.sh exited with ${code}`));
      else resolve(assertComplete(dir, "local/tools/build.sh"));
    });
  });
  return built;
}

/** The directory holding the tools: MODELKEYS_TOOLS_DIR when set, otherwise the cached build. */
export async function resolveTools(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = env.MODELKEYS_TOOLS_DIR;
  if (dir) return assertComplete(dir, `MODELKEYS_TOOLS_DIR=${dir}`);
  return build();
}

/** What a tool run printed and how it exited. */
export interface ToolResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs one tool with arguments and optional standard input; never throws on a non-zero exit. */
export async function runTool(
  tool: ToolName,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolResult> {
  const path = join(await resolveTools(), tool);
  return new Promise((resolve, reject) => {
    const child = execFile(
      path,
      args,
      { env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") reject(error);
        else resolve({ stdout, stderr, code: error ? Number(error.code) : 0 });
      },
    );
    child.stdin?.end(options.input ?? "");
  });
}

/** Runs a tool that prints JSON and parses it; a non-zero exit throws with the tool's stderr. */
export async function runToolJson<T>(tool: ToolName, args: string[], input?: string): Promise<T> {
  const result = await runTool(tool, args, { input });
  if (result.code !== 0)
    throw new Error(`${tool} ${args.join(" ")} exited with ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
