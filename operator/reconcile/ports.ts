// The outside world as reconcile sees it: narrow interfaces that the runtime implements and tests replace.
import type { Organization, ProviderConnection, ProviderConnectionStatus } from "../../crds/index.ts";
import type { ModelCheck, ModelCheckRequest } from "../providers/types.ts";
import type { AppRecordView, ManagedFields } from "./app-fields.ts";
import type { CheckBackoff, CheckFailures } from "./model-schedule.ts";
import type { OrganizationPeers } from "./organization-index.ts";
import type { OrganizationView, PlannedEvent } from "./types.ts";

/** Fields sent to the app: managed fields plus the write-only secret fields. */
export type AppWriteFields = Partial<ManagedFields> & {
  api_key?: string | null;
  auth_token?: string | null;
  google_application_credentials?: string | null;
};

/** The app's connection endpoints for one organization. Errors are thrown (see operator/app). */
export interface AppConnections {
  /**
   * One record, from the shared listing; `fresh` asks the app by id first (a deletion must see the record as it
   * is now: one turned internal or User-scoped since the listing is never deleted).
   */
  get(id: number, options?: { fresh?: boolean }): Promise<AppRecordView | undefined>;
  /**
   * Every record of the organization, from the shared listing (refreshed at resync, kept current by our own
   * writes); `fresh` lists the app first (rare paths where a record made since must not be missed), unless the
   * listing was made at or after `freshSince` (ms since the epoch: a listing this very pass made, say). With
   * `matching`, only the records that may match those fields (every one that recordMatches), found by index.
   */
  list(options?: {
    fresh?: boolean;
    freshSince?: number;
    matching?: ManagedFields;
  }): Promise<AppRecordView[]>;
  create(fields: AppWriteFields): Promise<AppRecordView>;
  update(id: number, fields: AppWriteFields): Promise<AppRecordView>;
  /** Resolves when the record is gone, whether it was deleted now or before. */
  remove(id: number): Promise<void>;
}

/** An organization reached with its token: the app client, or why it cannot be reached. */
export type OrganizationSession =
  | (Extract<OrganizationView, { kind: "Ready" }> & {
      app: AppConnections;
      /** Which kind of token reached the app (for the Organization's status). */
      tokenKind?: "Legacy" | "PersonalAccessToken";
    })
  | Extract<OrganizationView, { kind: "NotReady" }>;

/** Everything a connection reconcile reads or does, injected so tests control time and the world. */
export interface ConnectionDeps {
  now(): Date;
  /**
   * From the informer cache, or the object our own last write returned when the cache has not seen it yet: a
   * reconcile never acts on a status older than its own last write, and costs no request.
   */
  getConnection(namespace: string, name: string): Promise<ProviderConnection | undefined>;
  /** The informer cache's connections of the same Organization (the one-per-organization rule, held ids). */
  peers: OrganizationPeers;
  organization(namespace: string, name: string): Organization | undefined;
  session(organization: Organization): Promise<OrganizationSession>;
  /** A Secret's decoded data, read on demand (never cached), or undefined when it does not exist. */
  readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** Asks the provider which models the credential reaches (see operator/providers). */
  checkModels(request: ModelCheckRequest): Promise<ModelCheck>;
  /**
   * Why the egress guard refuses an endpoint the app would be given (undefined: allowed, or not resolvable
   * from here). `enforceAllowList` for Custom endpoints. Absent: no guard.
   */
  endpointRefusal?(url: string, enforceAllowList: boolean): Promise<string | undefined>;
  /** In-memory memory of failed checks, keyed by connection uid. */
  checkFailures: Map<string, CheckFailures>;
  /** How failed checks back off. @default CHECK_BACKOFF */
  checkBackoff?: CheckBackoff;
  /** Provisioned Azure connections: reads what the account made for it (a read; optional capability). */
  provision?(connection: ProviderConnection): Promise<ProvisionView>;
  /**
   * Provisioned Azure connections being deleted: whether the account has removed (or, with deletionPolicy
   * Orphan, released) the connection's deployment (a read); the finalizer stays until it is Done.
   */
  deprovision?(connection: ProviderConnection): Promise<DeprovisionView>;
  kube: {
    /** JSON merge patch of metadata (finalizers), guarded by resourceVersion; resolves with the stored object. */
    patchMetadata(
      connection: ProviderConnection,
      metadata: Record<string, unknown>,
    ): Promise<ProviderConnection>;
    /** Merge patch of the status subresource; resolves with the stored object. */
    patchStatus(connection: ProviderConnection, status: Record<string, unknown>): Promise<ProviderConnection>;
    event(connection: ProviderConnection, event: PlannedEvent): Promise<void>;
  };
  log: {
    info(fields: Record<string, unknown>, message?: string): void;
    warn(fields: Record<string, unknown>, message?: string): void;
  };
}

/** status.azure as provisioning reports it. */
export type AzureStatusView = NonNullable<ProviderConnectionStatus["azure"]>;

/** What provisioning yields for the sync path; `azureStatus` replaces status.azure when present. */
export type ProvisionView =
  | {
      kind: "Ready";
      deployment: string;
      endpoint: string;
      secretName: string;
      conditions: import("./conditions.ts").ConditionIntent[];
      azureStatus?: AzureStatusView;
    }
  | {
      kind: "Pending";
      conditions: import("./conditions.ts").ConditionIntent[];
      requeueAfterMs?: number;
      azureStatus?: AzureStatusView;
    };

/** Whether a deleting connection's provisioned resources are gone (or left, with Orphan). */
export type DeprovisionView =
  | { kind: "Done" }
  | { kind: "Pending"; conditions: import("./conditions.ts").ConditionIntent[]; requeueAfterMs?: number };

/** What the controller offers provisioning: enqueueing connections, and the connections' cache and events. */
export interface ProvisioningHost {
  enqueue(namespace: string, name: string): void;
  /** Every ProviderConnection in the informer cache (all watched namespaces). */
  connections(): readonly ProviderConnection[];
  /** Whether the connections' cache has listed. */
  connectionsSynced(): boolean;
  /** Calls `handler` with each connection the cache adds, changes or (`deleted`) removes, from the first list on. */
  onConnectionChange(handler: (connection: ProviderConnection, deleted: boolean) => void): void;
  /**
   * References on the controller's own Secret watch (one list+watch for both controllers): `onChange` hears of
   * the Secrets these references name, from the watch's first list on.
   */
  watchSecrets(onChange: (namespace: string, name: string) => void): SecretReferences;
}

/** Which owners reference which Secrets, on a shared watch (see `kube/secret-watch.ts`). */
export interface SecretReferences {
  track(namespace: string, name: string, ownerKey: string): void;
  untrack(ownerKey: string): void;
  referrers(namespace: string, name: string): string[];
}

/**
 * A provisioning capability the controller runs (the AzureOpenAIAccount controller): provision/deprovision
 * only read (what the account made for a connection, and whether a deleting one's deployment is gone); the
 * account's own reconciler does the work. Started by attach, stopped with the controller.
 */
export interface Provisioning {
  provision(connection: ProviderConnection): Promise<ProvisionView>;
  deprovision(connection: ProviderConnection): Promise<DeprovisionView>;
  /** Called once by the controller before the first reconcile. */
  attach(host: ProvisioningHost): void;
  /** Stops background work (resolves when running updates have ended). */
  stop(): Promise<void>;
}
