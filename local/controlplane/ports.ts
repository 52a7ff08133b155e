// Free loopback TCP ports for the control plane's listeners.
import { createServer, type Server } from "node:net";

function listen(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

/**
 * Asks the kernel for `count` distinct free ports on 127.0.0.1 (all held open together, so they differ)
 * and releases them.
 *
 * Caveats: another process may take a port between release and use; callers retry on "address already
 * in use".
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listen());
    return servers.map((server) => {
      const address = server.address();
      if (!address || typeof address !== "object") throw new Error("no port assigned");
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
