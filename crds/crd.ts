// The CustomResourceDefinitions, built from the zod schemas: names, printer columns and structural schemas.
// crds/generate.ts writes them as YAML; nothing here touches the file system.
import { z } from "zod";
import {
  AZURE_OPENAI_ACCOUNT_KIND,
  AZURE_OPENAI_ACCOUNT_PLURAL,
  AzureOpenAIAccountSpec,
  AzureOpenAIAccountStatus,
} from "./azureopenaiaccount.ts";
import { GROUP, PENDING_STATUS, VERSION } from "./common.ts";
import { applyKubernetesExtensions } from "./kubernetes-extensions.ts";
import {
  ORGANIZATION_KIND,
  ORGANIZATION_PLURAL,
  OrganizationSpec,
  OrganizationStatus,
} from "./organization.ts";
import {
  PROVIDER_CONNECTION_KIND,
  PROVIDER_CONNECTION_PLURAL,
  ProviderConnectionSpec,
  ProviderConnectionStatus,
} from "./providerconnection.ts";
import { type SchemaNode, toStructural } from "./structural.ts";

/** The category every kind belongs to: `kubectl get modelkeys` lists them together. */
export const CATEGORY = "modelkeys";
export const PROVIDER_CONNECTION_SHORT_NAMES = ["pconn", "pc"] as const;
/** `kubectl get lsorg`: a Label Studio organization ("org" alone is taken by other projects' kinds). */
export const ORGANIZATION_SHORT_NAMES = ["lsorg"] as const;
/** `kubectl get aoai`. */
export const AZURE_OPENAI_ACCOUNT_SHORT_NAMES = ["aoai"] as const;

/** An additional printer column of a CRD version (apiextensions.k8s.io/v1). */
export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** A CustomResourceDefinition as a plain object (apiextensions.k8s.io/v1). */
export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames?: string[];
      categories: string[];
    };
    scope: "Namespaced";
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: SchemaNode };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      selectableFields?: { jsonPath: string }[];
    }[];
  };
}

const READY: PrinterColumn = {
  name: "Ready",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: "The Ready condition's status.",
};
const REASON: PrinterColumn = {
  name: "Reason",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
  description: "Why the object is (not) ready.",
};
const AGE: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

/** The columns of `kubectl get providerconnections` (all shown by default). */
export const PROVIDER_CONNECTION_COLUMNS: PrinterColumn[] = [
  { name: "Provider", type: "string", jsonPath: ".spec.provider", description: "The model provider." },
  {
    name: "Organization",
    type: "string",
    jsonPath: ".spec.organizationRef.name",
    description: "The Organization object this connection belongs to.",
  },
  {
    name: "Scope",
    type: "string",
    jsonPath: ".status.scope",
    description: "Organization (one connection for the organization) or Model (one per model).",
  },
  {
    name: "Models",
    type: "integer",
    jsonPath: ".status.availableModels",
    description: "How many models the credential reaches.",
  },
  READY,
  REASON,
  {
    name: "Key",
    type: "string",
    jsonPath: ".status.credentialFingerprint",
    description: "The fingerprint of the pushed credential, never its value.",
  },
  {
    name: "Rotated",
    type: "date",
    jsonPath: ".status.credentialRotatedTime",
    description: "When the key was last rotated (or first synced); kubectl shows how long ago.",
  },
  AGE,
];

/** The columns of `kubectl get organizations` (short name lsorg); Reason shows with `-o wide`. */
export const ORGANIZATION_COLUMNS: PrinterColumn[] = [
  { name: "URL", type: "string", jsonPath: ".spec.url", description: "The Label Studio instance." },
  {
    name: "OrgID",
    type: "integer",
    jsonPath: ".status.organizationId",
    description: "The token owner's active organization.",
  },
  READY,
  {
    name: "Managed",
    type: "integer",
    jsonPath: ".status.app.managed",
    description: "App records a ProviderConnection manages (at the last listing).",
  },
  {
    name: "Unmanaged",
    type: "integer",
    jsonPath: ".status.app.unmanaged",
    description: "The organization's app records that no ProviderConnection manages.",
  },
  { ...REASON, priority: 1 },
  AGE,
];

/** The columns of `kubectl get aoai`; Reason shows with `-o wide`. */
export const AZURE_OPENAI_ACCOUNT_COLUMNS: PrinterColumn[] = [
  { name: "Location", type: "string", jsonPath: ".spec.location", description: "The Azure region." },
  {
    name: "Endpoint",
    type: "string",
    jsonPath: ".status.endpoint",
    description: "The account's endpoint.",
  },
  {
    name: "Deployments",
    type: "integer",
    jsonPath: ".status.deploymentCount",
    description: "How many deployments the account holds.",
  },
  {
    name: "Network",
    type: "string",
    jsonPath: ".status.networkSummary",
    description: "The default action and the number of IP rules (and subnets), e.g. Deny+5.",
  },
  READY,
  { ...REASON, priority: 1 },
  AGE,
];

/**
 * The openAPIV3Schema of a kind: apiVersion, kind, metadata, and the structural forms of the zod
 * spec and status schemas (their input shape, so defaulted fields stay optional to the user).
 */
export function kindSchema(description: string, spec: z.ZodType, status: z.ZodType): SchemaNode {
  const structural = (schema: z.ZodType) =>
    toStructural(
      z.toJSONSchema(schema, {
        target: "openapi-3.0",
        io: "input",
        override: applyKubernetesExtensions,
      }) as unknown as SchemaNode,
    );
  return {
    type: "object",
    description,
    properties: {
      apiVersion: {
        type: "string",
        description: "The versioned schema of this representation of an object, here modelkeys.dev/v1alpha1.",
      },
      kind: { type: "string", description: "The REST resource this object represents." },
      metadata: { type: "object" },
      spec: structural(spec),
      // Until the operator first writes status, the API server serves this default, so kstatus (Flux, kpt) sees a new
      // object as InProgress rather than Current: a missing status.observedGeneration would tell it nothing.
      status: { ...structural(status), default: PENDING_STATUS },
    },
    required: ["spec"],
  };
}

function crd(options: {
  kind: string;
  plural: string;
  shortNames?: readonly string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  columns: PrinterColumn[];
  selectableFields?: string[];
}): CustomResourceDefinition {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${options.plural}.${GROUP}`,
      labels: { "app.kubernetes.io/name": "modelkeys", "app.kubernetes.io/part-of": "modelkeys" },
    },
    spec: {
      group: GROUP,
      names: {
        kind: options.kind,
        listKind: `${options.kind}List`,
        plural: options.plural,
        singular: options.kind.toLowerCase(),
        ...(options.shortNames ? { shortNames: [...options.shortNames] } : {}),
        categories: [CATEGORY],
      },
      scope: "Namespaced",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: kindSchema(options.description, options.spec, options.status) },
          subresources: { status: {} },
          additionalPrinterColumns: options.columns,
          ...(options.selectableFields
            ? { selectableFields: options.selectableFields.map((jsonPath) => ({ jsonPath })) }
            : {}),
        },
      ],
    },
  };
}

/** The ProviderConnection CRD (short names pconn, pc). */
export function providerConnectionCrd(): CustomResourceDefinition {
  return crd({
    kind: PROVIDER_CONNECTION_KIND,
    plural: PROVIDER_CONNECTION_PLURAL,
    shortNames: PROVIDER_CONNECTION_SHORT_NAMES,
    description:
      "One model-provider connection of a Label Studio organization: the operator keeps the app's record in step with it.",
    spec: ProviderConnectionSpec,
    status: ProviderConnectionStatus,
    columns: PROVIDER_CONNECTION_COLUMNS,
    // `kubectl get pconn --field-selector spec.provider=OpenAI`, and the operator's per-organization lists.
    selectableFields: [".spec.provider", ".spec.organizationRef.name"],
  });
}

/** The Organization CRD. */
export function organizationCrd(): CustomResourceDefinition {
  return crd({
    kind: ORGANIZATION_KIND,
    plural: ORGANIZATION_PLURAL,
    shortNames: ORGANIZATION_SHORT_NAMES,
    description:
      "One Label Studio organization, reached through its API with an owner's or administrator's token.",
    spec: OrganizationSpec,
    status: OrganizationStatus,
    columns: ORGANIZATION_COLUMNS,
  });
}

/** The AzureOpenAIAccount CRD (short name aoai). */
export function azureOpenAIAccountCrd(): CustomResourceDefinition {
  return crd({
    kind: AZURE_OPENAI_ACCOUNT_KIND,
    plural: AZURE_OPENAI_ACCOUNT_PLURAL,
    shortNames: AZURE_OPENAI_ACCOUNT_SHORT_NAMES,
    description:
      "One Azure OpenAI account, provisioned with Pulumi: its settings and network rules; its deployments come from the ProviderConnections that name it.",
    spec: AzureOpenAIAccountSpec,
    status: AzureOpenAIAccountStatus,
    columns: AZURE_OPENAI_ACCOUNT_COLUMNS,
  });
}
