// The audit report's JSON Schema, generated from the zod schema (`npm run generate` writes it next to the
// plugin's package.json, so consumers of `audit -o json` can validate without TypeScript).
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { AuditReport } from "./report.ts";

/** Where the schema file lives. */
export const SCHEMA_FILE = fileURLToPath(new URL("../audit-report.schema.json", import.meta.url));

/** The schema's text: a pure function of the zod schema. */
export function auditReportSchemaText(): string {
  return `${JSON.stringify(z.toJSONSchema(AuditReport, { target: "draft-2020-12" }), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, auditReportSchemaText());
  console.log(`wrote ${SCHEMA_FILE}`);
}
