// The operator's least-privilege RBAC as data: every rule carries the reason it exists, printed as a
// comment above the rule in dist/install.yaml; plus the roles that let users manage modelkeys objects.
import { ApiObject } from "cdk8s";
import { k8s } from "cdk8s-plus-27";
import { Construct } from "constructs";
import { GROUP } from "../crds/common.ts";
import { INSTALL } from "./names.ts";

/** One RBAC rule and why the operator needs it; `why` becomes the rule's comment in the YAML. */
export interface ExplainedRule {
  readonly why: string;
  readonly rule: k8s.PolicyRule;
}

const KINDS = ["providerconnections", "organizations"];

/**
 * Cluster-wide rules: ProviderConnections, Organizations and the Secrets they reference live in any
 * namespace. No create or delete of our kinds (users own them), no pods, nodes or RBAC objects.
 */
export const OPERATOR_CLUSTER_RULES: readonly ExplainedRule[] = [
  {
    why: "Informers cache ProviderConnections and Organizations of every namespace (list + watch; get for a fresh read before a delete).",
    rule: { apiGroups: [GROUP], resources: KINDS, verbs: ["get", "list", "watch"] },
  },
  {
    why: "Adds and removes the finalizer modelkeys.dev/app-connection in metadata.finalizers: a merge patch guarded by resourceVersion (update grants nothing patch does not). Never create or delete: users own these objects.",
    rule: { apiGroups: [GROUP], resources: KINDS, verbs: ["patch", "update"] },
  },
  {
    why: "Status is a subresource: one write per change (observedGeneration, conditions, fingerprint, models).",
    rule: {
      apiGroups: [GROUP],
      resources: KINDS.map((kind) => `${kind}/status`),
      verbs: ["patch", "update"],
    },
  },
  {
    why: "The Secret that Azure provisioning owns names its connection with blockOwnerDeletion; the OwnerReferencesPermissionEnforcement admission plugin (on in OpenShift) allows that only with update on the owner's finalizers subresource. Finalizers themselves are written by patching the connection (rule above).",
    rule: { apiGroups: [GROUP], resources: ["providerconnections/finalizers"], verbs: ["update"] },
  },
  {
    why: "Reads the Secrets that connections and organizations reference (API keys, tokens, CA bundles, Azure credentials, the Pulumi passphrase). It lists and watches them once, as metadata only (PartialObjectMetadata: names and resourceVersions, never values), and reads a value by name when a reconcile needs it; RBAC cannot name Secrets that users create later, so the verbs are cluster-wide.",
    rule: { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] },
  },
  {
    why: "Azure provisioning writes a Secret it owns (ownerReference to the connection) holding the endpoint and key, rewrites it on key rotation, and deletes it with the connection.",
    rule: { apiGroups: [""], resources: ["secrets"], verbs: ["create", "patch", "update", "delete"] },
  },
  {
    why: "Records Events (created, synced, CredentialRotated, deleted, errors) on connections and organizations in their namespaces, through the core v1 API. Patch: a repeat of the same Event moves the count and lastTimestamp of the one already recorded instead of making another (as client-go's recorder does).",
    rule: { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
  },
];

/** Rules in the operator's own namespace only. */
export const OPERATOR_NAMESPACE_RULES: readonly ExplainedRule[] = [
  {
    why: "Leader election: the first replica creates the Lease (create cannot be limited to a name).",
    rule: { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
  },
  {
    why: `Leader election: read, renew, take over and release (on SIGTERM) the one Lease ${INSTALL.leaseName}.`,
    rule: {
      apiGroups: ["coordination.k8s.io"],
      resources: ["leases"],
      resourceNames: [INSTALL.leaseName],
      verbs: ["get", "update"],
    },
  },
  {
    why: `Reads the model catalogue override, the one ConfigMap ${INSTALL.catalogueConfigMap}, by name (get) or through a watch with fieldSelector metadata.name, so an edit applies without a restart.`,
    rule: {
      apiGroups: [""],
      resources: ["configmaps"],
      resourceNames: [INSTALL.catalogueConfigMap],
      verbs: ["get", "list", "watch"],
    },
  },
];

/** Aggregated into the built-in view, edit and admin roles, so namespace users can read our kinds. */
export const VIEW_RULES: readonly ExplainedRule[] = [
  {
    why: "Users with the built-in view, edit or admin role can read connections and organizations.",
    rule: { apiGroups: [GROUP], resources: KINDS, verbs: ["get", "list", "watch"] },
  },
];

/** Aggregated into the built-in edit and admin roles, so namespace users can manage our kinds. */
export const EDIT_RULES: readonly ExplainedRule[] = [
  {
    why: "Users with the built-in edit or admin role can manage connections and organizations (not their status).",
    rule: {
      apiGroups: [GROUP],
      resources: KINDS,
      verbs: ["create", "update", "patch", "delete", "deletecollection"],
    },
  },
];

/** The roles this install ships, keyed "Kind/name" (ClusterRole) or "Kind/namespace/name" (Role). */
export const EXPLAINED_ROLES: Readonly<Record<string, readonly ExplainedRule[]>> = {
  [`ClusterRole/${INSTALL.clusterRole}`]: OPERATOR_CLUSTER_RULES,
  [`Role/${INSTALL.namespace}/${INSTALL.serviceAccount}`]: OPERATOR_NAMESPACE_RULES,
  "ClusterRole/modelkeys-view": VIEW_RULES,
  "ClusterRole/modelkeys-edit": EDIT_RULES,
};

const rules = (explained: readonly ExplainedRule[]) => explained.map((entry) => entry.rule);

/** Props of {@link OperatorClusterRbac}. */
export interface OperatorClusterRbacProps {
  /**
   * Also install modelkeys-view and modelkeys-edit, aggregated into the built-in view/edit/admin roles.
   * @default true
   */
  readonly userRoles?: boolean;
}

/** The operator's ClusterRole and its binding to the ServiceAccount; belongs in a chart without a namespace. */
export class OperatorClusterRbac extends Construct {
  constructor(scope: Construct, id: string, props: OperatorClusterRbacProps = {}) {
    super(scope, id);
    new k8s.KubeClusterRole(this, "role", {
      metadata: { name: INSTALL.clusterRole },
      rules: rules(OPERATOR_CLUSTER_RULES),
    });
    new k8s.KubeClusterRoleBinding(this, "binding", {
      metadata: { name: INSTALL.clusterRole },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: INSTALL.clusterRole },
      subjects: [{ kind: "ServiceAccount", name: INSTALL.serviceAccount, namespace: INSTALL.namespace }],
    });
    if (props.userRoles ?? true) {
      new k8s.KubeClusterRole(this, "view", {
        metadata: {
          name: "modelkeys-view",
          labels: {
            "rbac.authorization.k8s.io/aggregate-to-view": "true",
            "rbac.authorization.k8s.io/aggregate-to-edit": "true",
            "rbac.authorization.k8s.io/aggregate-to-admin": "true",
          },
        },
        rules: rules(VIEW_RULES),
      });
      new k8s.KubeClusterRole(this, "edit", {
        metadata: {
          name: "modelkeys-edit",
          labels: {
            "rbac.authorization.k8s.io/aggregate-to-edit": "true",
            "rbac.authorization.k8s.io/aggregate-to-admin": "true",
          },
        },
        rules: rules(EDIT_RULES),
      });
    }
  }
}

/** The operator's Role and RoleBinding in its own namespace (leader election, catalogue ConfigMap). */
export class OperatorNamespaceRbac extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const role = new k8s.KubeRole(this, "role", {
      metadata: { name: INSTALL.serviceAccount, namespace: INSTALL.namespace },
      rules: rules(OPERATOR_NAMESPACE_RULES),
    });
    const binding = new k8s.KubeRoleBinding(this, "binding", {
      metadata: { name: INSTALL.serviceAccount, namespace: INSTALL.namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: INSTALL.serviceAccount },
      subjects: [{ kind: "ServiceAccount", name: INSTALL.serviceAccount, namespace: INSTALL.namespace }],
    });
    ApiObject.of(binding).addDependency(role);
  }
}
