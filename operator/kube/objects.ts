// Reads and writes of our objects and the Secrets they reference, on the API server, with the field manager.
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import {
  GROUP,
  ORGANIZATION_PLURAL,
  type Organization,
  PROVIDER_CONNECTION_PLURAL,
  type ProviderConnection,
  VERSION,
} from "../../crds/index.ts";
import { FIELD_MANAGER } from "../constants.ts";
import { createEventRecorder, type EventRecorder, type EventRecorderOptions } from "./events.ts";

type Kind = "ProviderConnection" | "Organization";
type Obj = ProviderConnection | Organization;
type ObjOf<K extends Kind> = K extends "Organization" ? Organization : ProviderConnection;
const PLURAL: Record<Kind, string> = {
  ProviderConnection: PROVIDER_CONNECTION_PLURAL,
  Organization: ORGANIZATION_PLURAL,
};
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** The API server as the operator uses it. Every write names the field manager `modelkeys`. */
export class KubeObjects {
  readonly #custom: CustomObjectsApi;
  readonly #core: CoreV1Api;
  readonly #events: EventRecorder;

  constructor(kc: KubeConfig, identity: string, events?: Omit<EventRecorderOptions, "core" | "host">) {
    this.#custom = kc.makeApiClient(CustomObjectsApi);
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#events = createEventRecorder({ ...events, core: this.#core, host: identity });
  }

  async get<K extends Kind>(
    kind: K,
    namespace: string,
    name: string,
  ): Promise<(K extends "Organization" ? Organization : ProviderConnection) | undefined> {
    try {
      return (await this.#custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL[kind],
        name,
      })) as K extends "Organization" ? Organization : ProviderConnection;
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
    return (await this.#custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: object.metadata.namespace,
        plural: PLURAL[kind],
        name: object.metadata.name,
        body: { metadata: { ...metadata, resourceVersion: object.metadata.resourceVersion } },
        fieldManager: FIELD_MANAGER,
      },
      mergePatch,
    )) as ObjOf<K>;
  }

  /** Merge-patches the status subresource; resolves with the object as the API server stored it. */
  async patchStatus<K extends Kind>(
    kind: K,
    object: ObjOf<K>,
    status: Record<string, unknown>,
  ): Promise<ObjOf<K>> {
    return (await this.#custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: object.metadata.namespace,
        plural: PLURAL[kind],
        name: object.metadata.name,
        body: { status },
        fieldManager: FIELD_MANAGER,
      },
      mergePatch,
    )) as ObjOf<K>;
  }

  /** A Secret's data, decoded; undefined when it does not exist. Values are never cached or logged. */
  async readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    try {
      const secret = await this.#core.readNamespacedSecret({ namespace, name });
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

/** Whether `error` is an API server answer with `code`. */
export function isStatus(error: unknown, code: number): boolean {
  return error instanceof ApiException && error.code === code;
}
