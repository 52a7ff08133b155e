// The scale benchmark's two yardsticks, each working through a fleet of Custom connections 4 at a time over one
// keep-alive pool per server, with no watch and no cache:
// - the bare script: what issue 8 measured the operator against (read the Secret, create the app record, write
//   a one-condition status);
// - the floor script: what any operator with this API and its guarantees must do per connection at the least
//   (the bare script's work, plus the finalizer write before the app write unless the connection was created
//   with it (the install's finalizer policy), the Custom check's two provider requests, and the status the
//   operator's own code builds from that check). Its time estimates the least an
//   operator could take, so operator / floor is the operator's own overhead; the control plane's CPU for the same
//   work varies from run to run, so one run at 10,000 had the operator at 0.94× the floor.
import { Agent, request } from "undici";
import { GROUP, type ProviderConnection, VERSION } from "../../crds/index.ts";
import type { AppServer } from "../../local/app/server.ts";
import { createAppClient } from "../../operator/app/client.ts";
import { FINALIZER } from "../../operator/constants.ts";
import { type KubeClient, PATCH } from "../../operator/kube/client.ts";
import { apiServerTransport } from "../../operator/kube/transport.ts";
import type { ModelCheck } from "../../operator/providers/types.ts";
import { planConnection } from "../../operator/reconcile/plan.ts";
import { nextStatus } from "../../operator/reconcile/status.ts";
import { FP_A, observe } from "../unit/fixtures/connection.ts";
import { inParallel } from "./fleet.ts";

export interface ScriptRun {
  ms: number;
  objects: number;
  /** The script's own CPU seconds (user + system). */
  cpuS: number;
}

interface ScriptOptions {
  kc: KubeClient;
  app: AppServer;
  /** The app token of the organization the script writes to (not the operator's: its records must not be adopted). */
  token: string;
  namespace: string;
  concurrency: number;
}

type Work = (c: ProviderConnection, io: ScriptIo) => Promise<void>;
interface ScriptIo {
  kube: KubeClient;
  app: ReturnType<typeof createAppClient>;
  connections: string;
  namespace: string;
}

/** Runs `work` on every connection of the namespace, `concurrency` at a time, timed and with its CPU. */
async function runScript(options: ScriptOptions, work: Work): Promise<ScriptRun> {
  const kube = apiServerTransport(options.kc, { qps: 0, burst: 1 });
  const app = createAppClient({ url: options.app.url, token: options.token });
  const started = Date.now();
  const cpu = process.cpuUsage();
  const connections = `/apis/${GROUP}/${VERSION}/namespaces/${options.namespace}/providerconnections`;
  try {
    const list = await kube.request<{ items: ProviderConnection[] }>("GET", connections);
    const io = { kube, app, connections, namespace: options.namespace };
    await inParallel(list.items.length, options.concurrency, (i) =>
      work(list.items[i] as ProviderConnection, io),
    );
    const used = process.cpuUsage(cpu);
    return { ms: Date.now() - started, objects: list.items.length, cpuS: (used.user + used.system) / 1e6 };
  } finally {
    await app.close();
  }
}

async function readApiKey(c: ProviderConnection, io: ScriptIo): Promise<string> {
  const secret = await io.kube.request<{ data?: Record<string, string> }>(
    "GET",
    `/api/v1/namespaces/${io.namespace}/secrets/${c.spec.custom?.apiKeySecretRef?.name ?? ""}`,
  );
  return Buffer.from(secret.data?.key ?? "", "base64").toString("utf8");
}

const createRecord = (c: ProviderConnection, io: ScriptIo, apiKey: string) =>
  io.app.createConnection({
    provider: "Custom",
    scope: "Model",
    deployment_name: c.spec.custom?.name ?? "",
    endpoint: c.spec.custom?.endpoint ?? "",
    api_key: apiKey,
  });

const writeStatus = (c: ProviderConnection, io: ScriptIo, status: unknown) =>
  io.kube.request("PATCH", `${io.connections}/${c.metadata.name}/status`, {
    contentType: PATCH.merge,
    body: { status },
  });

/** The bare script's status (write-cost measures it too): the app's id and one Ready condition. */
export function bareStatus(appConnectionId: number, now: Date) {
  return {
    appConnectionId,
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "Synced",
        message: "bare",
        lastTransitionTime: now.toISOString(),
      },
    ],
  };
}

/** What the Custom check finds on a server that answers `model` in JSON mode (write-cost builds its status too). */
export function validCustomCheck(model: string): ModelCheck {
  return {
    outcome: "Valid",
    message: `the server answers model "${model}" in JSON mode`,
    models: [{ name: model, available: true }],
    expectedMissing: [],
    openAICompatible: true,
    jsonMode: true,
  };
}

/** The bare script: read the Secret, create the app record, write a one-condition status. */
export function bareScript(options: ScriptOptions): Promise<ScriptRun> {
  return runScript(options, async (c, io) => {
    const record = await createRecord(c, io, await readApiKey(c, io));
    await writeStatus(c, io, bareStatus(record.id, new Date()));
  });
}

/**
 * The floor script: read the Secret; write the finalizer unless the connection has it (guarded by the listed
 * resourceVersion, as the operator does); list the server's models and ask for a JSON-mode completion (the Custom check, over plain undici, the
 * cheapest client); create the app record; write the status the operator's plan and status code build for a
 * valid check.
 */
export async function floorScript(options: ScriptOptions): Promise<ScriptRun> {
  const provider = new Agent({ keepAliveTimeout: 30_000 });
  try {
    return await runScript(options, async (c, io) => {
      const apiKey = await readApiKey(c, io);
      // Created with it under the install's finalizer policy; else written first, as the operator must.
      if (!c.metadata.finalizers?.includes(FINALIZER)) {
        await io.kube.request("PATCH", `${io.connections}/${c.metadata.name}`, {
          contentType: PATCH.merge,
          body: { metadata: { finalizers: [FINALIZER], resourceVersion: c.metadata.resourceVersion } },
        });
      }
      const model = c.spec.custom?.name ?? "";
      const endpoint = (c.spec.custom?.endpoint ?? "").replace(/\/$/, "");
      const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
      const [listed, completion] = await Promise.all([
        request(`${endpoint}/models`, { dispatcher: provider, headers }),
        request(`${endpoint}/chat/completions`, {
          dispatcher: provider,
          method: "POST",
          headers,
          body: JSON.stringify({
            model,
            messages: [{ role: "user", content: 'Reply with the JSON object {"ok": true}.' }],
            response_format: { type: "json_object" },
            max_tokens: 64,
          }),
        }),
      ]);
      const models = ((await listed.body.json()) as { data: { id: string }[] }).data;
      const answer = (await completion.body.json()) as { choices: { message: { content: string } }[] };
      JSON.parse(answer.choices[0]?.message.content ?? "");
      if (!models.some((m) => m.id === model)) throw new Error(`the stand-in does not serve ${model}`);
      const connection = { ...c, metadata: { ...c.metadata, finalizers: [FINALIZER] } };
      const plan = planConnection(
        observe(connection, {
          now: new Date(),
          credential: { kind: "Ready", fingerprint: FP_A },
          modelCheck: validCustomCheck(model),
        }),
      );
      if (plan.app.kind !== "create") throw new Error(`the floor's plan is ${plan.app.kind}, not create`);
      const record = await createRecord(c, io, apiKey);
      const result = { record, wroteApp: true, addedFinalizer: false, removedFinalizer: false };
      await writeStatus(c, io, nextStatus(connection, plan, result, new Date()));
    });
  } finally {
    await provider.close();
  }
}
