// The Helm chart, generated from the same cdk8s install as dist/install.yaml: the synthesized objects become
// templates, with Helm values substituted at chosen places, so there is no second copy of the manifests.
import { fileURLToPath } from "node:url";
import { parseAllDocuments, stringify } from "yaml";
import packageJson from "../package.json" with { type: "json" };
import { type InstallProps, installManifest } from "./install.ts";
import { INSTALL } from "./names.ts";
import { PROVISIONING_ROLE } from "./rbac.ts";

/** Where `npm run synth` writes the chart. */
export const CHART_DIR = fileURLToPath(new URL("../dist/chart/modelkeys", import.meta.url));

/**
 * The install with every optional object switched on; each one is then guarded by a {@link TOGGLES} entry.
 * Another optional object (a ServiceMonitor, a PrometheusRule, …) joins here and in TOGGLES.
 */
export const ALL_ON: InstallProps = {
  cluster: { finalizerPolicy: "v1" },
  operator: { networkPolicy: true, monitoring: { serviceMonitor: true, prometheusRule: true } },
};

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
} & Record<string, unknown>;

/**
 * A Helm condition around whole objects of `kinds` (and of `names`, when given); `value` (when set) is a boolean
 * value whose default says "present by default", unless `enabledByDefault` says otherwise (an object that
 * dist/install.yaml leaves out but the chart, which can ask the cluster, installs). An object under several
 * toggles needs all their conditions.
 */
interface Toggle {
  kinds: readonly string[];
  names?: readonly string[];
  condition: string;
  value?: string;
  enabledByDefault?: boolean;
}

/** Kinds served at v1 from Kubernetes 1.36 and at v1beta1 before (1.34–1.35, when the API server enables it). */
const ADMISSION_POLICY_KINDS = ["MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"];
const served = (version: "v1" | "v1beta1") =>
  `(.Capabilities.APIVersions.Has "admissionregistration.k8s.io/${version}/MutatingAdmissionPolicy")`;

/**
 * Objects that exist only under a condition. A toggle with `value` gets a boolean in values.yaml, true when the
 * default install has that object. The monitoring objects' toggle is ready for the ServiceMonitor and PrometheusRule.
 */
export const TOGGLES: readonly Toggle[] = [
  { kinds: ["NetworkPolicy"], condition: ".Values.networkPolicy.enabled", value: "networkPolicy.enabled" },
  {
    kinds: ["ServiceMonitor", "PrometheusRule"],
    condition: ".Values.monitoring.enabled",
    value: "monitoring.enabled",
  },
  // The install adds a PodDisruptionBudget only when more than one replica runs.
  { kinds: ["PodDisruptionBudget"], condition: "gt (int .Values.replicas) 1" },
  // Secret create/update/delete and the Pulumi passphrase exist only with provisioning.
  {
    kinds: ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
    names: [PROVISIONING_ROLE],
    condition: ".Values.azureProvisioning.enabled",
    value: "azureProvisioning.enabled",
  },
  // Watching listed namespaces, the operator's ClusterRoles are bound there (WATCHED_BINDINGS), not cluster-wide.
  { kinds: ["ClusterRoleBinding"], condition: "not .Values.watchNamespaces" },
  // The Lease's priority, where the cluster serves FlowSchemas at v1 (Kubernetes 1.29 and later).
  {
    kinds: ["FlowSchema"],
    condition:
      'and .Values.leasePriority.enabled (.Capabilities.APIVersions.Has "flowcontrol.apiserver.k8s.io/v1")',
    value: "leasePriority.enabled",
  },
  // The finalizer's admission policy, where the cluster serves MutatingAdmissionPolicy (v1, or v1beta1 enabled).
  {
    kinds: ADMISSION_POLICY_KINDS,
    condition: `and .Values.finalizerPolicy.enabled (or ${served("v1")} ${served("v1beta1")})`,
    value: "finalizerPolicy.enabled",
    enabledByDefault: true,
  },
];

const togglesOf = (object: K8sObject) =>
  TOGGLES.filter(
    (t) => t.kinds.includes(object.kind) && (!t.names || t.names.includes(object.metadata.name)),
  );

/** The namespace the generator synthesizes the per-namespace RoleBindings in, replaced by each watched one. */
const WATCHED = "watched-namespace-placeholder";

/** One step into an object: a key, a list index, or the list element with that `name`. */
type Step = string | number | { name: string };

/**
 * A Helm value placed into an object of one kind. `scalar` and `block` replace what cdk8s synthesized (which becomes
 * the value's default); `optional` adds `key` under `at` only when the value is set (default `empty`); `optionalEnv`
 * adds an environment variable only when the value is set; `expression` replaces a string with a template whose
 * values' defaults are given.
 */
type Binding = { kind: string; at: Step[] } & (
  | { type: "scalar" | "block"; value: string }
  | { type: "optional"; key: string; value: string; empty: [] | Record<string, never> }
  /** Appends `{name: item, value}` to the list at `at` only when the value is set (default `empty`, or ""). */
  | { type: "optionalEnv"; item: string; value: string; empty?: []; format?: string }
  /** Appends `{name: item, value: "false"}` to the list at `at` only when the boolean value is off. */
  | { type: "offEnv"; item: string; value: string }
  | { type: "expression"; expression: string; defaults: (synthesized: string) => Record<string, string> }
);

const CONTAINER: Step[] = ["spec", "template", "spec", "containers", { name: "operator" }];
const POD: Step[] = ["spec", "template", "spec"];
const env = (name: string): Step[] => [...CONTAINER, "env", { name }, "value"];

/** The values of the chart and where each one lands. */
export const BINDINGS: readonly Binding[] = [
  {
    kind: "Deployment",
    at: [...CONTAINER, "image"],
    type: "expression",
    expression:
      "{{ .Values.image.repository }}{{ if .Values.image.digest }}@{{ .Values.image.digest }}{{ else }}:{{ .Values.image.tag }}{{ end }}",
    defaults: (image) => {
      const at = image.lastIndexOf(":");
      return { "image.repository": image.slice(0, at), "image.tag": image.slice(at + 1), "image.digest": "" };
    },
  },
  { kind: "Deployment", at: [...CONTAINER, "imagePullPolicy"], type: "scalar", value: "image.pullPolicy" },
  {
    kind: "Deployment",
    at: POD,
    type: "optional",
    key: "imagePullSecrets",
    value: "image.pullSecrets",
    empty: [],
  },
  { kind: "Deployment", at: ["spec", "replicas"], type: "scalar", value: "replicas" },
  { kind: "Deployment", at: [...CONTAINER, "resources"], type: "block", value: "resources" },
  { kind: "Deployment", at: POD, type: "optional", key: "nodeSelector", value: "nodeSelector", empty: {} },
  { kind: "Deployment", at: POD, type: "optional", key: "tolerations", value: "tolerations", empty: [] },
  { kind: "Deployment", at: POD, type: "optional", key: "affinity", value: "affinity", empty: {} },
  {
    kind: "Deployment",
    at: ["spec", "template", "metadata"],
    type: "optional",
    key: "annotations",
    value: "podAnnotations",
    empty: {},
  },
  {
    kind: "Deployment",
    at: [...CONTAINER, "env"],
    type: "optionalEnv",
    item: "MODELKEYS_NAMESPACES",
    value: "watchNamespaces",
    empty: [],
    format: 'join ","',
  },
  {
    kind: "Deployment",
    at: [...CONTAINER, "env"],
    type: "offEnv",
    item: "MODELKEYS_AZURE_PROVISIONING",
    value: "azureProvisioning.enabled",
  },
  { kind: "Deployment", at: env("MODELKEYS_LOG_LEVEL"), type: "scalar", value: "logLevel" },
  {
    kind: "Deployment",
    at: env("MODELKEYS_PULUMI_PASSPHRASE_SECRET"),
    type: "expression",
    expression:
      "{{ .Release.Namespace }}/{{ .Values.pulumi.passphraseSecret.name }}/{{ .Values.pulumi.passphraseSecret.key }}",
    defaults: (text) => {
      const [, name = "", key = ""] = text.split("/");
      return { "pulumi.passphraseSecret.name": name, "pulumi.passphraseSecret.key": key };
    },
  },
  // Unset by default: the stacks' state is kept in Secrets.
  {
    kind: "Deployment",
    at: [...CONTAINER, "env"],
    type: "optionalEnv",
    item: "PULUMI_BACKEND_URL",
    value: "pulumi.backendUrl",
  },
];

/** The chart's files, path (relative to the chart) → content; the same install always gives the same bytes. */
export function helmChart(): Record<string, string> {
  const defaults = objectsOf(installManifest());
  const all = objectsOf(installManifest(ALL_ON));
  const watched = objectsOf(installManifest({ ...ALL_ON, watchNamespaces: [WATCHED] })).filter(
    (o) => o.kind === "RoleBinding" && o.metadata.namespace === WATCHED,
  );
  const values: Record<string, unknown> = { createNamespace: true };
  const files: Record<string, string> = {};
  const deploymentImage = String(read(find(defaults, "Deployment"), [...CONTAINER, "image"]));

  for (const toggle of TOGGLES) {
    // A toggle appears once the install can make one of its objects.
    if (toggle.value && all.some((o) => togglesOf(o).includes(toggle))) {
      setPath(
        values,
        toggle.value,
        toggle.enabledByDefault ?? defaults.some((o) => togglesOf(o).includes(toggle)),
      );
    }
  }
  for (const object of watched) {
    files[`templates/watched-rolebinding-${object.metadata.name}.yaml`] = watchedTemplate(object);
  }
  for (const object of all) {
    const name = `${object.kind.toLowerCase()}-${object.metadata.name}.yaml`;
    if (object.kind === "CustomResourceDefinition") {
      files[`crds/${object.metadata.name}.yaml`] = stringify(object, { lineWidth: 0 });
      continue;
    }
    if (object.kind === "Namespace") {
      files["templates/namespace.yaml"] = namespaceTemplate(object);
      continue;
    }
    files[`templates/${name}`] = template(object, defaults, values);
  }
  files["Chart.yaml"] = stringify({
    apiVersion: "v2",
    name: "modelkeys",
    description:
      "The modelkeys operator: model provider connections for Label Studio, as Kubernetes objects.",
    type: "application",
    version: packageJson.version,
    appVersion: deploymentImage.slice(deploymentImage.lastIndexOf(":") + 1),
  });
  files["values.yaml"] =
    `# Generated by \`npm run synth\` from the cdk8s install (cdk8s/helm-chart.ts); do not edit.\n${stringify(values, { lineWidth: 0 })}`;
  return files;
}

/** The synthesized install as plain objects, as dist/install.yaml holds them. */
export function objectsOf(yaml: string): K8sObject[] {
  return parseAllDocuments(yaml)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

function find(objects: readonly K8sObject[], kind: string, required = true): K8sObject | undefined {
  const found = objects.find((o) => o.kind === kind);
  if (!found && required) throw new Error(`the install has no ${kind}`);
  return found;
}

/**
 * The release's namespace; created by the chart only where it does not exist yet (`helm template`, as Argo CD
 * renders; `helm install` needs the namespace first, or `--create-namespace`).
 */
function namespaceTemplate(object: K8sObject): string {
  const body = stringify(
    { ...object, metadata: { ...object.metadata, name: "__NAMESPACE__" } },
    { lineWidth: 0 },
  );
  return `{{- if and .Values.createNamespace (not (lookup "v1" "Namespace" "" .Release.Namespace)) }}\n${body.replace("__NAMESPACE__", "{{ .Release.Namespace }}")}{{- end }}\n`;
}

function template(
  object: K8sObject,
  defaults: readonly K8sObject[],
  values: Record<string, unknown>,
): string {
  const copy = structuredClone(object);
  const substitutions: { token: string; render: (line: RegExpExecArray) => string }[] = [];
  for (const binding of BINDINGS.filter((b) => b.kind === object.kind)) {
    const token = `__HELM_${substitutions.length}__`;
    const synthesized = read(find(defaults, object.kind), binding.at);
    if (binding.type === "optional") {
      setPath(values, binding.value, binding.empty);
      const parent = read(copy, binding.at) as Record<string, unknown>;
      parent[token] = true;
      substitutions.push({
        token,
        render: ([, indent = ""]) =>
          `{{- with .Values.${binding.value} }}\n${indent}${binding.key}:\n${indent}  {{- toYaml . | nindent ${indent.length + 2} }}\n{{- end }}`,
      });
      continue;
    }
    if (binding.type === "optionalEnv") {
      setPath(values, binding.value, binding.empty ?? "");
      (read(copy, binding.at) as unknown[]).push({ name: token });
      const format = binding.format ? `${binding.format} . | quote` : ". | quote";
      substitutions.push({
        token,
        render: ([, indent = ""]) => {
          const pad = " ".repeat(indent.length - 2);
          return `{{- with .Values.${binding.value} }}\n${pad}- name: ${binding.item}\n${pad}  value: {{ ${format} }}\n{{- end }}`;
        },
      });
      continue;
    }
    if (binding.type === "offEnv") {
      (read(copy, binding.at) as unknown[]).push({ name: token });
      substitutions.push({
        token,
        render: ([, indent = ""]) => {
          const pad = " ".repeat(indent.length - 2);
          return `{{- if not .Values.${binding.value} }}\n${pad}- name: ${binding.item}\n${pad}  value: "false"\n{{- end }}`;
        },
      });
      continue;
    }
    write(copy, binding.at, token);
    if (binding.type === "expression") {
      for (const [path, value] of Object.entries(binding.defaults(String(synthesized))))
        setPath(values, path, value);
      substitutions.push({
        token,
        render: ([, indent = "", key = ""]) => `${indent}${key}: ${quoted(binding.expression)}`,
      });
      continue;
    }
    setPath(values, binding.value, synthesized);
    const ref = `.Values.${binding.value}`;
    substitutions.push({
      token,
      render: ([, indent = "", key = ""]) =>
        binding.type === "block"
          ? `${indent}${key}:\n${indent}  {{- toYaml ${ref} | nindent ${indent.length + 2} }}`
          : `${indent}${key}: ${typeof synthesized === "string" ? `{{ ${ref} | quote }}` : `{{ ${ref} }}`}`,
    });
  }
  // Text that is not ours to template (a PrometheusRule's {{ $labels.name }}) is printed by Helm as it is.
  let text = stringify(copy, { lineWidth: 0 }).replace(/\{\{|\}\}/g, (braces) => `{{ "${braces}" }}`);
  for (const { token, render } of substitutions) {
    const line = new RegExp(`^( *(?:- )?)([^\\n:]+): ${token}$`, "m").exec(text);
    const optional = new RegExp(`^( *(?:- )?)${token}: true$`, "m").exec(text);
    const item = new RegExp(`^( *- )name: ${token}$`, "m").exec(text);
    const match = line ?? optional ?? item;
    if (!match) throw new Error(`${object.kind}/${object.metadata.name}: no place for ${token}`);
    // A "- " list marker belongs to the first key only: the block below it is indented as a plain key.
    text = text.replace(match[0], render(match));
  }
  if (ADMISSION_POLICY_KINDS.includes(object.kind)) text = admissionPolicyTemplate(object, text);
  // The operator's namespace is the release's namespace (names of Secrets, ServiceAccount users, …).
  text = text.replaceAll(INSTALL.namespace, "{{ .Release.Namespace }}");
  return guarded(object, text);
}

/**
 * The finalizer policy's objects at the version the cluster serves (v1, else v1beta1: the condition around them
 * asks for one of the two); the binding limited to the watched namespaces when there are some, as the cdk8s
 * install limits it.
 */
function admissionPolicyTemplate(object: K8sObject, text: string): string {
  const v1 = `admissionregistration.k8s.io/v1/${object.kind}`;
  let templated = text.replace(
    /^apiVersion: admissionregistration\.k8s\.io\/v1$/m,
    `apiVersion: {{ if .Capabilities.APIVersions.Has "${v1}" }}admissionregistration.k8s.io/v1{{ else }}admissionregistration.k8s.io/v1beta1{{ end }}`,
  );
  if (object.kind === "MutatingAdmissionPolicyBinding") {
    const policyName = /^ {2}policyName: .*$/m;
    if (!policyName.test(templated)) throw new Error(`${object.kind}: no policyName`);
    templated = templated.replace(
      policyName,
      (line) =>
        `${line}\n{{- with .Values.watchNamespaces }}\n  matchResources:\n    namespaceSelector:\n      matchExpressions:\n` +
        "        - key: kubernetes.io/metadata.name\n          operator: In\n          values:\n" +
        "            {{- toYaml . | nindent 12 }}\n{{- end }}",
    );
  }
  return templated;
}

/** The object's text inside the conditions of its toggles, if any. */
function guarded(object: K8sObject, text: string): string {
  const conditions = togglesOf(object).map((t) => `(${t.condition})`);
  if (conditions.length === 0) return text;
  const condition = conditions.length === 1 ? conditions[0]?.slice(1, -1) : `and ${conditions.join(" ")}`;
  return `{{- if ${condition} }}\n${text}{{- end }}\n`;
}

/** A RoleBinding made once per value of watchNamespaces; inside `range`, the release is `$.Release`. */
function watchedTemplate(object: K8sObject): string {
  const text = stringify(object, { lineWidth: 0 })
    .replaceAll(INSTALL.namespace, "{{ $.Release.Namespace }}")
    .replace(`namespace: ${WATCHED}`, "namespace: {{ $namespace | quote }}");
  const conditions = togglesOf(object).filter((t) => t.kinds.includes("RoleBinding"));
  const body = `{{- range $namespace := .Values.watchNamespaces }}\n---\n${text}{{- end }}\n`;
  return conditions.length
    ? `{{- if ${conditions.map((t) => t.condition).join(" ")} }}\n${body}{{- end }}\n`
    : body;
}

/** A template expression as a quoted YAML string (its output is a string whatever it looks like). */
function quoted(expression: string): string {
  return `"${expression.replaceAll('"', '\\"')}"`;
}

function stepInto(node: unknown, step: Step): unknown {
  if (typeof step === "object") {
    return (node as { name?: string }[] | undefined)?.find((item) => item.name === step.name);
  }
  return (node as Record<string | number, unknown> | undefined)?.[step];
}

function read(object: unknown, path: readonly Step[]): unknown {
  const found = path.reduce(stepInto, object);
  if (found === undefined) throw new Error(`nothing at ${JSON.stringify(path)}`);
  return found;
}

function write(object: unknown, path: readonly Step[], value: unknown): void {
  const last = path.at(-1);
  const parent = read(object, path.slice(0, -1)) as Record<string | number, unknown>;
  if (last === undefined || typeof last === "object")
    throw new Error(`cannot write at ${JSON.stringify(path)}`);
  if (!(last in parent)) throw new Error(`nothing at ${JSON.stringify(path)}`);
  parent[last] = value;
}

function setPath(values: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = values;
  for (const key of keys.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1) as string] = value;
}
