// Turns a cdk8s App into the install YAML: every RBAC rule gets its reason as a comment above it,
// and long strings (CEL rules, descriptions) are never folded.
import type { App } from "cdk8s";
import { Document, isMap, isSeq, parseAllDocuments } from "yaml";
import type { ExplainedRule } from "./rbac.ts";

const RULE_KINDS = new Set(["Role", "ClusterRole"]);

/** A JSON form with sorted keys, so rules compare by content rather than key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * Writes binary quantities as the API server stores them (1024Mi → 1Gi): a value that the server rewrites
 * would conflict with another server-side-apply manager and show as a diff to GitOps tools.
 */
export function canonicalQuantities(value: unknown): unknown {
  if (typeof value === "string") {
    const match = /^([0-9]+)(Ki|Mi|Gi)$/.exec(value);
    if (!match) return value;
    const units = ["Ki", "Mi", "Gi", "Ti"];
    let amount = Number(match[1]);
    let unit = units.indexOf(match[2] as string);
    while (amount > 0 && amount % 1024 === 0 && unit < units.length - 1) {
      amount /= 1024;
      unit += 1;
    }
    return `${amount}${units[unit]}`;
  }
  if (Array.isArray(value)) return value.map(canonicalQuantities);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, canonicalQuantities(inner)]));
  }
  return value;
}

/** Word-wraps a comment; the yaml library puts "#" before each line. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = "";
    }
    line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((text) => ` ${text}`).join("\n");
}

/**
 * Renders the app's charts, in chart order, as one multi-document YAML.
 *
 * Guarantees: every rule of every Role and ClusterRole carries the `why` of its ExplainedRule as a comment;
 * a role missing from `explained` or whose rules differ from it is an error, so no permission ships
 * unexplained. `explained` is keyed "Kind/name" for cluster roles and "Kind/namespace/name" for roles.
 */
export function renderInstallYaml(
  app: App,
  explained: Readonly<Record<string, readonly ExplainedRule[]>>,
  header: string,
): string {
  const docs = parseAllDocuments(app.synthYaml());
  const out: string[] = [];
  for (const [index, parsed] of docs.entries()) {
    const json = canonicalQuantities(parsed.toJS()) as {
      kind?: string;
      metadata?: { name?: string; namespace?: string };
    } | null;
    if (!json) continue;
    const doc = new Document(json);
    if (index === 0) doc.commentBefore = header;
    if (json.kind && RULE_KINDS.has(json.kind)) {
      const key = [json.kind, json.metadata?.namespace, json.metadata?.name].filter(Boolean).join("/");
      const rules = doc.get("rules");
      const reasons = explained[key];
      if (!isSeq(rules) || !reasons || rules.items.length !== reasons.length) {
        throw new Error(`${key}: its rules are not the explained ones`);
      }
      for (const [at, item] of rules.items.entries()) {
        const reason = reasons[at];
        if (!isMap(item) || !reason || canonical(item.toJSON()) !== canonical(reason.rule)) {
          throw new Error(`${key}: rule ${at} is not the explained one`);
        }
        item.commentBefore = wrap(reason.why, 96);
      }
    }
    out.push(doc.toString({ lineWidth: 0 }));
  }
  return out.join("---\n");
}
