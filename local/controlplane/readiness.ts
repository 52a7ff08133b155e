// Waits for a freshly started server to answer its health endpoint, failing fast when the process dies.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { ServerProcess } from "./processes.ts";

/** Client TLS material for an https health endpoint. */
export interface ClientTls {
  ca: string;
  cert: string;
  key: string;
}

/** The process stopped before it became ready; the message carries its log tail. */
export class ServerExitedError extends Error {
  constructor(
    readonly server: ServerProcess,
    readonly log: string,
  ) {
    super(`${server.name} exited before it was ready (${JSON.stringify(server.exitStatus())}); log:\n${log}`);
  }
}

function get(url: URL, tls: ClientTls | undefined, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const options = { method: "GET", timeout: timeoutMs, ...(tls ?? {}) };
    const request = url.protocol === "https:" ? httpsRequest(url, options) : httpRequest(url, options);
    request.once("response", (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once("timeout", () => request.destroy(new Error("timeout")));
    request.once("error", reject);
    request.end();
  });
}

/**
 * Polls `url` until it answers 200, the process exits (ServerExitedError), or `timeoutMs` passes.
 * Returns the milliseconds it took.
 */
export async function waitUntilReady(
  server: ServerProcess,
  url: URL,
  options: { tls?: ClientTls; timeoutMs: number; intervalMs?: number },
): Promise<number> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  let lastProblem = "no answer yet";
  while (Date.now() < deadline) {
    if (server.exitStatus()) throw new ServerExitedError(server, server.logTail());
    try {
      const status = await get(url, options.tls, 2_000);
      if (status === 200) return Date.now() - started;
      lastProblem = `HTTP ${status}`;
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    await Promise.race([
      server.exited,
      new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100)),
    ]);
  }
  throw new Error(
    `${server.name} not ready at ${url} after ${options.timeoutMs} ms (${lastProblem}); log:\n${server.logTail()}`,
  );
}
