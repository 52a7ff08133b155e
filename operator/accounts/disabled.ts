// Provisioning switched off (--azure-provisioning=false): the install then has no Secret write verbs, so a
// connection that asks for provisioning gets a terminal condition saying so instead of a 403 from the API server.
import { REASON } from "../constants.ts";
import { TerminalError } from "../error-policy.ts";
import type { Provisioning } from "../reconcile/ports.ts";

/** The message a connection with `azure.provision` gets when provisioning is off. */
export const PROVISIONING_OFF =
  "Azure provisioning is off in this install (--azure-provisioning=false / MODELKEYS_AZURE_PROVISIONING): give the connection an endpoint and a credentials Secret, or install with provisioning on";

/**
 * Provisioning that refuses: `provision` is a terminal ProvisionFailed; `deprovision` is done at once, since this
 * operator makes nothing (what an earlier install with provisioning on made stays in Azure; README says so).
 */
export function disabledProvisioning(): Provisioning {
  return {
    provision: async () => {
      throw new TerminalError(REASON.ProvisionFailed, PROVISIONING_OFF);
    },
    deprovision: async () => ({ kind: "Done" }),
    attach: () => {},
    stop: async () => {},
  };
}
