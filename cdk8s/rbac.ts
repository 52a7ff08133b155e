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

const KINDS = ["providerconnections", "organizations", "azureopenaiaccounts"];

/**
 * The operator's rules where it watches: ProviderConnections, Organizations, AzureOpenAIAccounts and the Secrets
 * they reference.
 * Bound cluster-wide (all namespaces) or by a RoleBinding in each watched namespace. No create or delete of our
 * kinds (users own them), no pods, nodes or RBAC objects, no Secret create, update or delete (see PROVISIONING_RULES).
 */
export const OPERATOR_CLUSTER_RULES: readonly ExplainedRule[] = [
  {
    why: "Informers cache ProviderConnections, Organizations and AzureOpenAIAccounts of every watched namespace (list + watch; get for a fresh read before a delete).",
    rule: { apiGroups: [GROUP], resources: KINDS, verbs: ["get", "list", "watch"] },
  },
  {
    why: "Adds and removes the finalizers modelkeys.dev/app-connection (connections), modelkeys.dev/connections (an Organization waits for its connections) and the Azure account's in metadata.finalizers: a merge patch guarded by resourceVersion (update grants nothing patch does not). Never create or delete: users own these objects.",
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
    why: "The Secrets that Azure provisioning owns name their connection or AzureOpenAIAccount with blockOwnerDeletion; the OwnerReferencesPermissionEnforcement admission plugin (on in OpenShift) allows that only with update on the owner's finalizers subresource. Finalizers themselves are written by patching the object (rule above).",
    rule: {
      apiGroups: [GROUP],
      resources: ["providerconnections/finalizers", "azureopenaiaccounts/finalizers"],
      verbs: ["update"],
    },
  },
  {
    why: "Reads the Secrets that connections and organizations reference (API keys, tokens, CA bundles, Azure credentials, the Pulumi passphrase). It lists and watches them once, as metadata only (PartialObjectMetadata: names and resourceVersions, never values), and reads a value by name when a reconcile needs it; RBAC cannot name Secrets that users create later, so the verbs cover every Secret where the role is bound.",
    rule: { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] },
  },
  {
    why: "Adds and removes the finalizer modelkeys.dev/organization-token on an Organization's token Secret (a merge patch of metadata.finalizers), so the token outlives the connections that need it to clean up the app. RBAC cannot name Secrets users create later; no create, update or delete here.",
    rule: { apiGroups: [""], resources: ["secrets"], verbs: ["patch"] },
  },
  {
    why: "Records Events (created, synced, CredentialRotated, deleted, errors) on connections and organizations in their namespaces, through the core v1 API. Patch: a repeat of the same Event moves the count and lastTimestamp of the one already recorded instead of making another (as client-go's recorder does).",
    rule: { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
  },
];

/**
 * Only with Azure provisioning on: a ClusterRole of its own, so an install without provisioning has no Secret
 * create, update or delete anywhere. Bound like the operator's ClusterRole (cluster-wide, or per watched namespace).
 */
export const PROVISIONING_RULES: readonly ExplainedRule[] = [
  {
    why: "Azure provisioning writes the Secrets it owns: the account's key Secret (endpoint and key, rewritten on key rotation) and each stack's Pulumi checkpoint in the account's namespace (encrypted secrets inside), deleted with their owner. Create cannot be limited to a name.",
    rule: { apiGroups: [""], resources: ["secrets"], verbs: ["create", "update", "delete"] },
  },
  {
    why: "Keeps each Pulumi stack's state in a Secret (type modelkeys.dev/pulumi-state, covered by the rule above) and locks it with a Lease of the same name in the account's namespace while an update runs: create, read, renew, take over after expiry, and delete on release.",
    rule: {
      apiGroups: ["coordination.k8s.io"],
      resources: ["leases"],
      verbs: ["get", "create", "update", "delete"],
    },
  },
];

/** Only with Azure provisioning on, in the operator's own namespace. */
export const PROVISIONING_NAMESPACE_RULES: readonly ExplainedRule[] = [
  {
    why: `Reads the Pulumi passphrase, the one Secret ${INSTALL.pulumiPassphraseSecret} in the operator's namespace, when it provisions (needed when the operator does not watch its own namespace).`,
    rule: {
      apiGroups: [""],
      resources: ["secrets"],
      resourceNames: [INSTALL.pulumiPassphraseSecret],
      verbs: ["get"],
    },
  },
  {
    why: `Creates the Pulumi passphrase Secret ${INSTALL.pulumiPassphraseSecret} once, with 32 random bytes, when it does not exist (never updates it); create cannot be limited to a name.`,
    rule: { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
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
    why: `Watches the model catalogue override, the one ConfigMap ${INSTALL.catalogueConfigMap} (list and watch with fieldSelector metadata.name), so an edit applies without a restart and a model check reads nothing.`,
    rule: {
      apiGroups: [""],
      resources: ["configmaps"],
      resourceNames: [INSTALL.catalogueConfigMap],
      verbs: ["list", "watch"],
    },
  },
];

/** Aggregated into the built-in view, edit and admin roles, so namespace users can read our kinds. */
export const VIEW_RULES: readonly ExplainedRule[] = [
  {
    why: "Users with the built-in view, edit or admin role can read connections, organizations and Azure OpenAI accounts.",
    rule: { apiGroups: [GROUP], resources: KINDS, verbs: ["get", "list", "watch"] },
  },
];

/** Aggregated into the built-in edit and admin roles, so namespace users can manage our kinds. */
export const EDIT_RULES: readonly ExplainedRule[] = [
  {
    why: "Users with the built-in edit or admin role can manage connections, organizations and Azure OpenAI accounts (not their status).",
    rule: {
      apiGroups: [GROUP],
      resources: KINDS,
      verbs: ["create", "update", "patch", "delete", "deletecollection"],
    },
  },
];

/** The ClusterRole with {@link PROVISIONING_RULES}, and the Role with {@link PROVISIONING_NAMESPACE_RULES}. */
export const PROVISIONING_ROLE = `${INSTALL.clusterRole}-provisioning`;

/** The roles an install can ship, keyed "Kind/name" (ClusterRole) or "Kind/namespace/name" (Role). */
export const EXPLAINED_ROLES: Readonly<Record<string, readonly ExplainedRule[]>> = {
  [`ClusterRole/${INSTALL.clusterRole}`]: OPERATOR_CLUSTER_RULES,
  [`ClusterRole/${PROVISIONING_ROLE}`]: PROVISIONING_RULES,
  [`Role/${INSTALL.namespace}/${INSTALL.serviceAccount}`]: OPERATOR_NAMESPACE_RULES,
  [`Role/${INSTALL.namespace}/${PROVISIONING_ROLE}`]: PROVISIONING_NAMESPACE_RULES,
  "ClusterRole/modelkeys-view": VIEW_RULES,
  "ClusterRole/modelkeys-edit": EDIT_RULES,
};

/** Where the operator's RBAC applies and whether it may write Secrets: the install's least-privilege mode. */
export interface RbacModeProps {
  /**
   * Watch only these namespaces: the operator's ClusterRoles are then bound by a RoleBinding in each of them
   * (a RoleBinding to a ClusterRole grants its rules in that namespace only), never cluster-wide. The namespaces
   * must exist before the install is applied.
   * @default all namespaces (ClusterRoleBindings)
   */
  readonly watchNamespaces?: readonly string[];
  /**
   * Azure provisioning; off, the install has no Secret create, update or delete verbs anywhere (patch stays,
   * for the Organization token's finalizer) and the operator refuses `azure.provision` with ProvisionFailed.
   * @default true
   */
  readonly azureProvisioning?: boolean;
}

const rules = (explained: readonly ExplainedRule[]) => explained.map((entry) => entry.rule);

/** Props of {@link OperatorClusterRbac}. */
export interface OperatorClusterRbacProps extends RbacModeProps {
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
    const roles: string[] = [INSTALL.clusterRole];
    new k8s.KubeClusterRole(this, "role", {
      metadata: { name: INSTALL.clusterRole },
      rules: rules(OPERATOR_CLUSTER_RULES),
    });
    if (props.azureProvisioning ?? true) {
      roles.push(PROVISIONING_ROLE);
      new k8s.KubeClusterRole(this, "provisioning", {
        metadata: { name: PROVISIONING_ROLE },
        rules: rules(PROVISIONING_RULES),
      });
    }
    const subjects = [{ kind: "ServiceAccount", name: INSTALL.serviceAccount, namespace: INSTALL.namespace }];
    for (const role of roles) {
      const roleRef = { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role };
      if (props.watchNamespaces === undefined) {
        new k8s.KubeClusterRoleBinding(this, `binding-${role}`, {
          metadata: { name: role },
          roleRef,
          subjects,
        });
        continue;
      }
      for (const namespace of props.watchNamespaces) {
        new k8s.KubeRoleBinding(this, `binding-${role}-${namespace}`, {
          metadata: { name: role, namespace },
          roleRef,
          subjects,
        });
      }
    }
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

/** Props of {@link OperatorNamespaceRbac}. */
export interface OperatorNamespaceRbacProps {
  /**
   * Also the Role reading the Pulumi passphrase Secret.
   * @default true
   */
  readonly azureProvisioning?: boolean;
}

/** The operator's Roles and RoleBindings in its own namespace (leader election, catalogue, Pulumi passphrase). */
export class OperatorNamespaceRbac extends Construct {
  constructor(scope: Construct, id: string, props: OperatorNamespaceRbacProps = {}) {
    super(scope, id);
    this.role("", INSTALL.serviceAccount, OPERATOR_NAMESPACE_RULES);
    if (props.azureProvisioning ?? true)
      this.role("provisioning-", PROVISIONING_ROLE, PROVISIONING_NAMESPACE_RULES);
  }

  private role(prefix: string, name: string, explained: readonly ExplainedRule[]): void {
    const role = new k8s.KubeRole(this, `${prefix}role`, {
      metadata: { name, namespace: INSTALL.namespace },
      rules: rules(explained),
    });
    const binding = new k8s.KubeRoleBinding(this, `${prefix}binding`, {
      metadata: { name, namespace: INSTALL.namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name: INSTALL.serviceAccount, namespace: INSTALL.namespace }],
    });
    ApiObject.of(binding).addDependency(role);
  }
}
