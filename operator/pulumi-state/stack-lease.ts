// The lock of one stack: a coordination.k8s.io/v1 Lease beside the stack's state Secret, held while an
// operation runs, renewed in the background, taken over once its holder stops renewing it.
import {
  ApiException,
  type CoordinationV1Api,
  type V1Lease,
  type V1LeaseSpec,
} from "@kubernetes/client-node";
import { type Clock, sleep } from "../clock.ts";
import { STACK_ANNOTATION, STATE_LABELS } from "./names.ts";

/** How a stack's Lease is held. */
export interface LeaseTiming {
  /** A Lease not renewed for this long may be taken over (whole seconds on the wire). @default 30000 */
  leaseDurationMs: number;
  /** Time between renewals while held. @default a third of the duration */
  renewIntervalMs: number;
  /** Time between attempts while another holder has it. @default 2000 */
  retryPeriodMs: number;
}

/** A held Lease. */
export interface HeldLease {
  /** Aborts when the Lease is lost: not renewed within two thirds of its duration, or another holder shows. */
  readonly lost: AbortSignal;
  /** Stops renewing and deletes the Lease (if still ours), so the next holder takes it at once. */
  release(): Promise<void>;
}

interface Target {
  api: CoordinationV1Api;
  namespace: string;
  name: string;
  stack: string;
  identity: string;
  timing: LeaseTiming;
  clock: Clock;
}

const microTime = (ms: number) =>
  new Date(ms).toISOString().replace(/Z$/, "000Z") as unknown as V1LeaseSpec["renewTime"];

/**
 * Takes the Lease `name` for `identity`, waiting while another holder renews it.
 *
 * Guarantees: as client-go's leader election, expiry is judged from when this process last saw the Lease
 * change (its own clock), so clock offsets between nodes do not matter; create and replace are guarded by
 * the API server (a 409 means another holder won the race, and this one tries again); a holder gives up
 * (`lost`) at two thirds of the duration without a renewal, before any other may take over.
 * Assumptions: identities are unique per process; the holder stops its work when `lost` aborts.
 */
export async function acquireLease(target: Target, signal?: AbortSignal): Promise<HeldLease> {
  const { api, namespace, name, identity, timing, clock } = target;
  const seconds = Math.max(1, Math.ceil(timing.leaseDurationMs / 1000));
  let seen: { holder: string; renewTime: string; at: number } | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const now = clock.now();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: seconds,
      acquireTime: microTime(now),
      renewTime: microTime(now),
    };
    let current: V1Lease;
    try {
      current = await api.readNamespacedLease({ namespace, name });
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
      const metadata = {
        name,
        namespace,
        labels: { ...STATE_LABELS },
        annotations: { [STACK_ANNOTATION]: target.stack },
      };
      try {
        const lease = await api.createNamespacedLease({
          namespace,
          body: { metadata, spec: { ...spec, leaseTransitions: 0 } },
        });
        return hold(target, lease);
      } catch (createError) {
        if (isStatus(createError, 409)) continue;
        throw createError;
      }
    }
    const holder = current.spec?.holderIdentity ?? "";
    const renewTime = String(current.spec?.renewTime ?? "");
    if (!seen || seen.holder !== holder || seen.renewTime !== renewTime)
      seen = { holder, renewTime, at: now };
    const durationMs = (current.spec?.leaseDurationSeconds ?? seconds) * 1000;
    const free = holder === "" || holder === identity || now >= seen.at + durationMs;
    if (!free) {
      await sleep(clock, timing.retryPeriodMs, signal);
      continue;
    }
    const body: V1Lease = {
      ...current,
      spec: { ...spec, leaseTransitions: (current.spec?.leaseTransitions ?? 0) + 1 },
    };
    try {
      return hold(target, await api.replaceNamespacedLease({ namespace, name, body }));
    } catch (error) {
      if (isStatus(error, 409)) continue;
      throw error;
    }
  }
}

/** Renews `lease` until released or lost. */
function hold(target: Target, acquired: V1Lease): HeldLease {
  const { api, namespace, name, identity, timing, clock } = target;
  const lost = new AbortController();
  const stop = new AbortController();
  const renewDeadlineMs = (timing.leaseDurationMs * 2) / 3;
  let lease = acquired;
  let lastRenew = clock.now();

  const renewOnce = async (): Promise<"renewed" | "taken"> => {
    const body: V1Lease = { ...lease, spec: { ...lease.spec, renewTime: microTime(clock.now()) } };
    try {
      lease = await api.replaceNamespacedLease({ namespace, name, body });
      return "renewed";
    } catch (error) {
      if (!isStatus(error, 409) && !isStatus(error, 404)) throw error;
      // Changed under us: ours still if only the resourceVersion moved (our own late write), else taken.
      const fresh = await api.readNamespacedLease({ namespace, name }).catch(() => undefined);
      if (fresh?.spec?.holderIdentity !== identity) return "taken";
      lease = fresh;
      return renewOnce();
    }
  };

  const renewing = (async () => {
    for (;;) {
      await sleep(clock, timing.renewIntervalMs, stop.signal);
      if (stop.signal.aborted) return;
      try {
        if ((await renewOnce()) === "taken") {
          lost.abort(new Error(`the Lease ${namespace}/${name} was taken over`));
          return;
        }
        lastRenew = clock.now();
      } catch {
        // A failed renewal is retried at the next interval, until the deadline says the Lease is gone.
      }
      if (stop.signal.aborted) return;
      if (clock.now() - lastRenew >= renewDeadlineMs) {
        lost.abort(new Error(`the Lease ${namespace}/${name} was not renewed in time`));
        return;
      }
    }
  })();

  return {
    lost: lost.signal,
    async release() {
      stop.abort();
      await renewing;
      if (lost.signal.aborted) return;
      lost.abort(new Error("released"));
      const resourceVersion = lease.metadata?.resourceVersion;
      await api
        .deleteNamespacedLease({
          namespace,
          name,
          body: resourceVersion ? { preconditions: { resourceVersion } } : {},
        })
        .catch((error: unknown) => {
          // Gone, or moved on to another holder: nothing of ours to delete.
          if (!isStatus(error, 404) && !isStatus(error, 409)) throw error;
        });
    },
  };
}

/** Whether `error` is an API server answer with `code`. */
export function isStatus(error: unknown, code: number): boolean {
  return error instanceof ApiException && error.code === code;
}
