// Reads and writes of our objects and the Secrets they reference, on the API server, with the field manager.
import {
  GROUP,
  ORGANIZATION_PLURAL,
  type Organization,
  PROVIDER_CONNECTION_PLURAL,
  type ProviderConnection,
  VERSION,
} from "../../crds/index.ts";
import { FIELD_MANAGER } from "../constants.ts";
import { isStatus, type KubeClient, type KubeObject, PATCH } from "./client.ts";
import { createEventRecorder, type EventRecorder, type EventRecorderOptions } from "./events.ts";

/** Whether `error` is an API server answer with `code` (re-exported for the callers that import it from here). */
export { isStatus };

type Kind = "ProviderConnection" | "Organization";
type Obj = ProviderConnection | Organization;
type ObjOf<K extends Kind> = K extends "Organization" ? Organization : ProviderConnection;
const PLURAL: Record<Kind, string> = {
  ProviderConnection: PROVIDER_CONNECTION_PLURAL,
  Organization: ORGANIZATION_PLURAL,
};

/** A Secret as read: its data stays base64 until decoded for the caller. */
interface SecretObject extends KubeObject {
  metadata?: KubeObject["metadata"] & { finalizers?: string[]; deletionTimestamp?: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

const objectPath = (kind: Kind, namespace: string, name: string) =>
  `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURAL[kind]}/${encodeURIComponent(name)}`;
const secretPath = (namespace: string, name: string) =>
  `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`;

/** The API server as the operator uses it. Every write names the field manager `modelkeys`. */
export class KubeObjects {
  readonly #kc: KubeClient;
  readonly #events: EventRecorder;

  constructor(kc: KubeClient, identity: string, events?: Omit<EventRecorderOptions, "kc" | "host">) {
    this.#kc = kc;
    this.#events = createEventRecorder({ ...events, kc, host: identity });
  }

  async get<K extends Kind>(
    kind: K,
    namespace: string,
    name: string,
  ): Promise<(K extends "Organization" ? Organization : ProviderConnection) | undefined> {
    try {
      return await this.#kc.request<ObjOf<K>>("GET", objectPath(kind, namespace, name));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /**
   * Merge-patches metadata, guarded by the object's resourceVersion (a conflict throws and the queue retries).
   * Resolves with the object as the API server stored it.
   */
  async patchMetadata<K extends Kind>(
    kind: K,
    object: ObjOf<K>,
    metadata: Record<string, unknown>,
  ): Promise<ObjOf<K>> {
    const path = objectPath(kind, object.metadata.namespace, object.metadata.name);
    return await this.#kc.request<ObjOf<K>>("PATCH", path, {
      query: { fieldManager: FIELD_MANAGER },
      body: { metadata: { ...metadata, resourceVersion: object.metadata.resourceVersion } },
      contentType: PATCH.merge,
    });
  }

  /** Merge-patches the status subresource; resolves with the object as the API server stored it. */
  async patchStatus<K extends Kind>(
    kind: K,
    object: ObjOf<K>,
    status: Record<string, unknown>,
  ): Promise<ObjOf<K>> {
    const path = `${objectPath(kind, object.metadata.namespace, object.metadata.name)}/status`;
    return await this.#kc.request<ObjOf<K>>("PATCH", path, {
      query: { fieldManager: FIELD_MANAGER },
      body: { status },
      contentType: PATCH.merge,
    });
  }

  /**
   * Adds or removes `finalizer` on a Secret's metadata (a merge patch guarded by its resourceVersion); a missing
   * Secret, or one already as asked, is left alone.
   */
  async setSecretFinalizer(
    namespace: string,
    name: string,
    finalizer: string,
    present: boolean,
  ): Promise<void> {
    let secret: SecretObject;
    try {
      secret = await this.#kc.request<SecretObject>("GET", secretPath(namespace, name));
    } catch (error) {
      if (isStatus(error, 404)) return;
      throw error;
    }
    const finalizers = secret.metadata?.finalizers ?? [];
    if (finalizers.includes(finalizer) === present) return;
    // A deleting Secret accepts no new finalizer; it is going anyway.
    if (present && secret.metadata?.deletionTimestamp) return;
    await this.#kc.request("PATCH", secretPath(namespace, name), {
      query: { fieldManager: FIELD_MANAGER },
      body: {
        metadata: {
          finalizers: present ? [...finalizers, finalizer] : finalizers.filter((f) => f !== finalizer),
          resourceVersion: secret.metadata?.resourceVersion,
        },
      },
      contentType: PATCH.merge,
    });
  }

  /**
   * A Secret's data, decoded; undefined when it does not exist. Values are never cached or logged.
   * With `notOlderThan` (a resourceVersion our Secret watch saw), the API server answers from its watch cache
   * with that version or a newer one, instead of a quorum read from etcd: the same freshness as the watch event
   * that woke the reconcile, at about half the control plane's CPU. An API server whose cache has not reached
   * that version within its wait (another replica of an HA control plane) answers 504 "Too large resource
   * version"; the value is then read from etcd.
   */
  async readSecret(
    namespace: string,
    name: string,
    notOlderThan?: string,
  ): Promise<Record<string, string> | undefined> {
    const path = secretPath(namespace, name);
    try {
      const secret = await this.#kc
        .request<SecretObject>("GET", path, notOlderThan ? { query: { resourceVersion: notOlderThan } } : {})
        .catch((error: unknown) => {
          if (!notOlderThan || !isStatus(error, 504)) throw error;
          return this.#kc.request<SecretObject>("GET", path);
        });
      const data: Record<string, string> = {};
      for (const [key, value] of Object.entries(secret.data ?? {}))
        data[key] = Buffer.from(value, "base64").toString("utf8");
      for (const [key, value] of Object.entries(secret.stringData ?? {})) data[key] = value;
      return data;
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /** Records a core/v1 Event on `object`, aggregated and paced (see events.ts). No secrets in messages. */
  async event(
    kind: Kind,
    object: Obj,
    event: { type: "Normal" | "Warning"; reason: string; message: string },
  ): Promise<void> {
    await this.#events.record({ kind, metadata: object.metadata }, event);
  }
}
