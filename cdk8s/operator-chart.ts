// The namespaced half of the install: ServiceAccount, the Role for leader election and the catalogue
// ConfigMap, and the operator's workload, all in modelkeys-system.
import { Chart } from "cdk8s";
import { ServiceAccount } from "cdk8s-plus-27";
import type { Construct } from "constructs";
import { Monitoring, type MonitoringProps } from "./monitoring/monitoring.ts";
import { INSTALL } from "./names.ts";
import { OperatorNetworkPolicy, type OperatorNetworkPolicyProps } from "./network-policy.ts";
import { OperatorDeployment, type OperatorDeploymentProps } from "./operator-deployment.ts";
import { OperatorNamespaceRbac } from "./rbac.ts";

/** Props of {@link OperatorChart}: those of the Deployment, minus the ServiceAccount this chart makes. */
export type OperatorChartProps = Omit<OperatorDeploymentProps, "serviceAccount"> & {
  /**
   * ServiceMonitor, PrometheusRule and Grafana dashboard, each behind its toggle.
   * @default all off (the first two need the Prometheus operator's CRDs)
   */
  readonly monitoring?: MonitoringProps;
  /**
   * A NetworkPolicy for the operator's pods (true for the default one).
   * @default false
   */
  readonly networkPolicy?: boolean | OperatorNetworkPolicyProps;
};

/** Everything that lives in the operator's namespace. */
export class OperatorChart extends Chart {
  /** The operator's workload. */
  readonly operator: OperatorDeployment;

  constructor(scope: Construct, id: string, props: OperatorChartProps = {}) {
    super(scope, id, { namespace: INSTALL.namespace, disableResourceNameHashes: true });
    const serviceAccount = new ServiceAccount(this, "service-account", {
      metadata: { name: INSTALL.serviceAccount },
      // Only the operator's pods mount its token (the Deployment asks for it explicitly).
      automountToken: false,
    });
    new OperatorNamespaceRbac(this, "rbac", { azureProvisioning: props.azureProvisioning });
    const { monitoring, networkPolicy, ...deployment } = props;
    this.operator = new OperatorDeployment(this, "operator", { ...deployment, serviceAccount });
    if (monitoring) new Monitoring(this, "monitoring", monitoring);
    if (networkPolicy) {
      new OperatorNetworkPolicy(this, "network-policy", networkPolicy === true ? {} : networkPolicy);
    }
  }
}
