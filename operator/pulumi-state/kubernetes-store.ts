// StackStateStore on the API server: each stack's checkpoint in a Secret of the account's namespace, its
// lock a Lease of the same name; writes guarded by resourceVersion so a stale holder cannot overwrite.
import { randomBytes } from "node:crypto";
import { CoordinationV1Api, CoreV1Api, type KubeConfig, type V1Secret } from "@kubernetes/client-node";
import type { Checkpoint, HeldStack, StackKey, StackStateStore } from "../azure/state-store.ts";
import { LockLostError } from "../azure/state-store.ts";
import { type Clock, systemClock } from "../clock.ts";
import { decodeCheckpoint, encodeCheckpoint, SECRET_DATA_LIMIT } from "./checkpoint-codec.ts";
import {
  CHECKPOINT_KEY,
  HOLDER_ANNOTATION,
  STACK_ANNOTATION,
  STATE_LABELS,
  STATE_SECRET_TYPE,
  stateObjectName,
} from "./names.ts";
import { acquireLease, type HeldLease, isStatus, type LeaseTiming } from "./stack-lease.ts";

export interface KubernetesStateStoreOptions {
  /** The operator's client configuration (e.g. with apiServerTransport). */
  kc: KubeConfig;
  /** Names this process in Leases and on the Secrets it writes (e.g. the pod name); made unique per store. */
  identity: string;
  /** @default 30 s duration, renewed every 10 s, tried every 2 s while held elsewhere */
  timing?: Partial<LeaseTiming>;
  /** The most a compressed checkpoint may take. @default 1 MiB, the API server's Secret limit */
  limitBytes?: number;
  clock?: Clock;
}

/**
 * Pulumi checkpoints in Secrets of type `modelkeys.dev/pulumi-state`, one per stack, named
 * `pulumi-state-<stack>` in the stack's namespace, locked by a Lease of the same name.
 *
 * Guarantees: at most one holder of a stack among all processes sharing the API server (see
 * {@link acquireLease}) and among the users of this store in its process (they queue, in call order); the Secret is written whole (gzip JSON) or not at all, a checkpoint over the limit
 * is a StateTooLargeError and leaves the previous one; every write is guarded by the resourceVersion this
 * holder last read or wrote, and the first read of a holder stamps the Secret, so a holder that lost its
 * Lease gets a LockLostError instead of overwriting its successor's state; secret values stay the
 * ciphertext Pulumi wrote (nothing is decrypted).
 * Assumptions: the operator may get/create/update/delete Secrets and Leases in the stacks' namespaces.
 * Caveats: a Secret of another type with the state's name is refused, never overwritten; the Secrets carry
 * no owner, so they outlive the account object until its destroy removes them.
 */
export class KubernetesStateStore implements StackStateStore {
  readonly identity: string;
  readonly #core: CoreV1Api;
  readonly #leases: CoordinationV1Api;
  readonly #timing: LeaseTiming;
  readonly #limit: number;
  readonly #clock: Clock;
  /** Per stack, the end of the last lock taken through this store: holders in one process queue here. */
  readonly #local = new Map<string, Promise<void>>();

  constructor(options: KubernetesStateStoreOptions) {
    this.identity = `${options.identity}-${randomBytes(3).toString("hex")}`;
    this.#core = options.kc.makeApiClient(CoreV1Api);
    this.#leases = options.kc.makeApiClient(CoordinationV1Api);
    const leaseDurationMs = options.timing?.leaseDurationMs ?? 30_000;
    this.#timing = {
      leaseDurationMs,
      renewIntervalMs: options.timing?.renewIntervalMs ?? leaseDurationMs / 3,
      retryPeriodMs: options.timing?.retryPeriodMs ?? 2000,
    };
    this.#limit = options.limitBytes ?? SECRET_DATA_LIMIT;
    this.#clock = options.clock ?? systemClock;
  }

  async lock(key: StackKey, signal?: AbortSignal): Promise<HeldStack> {
    // The Lease names this store's identity, which it would take as its own: users of one store (several
    // provisioners) queue in the process first.
    const id = `${key.namespace}/${key.stack}`;
    const previous = this.#local.get(id) ?? Promise.resolve();
    let done: () => void = () => {};
    const tail = previous.then(() => new Promise<void>((resolve) => (done = resolve)));
    this.#local.set(id, tail);
    const unqueue = () => {
      done();
      if (this.#local.get(id) === tail) this.#local.delete(id);
    };
    await previous;
    const name = stateObjectName(key.stack);
    try {
      const lease = await acquireLease(
        {
          api: this.#leases,
          namespace: key.namespace,
          name,
          stack: key.stack,
          identity: this.identity,
          timing: this.#timing,
          clock: this.#clock,
        },
        signal,
      );
      return new HeldStackSecret(key, name, lease, this.#core, this.identity, this.#limit, unqueue);
    } catch (error) {
      unqueue();
      throw error;
    }
  }
}

/** One holder's view of a stack's Secret: the resourceVersion it last read or wrote. */
class HeldStackSecret implements HeldStack {
  #resourceVersion: string | undefined;
  #read = false;
  #writes: Promise<unknown> = Promise.resolve();

  constructor(
    readonly key: StackKey,
    private readonly name: string,
    private readonly lease: HeldLease,
    private readonly core: CoreV1Api,
    private readonly identity: string,
    private readonly limit: number,
    private readonly onRelease: () => void,
  ) {}

  get lost(): AbortSignal {
    return this.lease.lost;
  }

  async load(): Promise<Checkpoint | undefined> {
    const secret = await this.#claim();
    const stored = secret?.data?.[CHECKPOINT_KEY];
    return stored ? decodeCheckpoint(Buffer.from(stored, "base64")) : undefined;
  }

  save(checkpoint: Checkpoint): Promise<void> {
    return this.#serial(async () => {
      // Encoded first: a checkpoint that does not fit is refused before anything is written.
      const bytes = encodeCheckpoint(this.key.stack, checkpoint, this.limit);
      this.#checkHeld();
      if (!this.#read) await this.#claim();
      const body = this.#secret({ [CHECKPOINT_KEY]: bytes.toString("base64") });
      const { namespace } = this.key;
      try {
        const written = this.#resourceVersion
          ? await this.core.replaceNamespacedSecret({ namespace, name: this.name, body })
          : await this.core.createNamespacedSecret({ namespace, body });
        this.#resourceVersion = written.metadata?.resourceVersion;
      } catch (error) {
        if (isStatus(error, 409) || isStatus(error, 404)) throw this.#overtaken();
        throw error;
      }
    });
  }

  remove(): Promise<void> {
    return this.#serial(async () => {
      this.#checkHeld();
      if (!this.#read) await this.#claim();
      if (!this.#resourceVersion) return;
      try {
        await this.core.deleteNamespacedSecret({
          namespace: this.key.namespace,
          name: this.name,
          body: { preconditions: { resourceVersion: this.#resourceVersion } },
        });
      } catch (error) {
        if (isStatus(error, 409)) throw this.#overtaken();
        if (!isStatus(error, 404)) throw error;
      }
      this.#resourceVersion = undefined;
    });
  }

  async release(): Promise<void> {
    try {
      await this.#writes.catch(() => {});
      await this.lease.release();
    } finally {
      this.onRelease();
    }
  }

  /**
   * Reads the Secret and stamps it with this holder (a write guarded by what was read), so that a previous
   * holder's late write fails on the resourceVersion rather than replacing what this holder works from.
   */
  async #claim(): Promise<V1Secret | undefined> {
    const { namespace } = this.key;
    for (let attempt = 0; ; attempt++) {
      this.#checkHeld();
      let secret: V1Secret;
      try {
        secret = await this.core.readNamespacedSecret({ namespace, name: this.name });
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
        this.#read = true;
        this.#resourceVersion = undefined;
        return undefined;
      }
      if (secret.type !== STATE_SECRET_TYPE) {
        throw new Error(
          `Secret ${namespace}/${this.name} exists and is not Pulumi state (type ${secret.type ?? "Opaque"}, not ${STATE_SECRET_TYPE}); it is left alone`,
        );
      }
      const stamped: V1Secret = {
        ...secret,
        metadata: {
          ...secret.metadata,
          annotations: { ...secret.metadata?.annotations, [HOLDER_ANNOTATION]: this.identity },
        },
      };
      try {
        const written = await this.core.replaceNamespacedSecret({
          namespace,
          name: this.name,
          body: stamped,
        });
        this.#read = true;
        this.#resourceVersion = written.metadata?.resourceVersion;
        return written;
      } catch (error) {
        // A previous holder's last write landed between the read and the stamp: read again (a few times).
        if (!isStatus(error, 409) || attempt >= 4) throw error;
      }
    }
  }

  #secret(data: Record<string, string>): V1Secret {
    return {
      apiVersion: "v1",
      kind: "Secret",
      type: STATE_SECRET_TYPE,
      metadata: {
        name: this.name,
        namespace: this.key.namespace,
        labels: { ...STATE_LABELS },
        annotations: { [STACK_ANNOTATION]: this.key.stack, [HOLDER_ANNOTATION]: this.identity },
        ...(this.#resourceVersion ? { resourceVersion: this.#resourceVersion } : {}),
      },
      data,
    };
  }

  #checkHeld(): void {
    if (this.lease.lost.aborted) {
      const reason = this.lease.lost.reason;
      throw new LockLostError(this.key.stack, reason instanceof Error ? reason.message : String(reason));
    }
  }

  #overtaken(): LockLostError {
    return new LockLostError(
      this.key.stack,
      `Secret ${this.key.namespace}/${this.name} was written by another holder`,
    );
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#writes.then(work, work);
    this.#writes = result.catch(() => {});
    return result;
  }
}
