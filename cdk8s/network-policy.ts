// An optional NetworkPolicy for the operator's pods: inbound only to the metrics and probe ports; outbound
// open, because the API server, the Label Studio app and the model providers are wherever the user runs them.
import * as kplus from "cdk8s-plus-27";
import { Construct } from "constructs";
import { INSTALL } from "./names.ts";
import { OPERATOR_LABELS } from "./operator-deployment.ts";

/** Props of {@link OperatorNetworkPolicy}. */
export interface OperatorNetworkPolicyProps {
  /**
   * Who may scrape /metrics (NetworkPolicy peers); empty lets any pod or address in.
   * @default [] (anyone)
   */
  readonly metricsFrom?: readonly kplus.k8s.NetworkPolicyPeer[];
}

/**
 * Selects the operator's pods. Ingress: the metrics port (from `metricsFrom`) and the health port (the kubelet's
 * probes) only; the operator serves nothing else. Egress: allowed, to reach the API server, the app and the providers
 * (the operator's own `--egress-allow` narrows which hosts a provider check may call).
 */
export class OperatorNetworkPolicy extends Construct {
  constructor(scope: Construct, id: string, props: OperatorNetworkPolicyProps = {}) {
    super(scope, id);
    const tcp = (port: number) => ({ protocol: "TCP", port: kplus.k8s.IntOrString.fromNumber(port) });
    const from = props.metricsFrom && props.metricsFrom.length > 0 ? { from: [...props.metricsFrom] } : {};
    new kplus.k8s.KubeNetworkPolicy(this, "policy", {
      metadata: { name: INSTALL.serviceAccount, labels: OPERATOR_LABELS },
      spec: {
        podSelector: { matchLabels: OPERATOR_LABELS },
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ ports: [tcp(INSTALL.metricsPort)], ...from }, { ports: [tcp(INSTALL.healthPort)] }],
        egress: [{}],
      },
    });
  }
}
