// Records core/v1 Events on our objects as client-go's recorder does: a repeat of the same Event moves its count
// and lastTimestamp instead of making a new one, and routine Normal Events are paced so they never dominate writes.
import { randomBytes } from "node:crypto";
import { GROUP, VERSION } from "../../crds/index.ts";
import { type KubeClient, PATCH } from "./client.ts";
import { TokenBucket } from "./transport.ts";

/** An Event to record: messages must not carry secrets (callers pass fingerprints only). */
export interface EventIntent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** The object an Event is about. */
export interface InvolvedObject {
  kind: string;
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string };
}

export interface EventRecorder {
  record(object: InvolvedObject, event: EventIntent): Promise<void>;
}

export interface EventRecorderOptions {
  kc: KubeClient;
  /** This replica's name (the Event's source host and reporting instance). */
  host: string;
  /** Normal Events per second on average; Warnings are never paced. @default 5 */
  normalPerSecond?: number;
  /** Normal Events allowed at once above the average. @default 50 */
  normalBurst?: number;
  /** How many distinct Events are remembered for aggregation (oldest forgotten first). @default 4096 */
  remembered?: number;
  /** Called when a Normal Event is dropped by the pacing. */
  onDropped?(event: EventIntent): void;
  now?(): Date;
}

const eventsPath = (namespace: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;

/**
 * Creates an Event recorder.
 *
 * Guarantees: an Event equal to one recorded before (same object, type, reason and message) is a patch of that
 * Event's `count` and `lastTimestamp`, never a second object; every Warning is recorded; Normal Events beyond
 * `normalBurst` at once and `normalPerSecond` on average are dropped, repeats included (a bulk create writes a few dozen, not one
 * per object). A recorded Event whose object was deleted and re-created (another uid) is a new Event.
 * Assumptions: Events are informational; a failure to record one is returned to the caller, which may ignore it.
 * Caveats: aggregation memory is per process (a restart starts new Events); the API server's Event TTL (1h by
 * default) may remove an Event we remember: the patch's 404 then records it anew.
 */
export function createEventRecorder(options: EventRecorderOptions): EventRecorder {
  const now = options.now ?? (() => new Date());
  const paced = new TokenBucket(options.normalPerSecond ?? 5, options.normalBurst ?? 50);
  const remembered = options.remembered ?? 4096;
  const recorded = new Map<string, { name: string; count: number }>();

  const create = async (object: InvolvedObject, event: EventIntent, key: string) => {
    const at = now();
    const name = `${object.metadata.name}.${randomBytes(8).toString("hex")}`;
    await options.kc.request("POST", eventsPath(object.metadata.namespace), {
      body: {
        metadata: { name, namespace: object.metadata.namespace },
        involvedObject: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: object.kind,
          name: object.metadata.name,
          namespace: object.metadata.namespace,
          uid: object.metadata.uid,
          resourceVersion: object.metadata.resourceVersion,
        },
        type: event.type,
        reason: event.reason,
        message: event.message.slice(0, 1024),
        source: { component: "modelkeys-operator", host: options.host },
        reportingComponent: `${GROUP}/operator`,
        reportingInstance: options.host,
        firstTimestamp: at.toISOString(),
        lastTimestamp: at.toISOString(),
        count: 1,
      },
    });
    recorded.set(key, { name, count: 1 });
    if (recorded.size > remembered) recorded.delete(recorded.keys().next().value as string);
  };

  return {
    async record(object, event) {
      const key = [
        object.metadata.namespace,
        object.metadata.uid ?? object.metadata.name,
        event.type,
        event.reason,
        event.message,
      ].join("\0");
      if (event.type === "Normal" && !paced.tryTake()) {
        options.onDropped?.(event);
        return;
      }
      const seen = recorded.get(key);
      if (seen) {
        // Most recently used last, so the oldest is forgotten first.
        recorded.delete(key);
        recorded.set(key, seen);
        try {
          await options.kc.request(
            "PATCH",
            `${eventsPath(object.metadata.namespace)}/${encodeURIComponent(seen.name)}`,
            { body: { count: seen.count + 1, lastTimestamp: now().toISOString() }, contentType: PATCH.merge },
          );
          seen.count++;
          return;
        } catch (error) {
          if ((error as { code?: number }).code !== 404) throw error;
          recorded.delete(key);
        }
      }
      await create(object, event, key);
    },
  };
}
