// The Organization kind: one Label Studio organization, reached through its API with an admin's token.
import { z } from "zod";
import { Conditions, Duration, SecretKeyRef } from "./common.ts";

export const ORGANIZATION_KIND = "Organization";
export const ORGANIZATION_PLURAL = "organizations";

export const OrganizationSpec = z
  .object({
    url: z
      .string()
      .min(1)
      .max(2048)
      .meta({
        description: "Base URL of the Label Studio instance, e.g. https://label-studio.acme.internal.",
        "x-kubernetes-validations": [
          {
            rule: "isURL(self) && url(self).getScheme() in ['https', 'http'] && url(self).getHostname() != ''",
            message: "must be an http or https URL",
          },
        ],
      }),
    tokenSecretRef: SecretKeyRef.meta({
      description:
        "The API token of an owner or administrator: a legacy token or a personal access token (JWT refresh token).",
    }),
    organizationId: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: "Pins the organization: must equal the token owner's active organization." }),
    adoptExisting: z.boolean().default(false).meta({
      description:
        "Adopt connections for one-per-organization providers that already exist in the app (made by hand).",
    }),
    maxKeyAge: Duration.optional().meta({
      description:
        "How long a connection's key may live since its last rotation (or first sync), e.g. 90d; past it the connection gets KeyRotationDue=True (Ready stays as it is). A connection's spec.maxKeyAge overrides it.",
    }),
    tls: z
      .object({
        caSecretRef: SecretKeyRef.optional().meta({
          description: "A PEM CA bundle to trust for the app's certificate, added to the system roots.",
        }),
        insecureSkipVerify: z
          .boolean()
          .default(false)
          .meta({ description: "Skip certificate verification. Only for tests; never in production." }),
      })
      .strict()
      .optional()
      .meta({ description: "TLS options; certificates are verified by default." }),
  })
  .strict()
  .meta({ description: "How to reach one Label Studio organization." });
export type OrganizationSpec = z.infer<typeof OrganizationSpec>;

/** An app record that no ProviderConnection manages: what an auditor needs to find it (never a key). */
export const UnmanagedRecord = z
  .object({
    id: z.number().int(),
    provider: z.string().max(64),
    scope: z.string().max(32),
    deployment: z.string().max(512).optional().meta({ description: "deployment_name (per-model scope)." }),
  })
  .strict();
export type UnmanagedRecord = z.infer<typeof UnmanagedRecord>;

/** A managed app record whose updated_at moved since the operator's last write: someone changed it in the app. */
export const ChangedRecord = z
  .object({
    id: z.number().int(),
    connection: z.string().max(253).meta({ description: "The ProviderConnection that manages it." }),
  })
  .strict();
export type ChangedRecord = z.infer<typeof ChangedRecord>;

/** The most records listed by name in status; the counts are always complete. */
export const REPORTED_RECORDS_LIMIT = 100;

/** What the app holds for the organization, as the last listing found it (listed at each resync). */
export const AppReport = z
  .object({
    reportedTime: z.string().meta({
      format: "date-time",
      description:
        "When a listing first found these figures (the app is listed at each resync; status changes only with them).",
    }),
    managed: z
      .number()
      .int()
      .meta({ description: "Records a ProviderConnection of this Organization manages." }),
    unmanaged: z
      .number()
      .int()
      .meta({ description: "The organization's records that no ProviderConnection manages." }),
    changed: z
      .number()
      .int()
      .meta({ description: "Managed records changed in the app since the operator's last write." }),
    offLimits: z.number().int().meta({
      description:
        "Records that are not the organization's to manage (internal to the app, or a user's own, scope User): counted, never listed or touched.",
    }),
    unmanagedRecords: z
      .array(UnmanagedRecord)
      .max(REPORTED_RECORDS_LIMIT)
      .optional()
      .meta({
        description: `The unmanaged records (the first ${REPORTED_RECORDS_LIMIT} by id).`,
      }),
    changedRecords: z
      .array(ChangedRecord)
      .max(REPORTED_RECORDS_LIMIT)
      .optional()
      .meta({
        description: `The changed records (the first ${REPORTED_RECORDS_LIMIT} by id).`,
      }),
  })
  .strict();
export type AppReport = z.infer<typeof AppReport>;

export const OrganizationStatus = z
  .object({
    observedGeneration: z.number().int().optional(),
    organizationId: z
      .number()
      .int()
      .optional()
      .meta({ description: "The token owner's active organization." }),
    tokenKind: z.enum(["Legacy", "PersonalAccessToken"]).optional(),
    lastCheckTime: z.string().optional().meta({ format: "date-time" }),
    app: AppReport.optional().meta({
      description: "What the app holds: managed, unmanaged and changed-in-app records (never a key).",
    }),
    syncRequestedAt: z.string().optional().meta({
      description:
        "The last modelkeys.dev/sync-requested-at value handled (the app was listed again for it).",
    }),
    conditions: Conditions.optional(),
  })
  .meta({ description: "What the operator observed of the organization." });
export type OrganizationStatus = z.infer<typeof OrganizationStatus>;
