// Runs the operator's controller in-process against the shared test cluster, as the operator's own identity,
// with its logs collected for assertions and canary scans.
import { testCluster } from "./cluster.ts";
import {
  type InProcessOperator,
  type InProcessOperatorOptions,
  startInProcessOperator,
} from "./in-process-operator.ts";

export type TestOperator = InProcessOperator;

export type TestOperatorOptions = Omit<InProcessOperatorOptions, "kc" | "logLevel">;

/** Starts a controller watching one namespace; resolves once its informers have listed. */
export async function startTestOperator(options: TestOperatorOptions): Promise<TestOperator> {
  const cluster = testCluster();
  await cluster.installOperatorRbac();
  return startInProcessOperator({ ...options, kc: cluster.operator.kube });
}

/**
 * A provider check that answers Valid at once with one available model (and, for Custom servers, OpenAI format
 * and JSON mode): for tests about the app side, where provider behaviour is not the subject.
 */
export function answersValid(model: string): NonNullable<TestOperatorOptions["checkModels"]> {
  return async () => ({
    outcome: "Valid",
    message: "checked",
    models: [{ name: model, available: true }],
    openAICompatible: true,
    jsonMode: true,
  });
}
