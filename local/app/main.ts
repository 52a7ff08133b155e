// Runs the Label Studio contract server alone: `tsx local/app/main.ts --port 8765`. The token of its one owner
// (organization 1) comes from MODELKEYS_SANDBOX_TOKEN, so no secret is ever printed.
import { parseArgs } from "node:util";
import pino from "pino";
import { STAND_IN_NOTICE, startAppServer } from "./server.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8765" },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port: not a port number: ${values.port}`);
  process.exit(2);
}
const token = process.env.MODELKEYS_SANDBOX_TOKEN;
if (!token) {
  console.error("MODELKEYS_SANDBOX_TOKEN: set it to the legacy API token the sandbox's owner should have");
  process.exit(2);
}

const logger = pino({ name: "app-sandbox" });
const server = await startAppServer({ port, logger });
server.state.addUser({ role: "owner", organization: 1, email: "owner@sandbox.local", legacyToken: token });
logger.info(
  { event: "appsandbox.seeded", organization: 1, role: "owner", tokenFrom: "MODELKEYS_SANDBOX_TOKEN" },
  STAND_IN_NOTICE,
);

const stop = () => {
  server.stop().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
