// The finalizer `modelkeys.dev/app-connection`: when a connection gets it, when it loses it, and the patches.
import { FINALIZER } from "../constants.ts";

/** The part of an object the finalizer rules read. */
interface WithMetadata {
  metadata?: { finalizers?: string[]; deletionTimestamp?: unknown };
}

/**
 * The finalizer that keeps a ProviderConnection until its app record is dealt with.
 *
 * Guarantees: a live connection gets the finalizer before any app write or provisioning (the reconcile writes it
 * first, in the same pass, and acts only once the API server has accepted it); it is removed only after the
 * deletion's app work (delete, or orphan) succeeded, so a crash in between repeats that work.
 * Assumptions: writes are guarded by the object's resourceVersion (a conflict is retried by the queue), so a
 * finalizer list written here never drops someone else's finalizer.
 * Caveats: a connection created and deleted before its first reconcile never gets it, and has nothing to clean.
 */
export const connectionFinalizer = {
  name: FINALIZER,
  /** Whether the object carries the finalizer. */
  present(object: WithMetadata): boolean {
    return object.metadata?.finalizers?.includes(FINALIZER) ?? false;
  },
  /** Whether the object is being deleted. */
  deleting(object: WithMetadata): boolean {
    return object.metadata?.deletionTimestamp !== undefined;
  },
  /** A live object without the finalizer: it must be added before anything else happens. */
  missing(object: WithMetadata): boolean {
    return !this.deleting(object) && !this.present(object);
  },
  /** The finalizer list with ours added (others kept, in order). */
  added(object: WithMetadata): string[] {
    const finalizers = object.metadata?.finalizers ?? [];
    return finalizers.includes(FINALIZER) ? finalizers : [...finalizers, FINALIZER];
  },
  /**
   * Whether `current` differs from `previous` only by our finalizer having been added: the echo of the write a
   * reconcile makes before syncing in the same pass, which needs no reconcile of its own (its watch event can
   * arrive before the write's answer, so it is not always recognised as our own write).
   */
  onlyAdded(previous: WithMetadata, current: WithMetadata): boolean {
    return (
      !this.present(previous) &&
      this.present(current) &&
      sameList(this.removed(current), this.removed(previous))
    );
  },
  /** What a write did to our finalizer, for the metrics: `added`, `removed`, or nothing. */
  change(previous: WithMetadata, current: WithMetadata): "added" | "removed" | undefined {
    if (this.present(previous) === this.present(current)) return undefined;
    return this.present(current) ? "added" : "removed";
  },
  /** The finalizer list with ours removed (others kept). */
  removed(object: WithMetadata): string[] {
    return (object.metadata?.finalizers ?? []).filter((f) => f !== FINALIZER);
  },
};

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
