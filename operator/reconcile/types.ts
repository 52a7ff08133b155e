// The data that flows through one reconcile: what was observed, and the plan made from it.
import type {
  ModelStatus,
  Organization,
  ProviderConnection,
  ProviderConnectionStatus,
} from "../../crds/index.ts";
import type { Reason } from "../constants.ts";
import type { ModelCheck } from "../providers/types.ts";
import type { AppRecordView, ManagedFields } from "./app-fields.ts";
import type { ConditionIntent } from "./conditions.ts";
import type { DeprovisionView } from "./ports.ts";

/** How the connection's Organization looks: usable, or why not. */
export type OrganizationView =
  | { kind: "Ready"; organization: Organization; organizationId: number; userId: number }
  | { kind: "NotReady"; reason: Reason; message: string };

/** The connection's credential: usable (only its fingerprint travels), or why not (missing or invalid). */
export type CredentialView =
  | { kind: "Ready"; fingerprint: string }
  | { kind: "Missing"; reason: Reason; message: string };

/** Another connection of the same organization and provider, as the one-per-organization rule needs it. */
export interface Sibling {
  name: string;
  creationTimestamp: string;
}

/** What the app holds: the record by id, or the candidates for adoption when status has no id. */
export type AppView =
  | { kind: "NotRead" }
  | { kind: "ById"; record: AppRecordView | undefined }
  | { kind: "Listed"; records: AppRecordView[] };

export interface ObservedConnection {
  connection: ProviderConnection;
  now: Date;
  organization: OrganizationView;
  credential: CredentialView;
  siblings: Sibling[];
  /**
   * App record ids that other connections of the same Organization hold in their status: never adopted, so two
   * connections never share (and fight over, or delete) one record.
   */
  claimedIds?: { has(id: number): boolean };
  app: AppView;
  /** A check made in this reconcile, or undefined when none was due (status keeps the last result). */
  modelCheck: ModelCheck | undefined;
  /** For provisioned Azure connections: what provisioning produced, once it has. */
  provisioned?: { deployment: string; endpoint: string };
  /** How long until the next model check is due, when none ran now. */
  nextModelCheckInMs?: number;
  /** Conditions contributed by steps before planning (e.g. Provisioned). */
  extraConditions?: ConditionIntent[];
  /** status.azure as provisioning reports it (replaces the current one). */
  azureStatus?: ProviderConnectionStatus["azure"];
  /** Why the endpoint the app would be given is refused by the egress guard: nothing is checked or pushed. */
  egressDenied?: string;
  /** For a deleting provisioned connection: whether its Azure resources are removed (else the finalizer stays). */
  deprovision?: DeprovisionView;
}

export type AppAction =
  | { kind: "none" }
  | { kind: "create"; fields: ManagedFields }
  | { kind: "update"; id: number; fields: Partial<ManagedFields>; pushSecrets: boolean }
  | { kind: "delete"; id: number };

export interface PlannedEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** What to do, decided without I/O; `applyPlan` carries it out and `nextStatus` turns it into the status written. */
export interface ConnectionPlan {
  finalizer: "add" | "remove" | "keep";
  app: AppAction;
  conditions: ConditionIntent[];
  /** Status fields to set besides conditions; `undefined` values are removed. */
  status: {
    appConnectionId?: number | undefined;
    organizationId?: number;
    credentialFingerprint?: string;
    credentialRotatedTime?: string;
    heldCredentialFingerprint?: string | undefined;
    models?: ModelStatus[];
    availableModels?: number;
    modelsCheckedTime?: string;
    modelsCheckedGeneration?: number;
    refreshRequestedAt?: string;
    appCachedAvailableModels?: string | undefined;
    appRefreshedTime?: string | undefined;
    syncRequestedAt?: string;
    azure?: ProviderConnectionStatus["azure"];
  };
  events: PlannedEvent[];
  /** Conditions to remove from status (e.g. KeyRotationDue once no max key age applies). */
  dropConditions?: string[];
  /** Ask to be reconciled again after this long; the runtime takes the earliest of this and the resync. */
  requeueAfterMs?: number;
}
