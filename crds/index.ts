// The modelkeys API: zod schemas are the one source of truth for types and CRD schemas.
export * from "./annotations.ts";
export * from "./azureopenaiaccount.ts";
export * from "./common.ts";
export * from "./organization.ts";
export * from "./provider-blocks.ts";
export * from "./providerconnection.ts";
export * from "./status-readings.ts";

import type { z } from "zod";
import type { AzureOpenAIAccountSpec, AzureOpenAIAccountStatus } from "./azureopenaiaccount.ts";
import type { OrganizationSpec, OrganizationStatus } from "./organization.ts";
import type { ProviderConnectionSpec, ProviderConnectionStatus } from "./providerconnection.ts";

/** Object metadata as the operator reads it (a subset of metav1.ObjectMeta). */
export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface ProviderConnection {
  apiVersion: "modelkeys.dev/v1alpha1";
  kind: "ProviderConnection";
  metadata: ObjectMeta;
  spec: z.infer<typeof ProviderConnectionSpec>;
  status?: z.infer<typeof ProviderConnectionStatus>;
}

export interface Organization {
  apiVersion: "modelkeys.dev/v1alpha1";
  kind: "Organization";
  metadata: ObjectMeta;
  spec: z.infer<typeof OrganizationSpec>;
  status?: z.infer<typeof OrganizationStatus>;
}

/** An Azure OpenAI account the operator provisions (kind AzureOpenAIAccount). */
export interface AzureOpenAIAccount {
  apiVersion: "modelkeys.dev/v1alpha1";
  kind: "AzureOpenAIAccount";
  metadata: ObjectMeta;
  spec: z.infer<typeof AzureOpenAIAccountSpec>;
  status?: z.infer<typeof AzureOpenAIAccountStatus>;
}
