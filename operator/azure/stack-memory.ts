// What the operator remembers of each account's stack between reconciles: the last update's outputs and
// keys, which key the Secrets carry, and how far a key rotation has come. In memory; rebuilt by an update.
import type { StackDeployment } from "./membership.ts";
import type { KeyName, ProvisionResult } from "./provisioner.ts";
import type { KeyValues, RotationPhase } from "./rotation.ts";

/** One stack's memory. */
export interface StackMemory {
  /** The outputs of the last successful update. */
  outputs?: ProvisionResult;
  /** The deployments of the last successful update. */
  deployments?: StackDeployment[];
  /** The last update's end and result. */
  lastUpdate?: { time: string; result: "Succeeded" | "Failed" };
  /** The account's keys as they now are (from the last update or regeneration). */
  keys?: KeyValues;
  /** The key the owned Secrets carry. */
  activeKey?: KeyName;
  rotation: RotationPhase;
  /** Rotation requests (connection uid → annotation value) the running rotation serves. */
  rotating: Map<string, string>;
  /** Rotation requests done: connection uid → annotation value and when. */
  rotated: Map<string, { value: string; time: string }>;
  /** Connections whose rotation is waiting for apps to take the new key, for the condition's message. */
  rotationWaitingFor?: string[];
  /** The last rotation step's failure, retried after `retryAt`. */
  rotationFailure?: { message: string; retryAt: number; attempts: number };
  /** Connections (uid) whose deletion has removed what provisioning made. */
  deprovisioned: Set<string>;
}

/** Every stack's memory, made on first use. */
export class StackMemories {
  private readonly stacks = new Map<string, StackMemory>();

  of(stack: string): StackMemory {
    let memory = this.stacks.get(stack);
    if (!memory) {
      memory = {
        rotation: { phase: "idle" },
        rotating: new Map(),
        rotated: new Map(),
        deprovisioned: new Set(),
      };
      this.stacks.set(stack, memory);
    }
    return memory;
  }

  /** Records an update's outputs: keys, deployments, and the time and result. */
  recordUpdate(
    stack: string,
    outputs: ProvisionResult,
    deployments: StackDeployment[],
    time: string,
  ): StackMemory {
    const memory = this.of(stack);
    memory.outputs = outputs;
    memory.deployments = deployments;
    memory.keys = { key1: outputs.primaryKey, key2: outputs.secondaryKey };
    memory.lastUpdate = { time, result: "Succeeded" };
    return memory;
  }
}
