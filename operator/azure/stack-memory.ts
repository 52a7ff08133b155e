// What the account reconciler remembers of each account's stack between reconciles: the last update's outputs
// and keys, which key the key Secret carries, and how far a key rotation has come. In memory; rebuilt by an update.
import type { StackDeployment } from "./deployments.ts";
import type { KeyName, ProvisionResult } from "./provisioner.ts";
import type { KeyValues, RotationPhase } from "./rotation.ts";

/** One stack's memory. */
export interface StackMemory {
  /** The outputs of the last successful update. */
  outputs?: ProvisionResult;
  /** The deployments of the last successful update. */
  deployments?: StackDeployment[];
  /** The last update's end and result. */
  lastUpdate?: { time: string; result: "succeeded" | "failed" };
  /** The account's keys as they now are (from the last update or regeneration). */
  keys?: KeyValues;
  /** The key the key Secret carries. */
  activeKey?: KeyName;
  rotation: RotationPhase;
  /** The rotation request (annotation value) the running rotation serves. */
  rotating?: string;
  /** The last rotation request served, and when. */
  rotated?: { value: string; time: string };
  /** Connections the rotation waits for (their apps must take the new key first), for the condition. */
  rotationWaitingFor?: string[];
  /** The last rotation step's failure, retried after `retryAt`. */
  rotationFailure?: { message: string; retryAt: number; attempts: number };
}

/** Every stack's memory, made on first use. */
export class StackMemories {
  private readonly stacks = new Map<string, StackMemory>();

  of(stack: string): StackMemory {
    let memory = this.stacks.get(stack);
    if (!memory) {
      memory = { rotation: { phase: "idle" } };
      this.stacks.set(stack, memory);
    }
    return memory;
  }

  /** Forgets a stack (its account is gone). */
  forget(stack: string): void {
    this.stacks.delete(stack);
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
    memory.lastUpdate = { time, result: "succeeded" };
    return memory;
  }
}
