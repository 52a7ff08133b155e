// Azure provisioning loaded on first use: Pulumi and azure-native cost tens of MiB, and most installs never
// provision a connection, so the engine's modules are imported only when a provisioned connection shows up.
import type { Provisioning, ProvisioningHost } from "../reconcile/ports.ts";
import type { OperatorProvisioningOptions } from "./engine.ts";

/**
 * A {@link Provisioning} that imports `./engine.ts` (and with it Pulumi) at the first provision or deprovision.
 *
 * Guarantees: behaves as `operatorProvisioning(options)` once loaded; the host given to attach() is handed on;
 * stop() before any use loads nothing.
 */
export function lazyProvisioning(options: OperatorProvisioningOptions): Provisioning {
  let host: ProvisioningHost | undefined;
  let loaded: Promise<Provisioning> | undefined;
  const load = () => {
    loaded ??= import("./engine.ts").then(({ operatorProvisioning }) => {
      const provisioning = operatorProvisioning(options);
      if (host) provisioning.attach(host);
      return provisioning;
    });
    return loaded;
  };
  return {
    provision: async (connection) => (await load()).provision(connection),
    deprovision: async (connection) => (await load()).deprovision(connection),
    attach(h) {
      host = h;
    },
    async stop() {
      await (await loaded)?.stop();
    },
  };
}
