// Where the provisioner finds its engine and state: the environment variables the operator reads.
import type { PulumiAutomationOptions } from "./automation.ts";

/** The backend the operator uses when PULUMI_BACKEND_URL is unset: a file backend on its volume. */
export const DEFAULT_BACKEND_URL = "file:///var/lib/modelkeys/pulumi";

/** The variables read by {@link automationSettingsFromEnv}. */
export const ENV = {
  backendUrl: "PULUMI_BACKEND_URL",
  pulumiRoot: "MODELKEYS_PULUMI_DIR",
  pulumiHome: "PULUMI_HOME",
} as const;

/**
 * Backend, CLI directory and PULUMI_HOME from the environment; the passphrase is not among them
 * (the operator reads it from a Secret and passes it in).
 */
export function automationSettingsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Pick<PulumiAutomationOptions, "backendUrl" | "pulumiRoot" | "pulumiHome"> {
  return {
    backendUrl: env[ENV.backendUrl] || DEFAULT_BACKEND_URL,
    ...(env[ENV.pulumiRoot] ? { pulumiRoot: env[ENV.pulumiRoot] } : {}),
    ...(env[ENV.pulumiHome] ? { pulumiHome: env[ENV.pulumiHome] } : {}),
  };
}
