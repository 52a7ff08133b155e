// Reads and writes of our objects and the Secrets they reference, on the API server, with the field manager.
import { randomBytes } from "node:crypto";
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

type Kind = "ProviderConnection" | "Organization";
type Obj = ProviderConnection | Organization;
const PLURAL: Record<Kind, string> = {
  ProviderConnection: PROVIDER_CONNECTION_PLURAL,
  Organization: ORGANIZATION_PLURAL,
};
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** The API server as the operator uses it. Every write names the field manager `modelkeys`. */
export class KubeObjects {
  readonly #custom: CustomObjectsApi;
  readonly #core: CoreV1Api;
  readonly #component: string;
  readonly #host: string;

  constructor(kc: KubeConfig, identity: string) {
    this.#custom = kc.makeApiClient(CustomObjectsApi);
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#component = "modelkeys-operator";
    this.#host = identity;
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

  /** Merge-patches metadata, guarded by the object's resourceVersion (a conflict throws and the queue retries). */
  async patchMetadata(kind: Kind, object: Obj, metadata: Record<string, unknown>): Promise<void> {
    await this.#custom.patchNamespacedCustomObject(
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
    );
  }

  async patchStatus(kind: Kind, object: Obj, status: Record<string, unknown>): Promise<void> {
    await this.#custom.patchNamespacedCustomObjectStatus(
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
    );
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
    let secret: Awaited<ReturnType<CoreV1Api["readNamespacedSecret"]>>;
    try {
      secret = await this.#core.readNamespacedSecret({ namespace, name });
    } catch (error) {
      if (isStatus(error, 404)) return;
      throw error;
    }
    const finalizers = secret.metadata?.finalizers ?? [];
    if (finalizers.includes(finalizer) === present) return;
    // A deleting Secret accepts no new finalizer; it is going anyway.
    if (present && secret.metadata?.deletionTimestamp) return;
    await this.#core.patchNamespacedSecret(
      {
        namespace,
        name,
        body: {
          metadata: {
            finalizers: present ? [...finalizers, finalizer] : finalizers.filter((f) => f !== finalizer),
            resourceVersion: secret.metadata?.resourceVersion,
          },
        },
        fieldManager: FIELD_MANAGER,
      },
      mergePatch,
    );
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

  /** Records a core/v1 Event on `object`. Messages must not carry secrets (callers pass fingerprints only). */
  async event(
    kind: Kind,
    object: Obj,
    event: { type: "Normal" | "Warning"; reason: string; message: string },
  ): Promise<void> {
    const now = new Date();
    await this.#core.createNamespacedEvent({
      namespace: object.metadata.namespace,
      body: {
        metadata: {
          name: `${object.metadata.name}.${randomBytes(8).toString("hex")}`,
          namespace: object.metadata.namespace,
        },
        involvedObject: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind,
          name: object.metadata.name,
          namespace: object.metadata.namespace,
          uid: object.metadata.uid,
          resourceVersion: object.metadata.resourceVersion,
        },
        type: event.type,
        reason: event.reason,
        message: event.message.slice(0, 1024),
        source: { component: this.#component, host: this.#host },
        reportingComponent: `${GROUP}/operator`,
        reportingInstance: this.#host,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }
}

/** Whether `error` is an API server answer with `code`. */
export function isStatus(error: unknown, code: number): boolean {
  return error instanceof ApiException && error.code === code;
}
