// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: of several replicas
// exactly one acts; the others stand by and take over when the Lease is released or expires.
import { type Clock, sleep, systemClock } from "./clock.ts";
import { isStatus, type KubeClient, type KubeObject } from "./kube/client.ts";
import type { Logger } from "./log.ts";

/** A coordination.k8s.io/v1 Lease's spec, as on the wire (times are RFC 3339 micro-time strings). */
interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
  [field: string]: unknown;
}

/** A Lease as read and written. */
interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** The Lease API of one namespace. */
function leaseApi(kc: KubeClient, namespace: string) {
  const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  return {
    read: (name: string) => kc.request<Lease>("GET", `${base}/${encodeURIComponent(name)}`),
    create: (body: Lease) => kc.request<Lease>("POST", base, { body }),
    replace: (name: string, body: Lease) =>
      kc.request<Lease>("PUT", `${base}/${encodeURIComponent(name)}`, { body }),
  };
}

export interface LeaderElectorOptions {
  kc: KubeClient;
  namespace: string;
  name: string;
  /** This replica's name in the Lease (unique among replicas). */
  identity: string;
  /** How long a Lease holds without renewal; whole seconds on the wire. */
  leaseDurationMs: number;
  /** The leader gives up when it has not renewed for this long (< leaseDurationMs). */
  renewDeadlineMs: number;
  /** Time between attempts to acquire or renew. */
  retryPeriodMs: number;
  clock?: Clock;
  /** Jitter of the acquire retries (standbys spread out). @default Math.random */
  random?: () => number;
  log?: Logger;
  /**
   * Runs each attempt, bounded by its time limit, e.g. with the operator's other API server traffic held back
   * (RenewalPriority.during). @default runs it as it is
   */
  during?: <T>(attempt: () => Promise<T>) => Promise<T>;
}

export interface LeadershipCallbacks {
  /** Called on becoming leader; `leaderSignal` aborts when leadership ends. Not awaited (it may run long). */
  onStartedLeading(leaderSignal: AbortSignal): void | Promise<void>;
  /** Called when leadership ends (lost, or run stopped); awaited before the elector stands for election again. */
  onStoppedLeading(): void | Promise<void>;
}

export interface LeaderElector {
  /**
   * Stands for election until `signal` aborts: acquires the Lease, renews it while leading, and after losing it
   * stands again. Resolves when stopped (after onStoppedLeading, if it was leading). Aborting `signal` stops
   * renewing without releasing: the Lease then expires on its own.
   */
  run(signal: AbortSignal, callbacks: LeadershipCallbacks): Promise<void>;
  /**
   * Stops {@link run} (awaiting onStoppedLeading), then, if this replica still holds the Lease, releases it
   * (empty holder, 1s duration) so that a standby takes over at its next attempt instead of after expiry.
   */
  release(): Promise<void>;
  isLeader(): boolean;
}

/** The Lease's state as this replica last saw it, and when (by its own clock). */
interface Observation {
  holder: string;
  renewTime: string;
  durationMs: number;
  resourceVersion: string;
  observedAt: number;
}

type Attempt = "acquired" | "held-by-other" | "failed";

/**
 * Creates a Lease-based leader elector.
 *
 * Guarantees: at most one replica believes it leads at any time, provided clocks run at the same rate: a leader
 * steps down (aborting `leaderSignal`) once it has failed to renew for renewDeadline, which is shorter than the
 * leaseDuration another replica waits, measured from when *it* last saw the Lease change (as client-go does, so
 * clock offsets between nodes do not matter). Writes are optimistic (resourceVersion); a 409 Conflict on create or
 * replace means another replica won. A released Lease (empty holder) is taken at the next attempt.
 * Assumptions: identities are unique; onStartedLeading's work stops promptly when `leaderSignal` aborts. The
 * Lease's namespace exists and the identity may get, create and update Leases there.
 * Caveats: a request that hangs is abandoned after the time left until the renew deadline; if it lands later it
 * may renew a Lease its holder has given up, which only delays a standby by up to one leaseDuration. Leadership
 * ends by abort, not by force: work that ignores `leaderSignal` can overlap a new leader's.
 */
export function createLeaderElector(options: LeaderElectorOptions): LeaderElector {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const api = leaseApi(options.kc, options.namespace);
  const { namespace, name, identity, retryPeriodMs, renewDeadlineMs } = options;
  const leaseDurationSeconds = Math.max(1, Math.ceil(options.leaseDurationMs / 1000));
  const log = options.log?.child({ lease: `${namespace}/${name}`, identity });
  const during = options.during ?? (<T>(attempt: () => Promise<T>) => attempt());

  let observed: Observation | undefined;
  let leading = false;
  let stopper: AbortController | undefined;
  let running: Promise<void> | undefined;

  const microTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, "000Z");

  const observe = (lease: Lease, now: number) => {
    const spec = lease.spec ?? {};
    const next = {
      holder: spec.holderIdentity ?? "",
      renewTime: String(spec.renewTime ?? ""),
      durationMs: (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000,
      resourceVersion: lease.metadata?.resourceVersion ?? "",
    };
    if (
      !observed ||
      observed.holder !== next.holder ||
      observed.renewTime !== next.renewTime ||
      observed.durationMs !== next.durationMs
    ) {
      observed = { ...next, observedAt: now };
    } else {
      observed.resourceVersion = next.resourceVersion;
    }
  };

  /** One attempt to acquire or renew, bounded by `timeoutMs`. */
  const tryAcquireOrRenew = async (timeoutMs: number): Promise<Attempt> => {
    const attempt = async (): Promise<Attempt> => {
      const now = clock.now();
      let lease: Lease;
      try {
        lease = await api.read(name);
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
        const spec: LeaseSpec = {
          holderIdentity: identity,
          leaseDurationSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        };
        try {
          observe(
            await api.create({
              apiVersion: "coordination.k8s.io/v1",
              kind: "Lease",
              metadata: { name, namespace },
              spec,
            }),
            now,
          );
          return "acquired";
        } catch (createErr) {
          if (isStatus(createErr, 409)) return "held-by-other";
          throw createErr;
        }
      }
      observe(lease, now);
      const current = observed as Observation;
      const heldByOther =
        current.holder !== "" && current.holder !== identity && current.observedAt + current.durationMs > now;
      if (heldByOther) return "held-by-other";
      const spec = lease.spec ?? {};
      const takingOver = current.holder !== identity;
      const body: Lease = {
        ...lease,
        spec: {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds,
          renewTime: microTime(now),
          acquireTime: takingOver ? microTime(now) : spec.acquireTime,
          leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
        },
      };
      try {
        observe(await api.replace(name, body), now);
        return "acquired";
      } catch (err) {
        if (isStatus(err, 409)) return "held-by-other";
        throw err;
      }
    };
    try {
      // The time limit inside `during`: a hanging request holds nothing back past it.
      return await during(() => withTimeout(attempt(), timeoutMs, clock));
    } catch (err) {
      log?.warn({ event: "leader.attempt_failed", err });
      return "failed";
    }
  };

  /** Tries until acquired; false when stopped first. */
  const acquire = async (stop: AbortSignal): Promise<boolean> => {
    while (!stop.aborted) {
      const result = await tryAcquireOrRenew(retryPeriodMs);
      if (stop.aborted) return false;
      if (result === "acquired") return true;
      await sleep(clock, retryPeriodMs * (1 + random() * 1.2), stop);
    }
    return false;
  };

  /** Renews until the renew deadline passes without success, another holder shows, or stopped. */
  const renew = async (stop: AbortSignal): Promise<string> => {
    let lastRenew = clock.now();
    for (;;) {
      await sleep(clock, retryPeriodMs, stop);
      if (stop.aborted) return "stopped";
      const left = lastRenew + renewDeadlineMs - clock.now();
      const result = left > 0 ? await tryAcquireOrRenew(left) : "failed";
      if (stop.aborted) return "stopped";
      if (result === "acquired") lastRenew = clock.now();
      else if (result === "held-by-other") return `taken by ${observed?.holder || "another replica"}`;
      else if (clock.now() - lastRenew >= renewDeadlineMs) return "renew deadline passed";
    }
  };

  const run = async (signal: AbortSignal, callbacks: LeadershipCallbacks): Promise<void> => {
    const stop = new AbortController();
    stopper = stop;
    const onAbort = () => stop.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) stop.abort();
    try {
      while (!stop.signal.aborted) {
        if (!(await acquire(stop.signal))) break;
        leading = true;
        const leadership = new AbortController();
        log?.info({ event: "leader.acquired" });
        Promise.resolve()
          .then(() => callbacks.onStartedLeading(leadership.signal))
          .catch((err) => log?.error({ event: "leader.on_started_failed", err }));
        const why = await renew(stop.signal);
        leading = false;
        leadership.abort();
        log?.info({ event: "leader.stopped", reason: why });
        try {
          await callbacks.onStoppedLeading();
        } catch (err) {
          log?.error({ event: "leader.on_stopped_failed", err });
        }
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  };

  return {
    run(signal, callbacks) {
      if (running) throw new Error("leader elector already running");
      running = run(signal, callbacks).finally(() => {
        running = undefined;
        stopper = undefined;
      });
      return running;
    },
    async release() {
      stopper?.abort();
      await running;
      try {
        const lease = await withTimeout(api.read(name), renewDeadlineMs, clock);
        if (lease.spec?.holderIdentity !== identity) return;
        const now = microTime(clock.now());
        await withTimeout(
          api.replace(name, {
            ...lease,
            spec: {
              ...lease.spec,
              holderIdentity: "",
              leaseDurationSeconds: 1,
              renewTime: now,
              acquireTime: now,
            },
          }),
          renewDeadlineMs,
          clock,
        );
        log?.info({ event: "leader.released" });
      } catch (err) {
        // Not fatal: the Lease then expires after its duration.
        if (!isStatus(err, 404)) log?.warn({ event: "leader.release_failed", err });
      }
    },
    isLeader: () => leading,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, clock: Clock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(
      () => reject(new Error(`no answer from the API server within ${ms}ms`)),
      ms,
    );
    promise.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clock.clearTimeout(timer);
        reject(err);
      },
    );
  });
}
