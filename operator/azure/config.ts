// Where the provisioner finds its engine and state: the environment variables the operator reads.
import type { PulumiAutomationOptions } from "./automation.ts";

/** The variables read by {@link automationSettingsFromEnv}. */
export const ENV = {
  backendUrl: "PULUMI_BACKEND_URL",
  pulumiRoot: "MODELKEYS_PULUMI_DIR",
  pulumiHome: "PULUMI_HOME",
} as const;

/**
 * Backend, CLI directory and PULUMI_HOME from the environment; the passphrase is not among them
 * (the operator reads it from a Secret and passes it in). Without PULUMI_BACKEND_URL there is no backend:
 * the stacks' state is kept in Kubernetes (a state store), which the caller passes in.
 */
export function automationSettingsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Pick<PulumiAutomationOptions, "backendUrl" | "pulumiRoot" | "pulumiHome"> {
  return {
    ...(env[ENV.backendUrl] ? { backendUrl: env[ENV.backendUrl] } : {}),
    ...(env[ENV.pulumiRoot] ? { pulumiRoot: env[ENV.pulumiRoot] } : {}),
    ...(env[ENV.pulumiHome] ? { pulumiHome: env[ENV.pulumiHome] } : {}),
  };
}
