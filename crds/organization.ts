// The Organization kind: one Label Studio organization, reached through its API with an admin's token.
import { z } from "zod";
import { Conditions, SecretKeyRef } from "./common.ts";

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
    conditions: Conditions.optional(),
  })
  .meta({ description: "What the operator observed of the organization." });
export type OrganizationStatus = z.infer<typeof OrganizationStatus>;
