// The annotations users set and the operator acts on: part of the API, shared by the operator and the kubectl
// plugin. Every annotation the README mentions is one of these (test/unit/annotations.test.ts checks it).
/**
 * What every annotation of the API starts with. The operator's caches keep only these (other tools' annotations are
 * dropped), so an annotation it acts on must start with it.
 */
export const API_ANNOTATION_PREFIX = "modelkeys.dev/";

/** Annotation names, by what they ask for. */
export const ANNOTATIONS = {
  /** Changing its value asks for a model check now. */
  refreshRequestedAt: "modelkeys.dev/refresh-requested-at",
  /**
   * Set to "true" on a deleting connection to drop the finalizer without touching the app, or on a deleting
   * Organization to stop waiting for its connections.
   */
  releaseFinalizer: "modelkeys.dev/release",
  /**
   * Changing its value asks for a sync now: on a connection, its record and key are written to the app again
   * (status.syncRequestedAt records the value handled); on an Organization, the app's records are listed again.
   */
  syncRequestedAt: "modelkeys.dev/sync-requested-at",
  /** Changing its value rotates a provisioned Azure key (secondary, switch, then primary). */
  rotateKeyRequestedAt: "modelkeys.dev/rotate-key-requested-at",
} as const;
