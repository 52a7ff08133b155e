// A MutatingAdmissionPolicy that gives every new ProviderConnection the operator's finalizer as it is created.
// Without it the operator's first act on a connection is a write of its own (a metadata patch: a whole update for
// the API server, an echo to every watcher), before the app write that the finalizer must precede; with it that
// write never happens and a created connection costs the API server one write (its status) instead of two. The
// operator still adds the finalizer to any connection that lacks it (a cluster without the policy, objects made
// before it), so the policy is an optimisation and never a dependency.
import { ApiObject } from "cdk8s";
import { Construct } from "constructs";
import { GROUP } from "../crds/index.ts";
import { FINALIZER } from "../operator/constants.ts";
import { INSTALL } from "./names.ts";

/** Where the cluster serves MutatingAdmissionPolicy: v1 from Kubernetes 1.36; v1beta1 in 1.34–1.35, when enabled. */
export type FinalizerPolicyVersion = "v1" | "v1beta1";

/** Props of {@link ConnectionFinalizerPolicy}. */
export interface ConnectionFinalizerPolicyProps {
  /** @default "v1" */
  readonly apiVersion?: FinalizerPolicyVersion;
  /**
   * The namespaces the operator watches: the policy applies there only (a finalizer in a namespace no operator
   * watches would never be removed, and would hold every deletion there).
   * @default every namespace
   */
  readonly watchNamespaces?: readonly string[];
}

/** The CEL that decides: a create whose object does not list the finalizer yet. */
const LACKS_FINALIZER = `!has(object.metadata.finalizers) || !object.metadata.finalizers.exists(f, f == "${FINALIZER}")`;

/**
 * Appends the finalizer to the list, or makes the list. JSON Patch, not an apply configuration: the list is
 * written exactly as the operator would write it (the others kept, in order, ours last).
 */
const ADD_FINALIZER = [
  "has(object.metadata.finalizers)",
  `  ? [JSONPatch{op: "add", path: "/metadata/finalizers/-", value: "${FINALIZER}"}]`,
  `  : [JSONPatch{op: "add", path: "/metadata/finalizers", value: ["${FINALIZER}"]}]`,
].join("\n");

/**
 * The policy `modelkeys-connection-finalizer` and its binding. Only creates are changed (the operator removes the
 * finalizer with an update, which the policy never sees), and a failing policy lets the create through without it
 * (failurePolicy Ignore: the operator then adds it as it always has).
 */
export class ConnectionFinalizerPolicy extends Construct {
  constructor(scope: Construct, id: string, props: ConnectionFinalizerPolicyProps = {}) {
    super(scope, id);
    const apiVersion = `admissionregistration.k8s.io/${props.apiVersion ?? "v1"}`;
    new ApiObject(this, "policy", {
      apiVersion,
      kind: "MutatingAdmissionPolicy",
      metadata: { name: INSTALL.finalizerPolicy },
      spec: {
        failurePolicy: "Ignore",
        reinvocationPolicy: "Never",
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: [GROUP],
              apiVersions: ["*"],
              operations: ["CREATE"],
              resources: ["providerconnections"],
            },
          ],
        },
        matchConditions: [{ name: "lacks-the-finalizer", expression: LACKS_FINALIZER }],
        mutations: [{ patchType: "JSONPatch", jsonPatch: { expression: ADD_FINALIZER } }],
      },
    });
    const namespaces = props.watchNamespaces;
    new ApiObject(this, "binding", {
      apiVersion,
      kind: "MutatingAdmissionPolicyBinding",
      metadata: { name: INSTALL.finalizerPolicy },
      spec: {
        policyName: INSTALL.finalizerPolicy,
        ...(namespaces?.length
          ? {
              matchResources: {
                namespaceSelector: {
                  matchExpressions: [
                    { key: "kubernetes.io/metadata.name", operator: "In", values: [...namespaces] },
                  ],
                },
              },
            }
          : {}),
      },
    });
  }
}
