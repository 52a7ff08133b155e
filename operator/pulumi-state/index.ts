// Pulumi state kept in Kubernetes: the StackStateStore on Secrets and Leases, and the passphrase Secret.
export { decodeCheckpoint, encodeCheckpoint, SECRET_DATA_LIMIT } from "./checkpoint-codec.ts";
export { KubernetesStateStore, type KubernetesStateStoreOptions } from "./kubernetes-store.ts";
export * from "./names.ts";
export { kubernetesPassphraseSecrets } from "./passphrase-secrets.ts";
export type { LeaseTiming } from "./stack-lease.ts";
