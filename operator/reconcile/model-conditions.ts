// The conditions a model check decides (CredentialsValid, ModelsAvailable, and for Custom servers
// OpenAICompatible and JSONMode): pure, from the check's outcome and the models the users expect.
import { CONDITION, REASON, type Reason } from "../constants.ts";
import type { ModelCheck, ModelCheckOutcome } from "../providers/types.ts";
import type { ConditionIntent } from "./conditions.ts";

const CHECK_REASON: Record<ModelCheckOutcome, Reason> = {
  Valid: REASON.Valid,
  InvalidCredentials: REASON.InvalidCredentials,
  RateLimited: REASON.RateLimited,
  Unavailable: REASON.ProviderUnavailable,
  NetworkRestricted: REASON.NetworkRestricted,
  NotOpenAICompatible: REASON.NotOpenAICompatible,
  JSONModeUnsupported: REASON.JSONModeUnsupported,
  EgressDenied: REASON.EgressDenied,
};

/** The conditions a model check decides. Transient failures say Unknown and keep the last known models. */
export function modelConditions(
  isCustom: boolean,
  check: ModelCheck,
  expected: readonly string[] | undefined,
): ConditionIntent[] {
  const reason = CHECK_REASON[check.outcome];
  const transient = check.outcome === "RateLimited" || check.outcome === "Unavailable";
  const credentialsFailed =
    check.outcome === "InvalidCredentials" ||
    check.outcome === "NetworkRestricted" ||
    check.outcome === "EgressDenied";
  const intents: ConditionIntent[] = [
    {
      type: CONDITION.CredentialsValid,
      status: transient ? "Unknown" : credentialsFailed ? "False" : "True",
      reason: transient || credentialsFailed ? reason : REASON.Valid,
      message: check.message,
    },
  ];
  if (isCustom) {
    intents.push(
      check.openAICompatible === undefined
        ? {
            type: CONDITION.OpenAICompatible,
            status: "Unknown",
            reason: REASON.NotChecked,
            message: check.message,
          }
        : check.openAICompatible
          ? {
              type: CONDITION.OpenAICompatible,
              status: "True",
              reason: REASON.Valid,
              message: "the server lists its models in the OpenAI format",
            }
          : {
              type: CONDITION.OpenAICompatible,
              status: "False",
              reason: REASON.NotOpenAICompatible,
              message: check.message,
            },
      check.jsonMode === undefined
        ? { type: CONDITION.JSONMode, status: "Unknown", reason: REASON.NotChecked, message: check.message }
        : check.jsonMode
          ? {
              type: CONDITION.JSONMode,
              status: "True",
              reason: REASON.JSONModeSupported,
              message: "the server answers in JSON mode",
            }
          : {
              type: CONDITION.JSONMode,
              status: "False",
              reason: REASON.JSONModeUnsupported,
              message:
                "the server does not support JSON mode (response_format json_object), which the app requires",
            },
    );
  }
  if (!transient) intents.push(modelsAvailableCondition(check, expected));
  return intents;
}

function modelsAvailableCondition(
  check: ModelCheck,
  expected: readonly string[] | undefined,
): ConditionIntent {
  const available = new Set(check.models.filter((m) => m.available).map((m) => m.name));
  if (expected && expected.length > 0) {
    // The check knows more than the names: a deployment serving gpt-4o-2024-11-20 meets an expected gpt-4o.
    // A check that reached no model meets nothing, whatever its (then empty) expectedMissing says.
    const metByCheck = (name: string) =>
      available.size > 0 && check.expectedMissing !== undefined && !check.expectedMissing.includes(name);
    const missing = expected.filter((name) => !available.has(name) && !metByCheck(name));
    if (missing.length === expected.length) {
      return {
        type: CONDITION.ModelsAvailable,
        status: "False",
        reason: REASON.NoModelsAvailable,
        message: `none of the expected models is available: ${missing.join(", ")}`,
      };
    }
    return missing.length > 0
      ? {
          type: CONDITION.ModelsAvailable,
          status: "True",
          reason: REASON.ModelsMissing,
          message: `missing: ${missing.join(", ")}`,
        }
      : {
          type: CONDITION.ModelsAvailable,
          status: "True",
          reason: REASON.ModelsAvailable,
          message: `all ${expected.length} expected models are available`,
        };
  }
  return available.size > 0
    ? {
        type: CONDITION.ModelsAvailable,
        status: "True",
        reason: REASON.ModelsAvailable,
        message: `${available.size} supported models available`,
      }
    : {
        type: CONDITION.ModelsAvailable,
        status: "False",
        reason: REASON.NoModelsAvailable,
        message: "no supported model is available with this credential",
      };
}
