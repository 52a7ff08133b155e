// A user-supplied endpoint through the egress guard: resolved within the call's time limit, refused with
// EgressDenied, or handed back as a fetch pinned to the addresses that were checked.
import type { PinnedFetch } from "./egress.ts";
import { callSignal, failed, failureFromError } from "./http.ts";
import type { ModelCheck, ProviderContext } from "./types.ts";

/**
 * Checks `url` (with the allow list for Custom endpoints, without it for Azure endpoints and token URIs)
 * and returns a pinned fetch, or the ModelCheck to answer: EgressDenied, or Unavailable when DNS does not
 * answer in time. Rejects only for the caller's abort. Close the pinned fetch when done.
 */
export async function guardedEndpoint(
  ctx: ProviderContext,
  what: string,
  url: string,
  enforceAllowList: boolean,
): Promise<PinnedFetch | { failure: ModelCheck }> {
  let decision: Awaited<ReturnType<ProviderContext["egress"]["check"]>>;
  try {
    decision = await ctx.egress.check(url, { enforceAllowList, signal: callSignal(ctx) });
  } catch (error) {
    return { failure: failureFromError(ctx, `DNS for ${what}`, error) };
  }
  if (!decision.allowed) {
    // An unresolvable host is an unreachable provider (retried with backoff), not a policy refusal.
    if (decision.unresolved)
      return { failure: failed("Unavailable", `${what} is unreachable: ${decision.reason}`) };
    return { failure: failed("EgressDenied", `${what} is refused: ${decision.reason}`) };
  }
  return ctx.egress.pin(decision, { enforceAllowList });
}
