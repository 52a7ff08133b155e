// `npm run synth`: writes dist/install.yaml, the monitoring manifests, the finalizer policy and the Helm chart in dist/chart/modelkeys
// from the cdk8s charts.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CHART_DIR, helmChart } from "./helm-chart.ts";
import {
  DASHBOARD_JSON,
  dashboardJson,
  FINALIZER_POLICY_YAML,
  finalizerPolicyManifest,
  INSTALL_YAML,
  installManifest,
  MONITORING_YAML,
  monitoringManifest,
} from "./install.ts";

mkdirSync(dirname(INSTALL_YAML), { recursive: true });
writeFileSync(INSTALL_YAML, installManifest());
console.log(`wrote ${INSTALL_YAML}`);
writeFileSync(MONITORING_YAML, monitoringManifest());
console.log(`wrote ${MONITORING_YAML}`);
writeFileSync(DASHBOARD_JSON, dashboardJson());
console.log(`wrote ${DASHBOARD_JSON}`);
for (const [version, file] of Object.entries(FINALIZER_POLICY_YAML)) {
  writeFileSync(file, finalizerPolicyManifest(version as keyof typeof FINALIZER_POLICY_YAML));
  console.log(`wrote ${file}`);
}

rmSync(CHART_DIR, { recursive: true, force: true });
for (const [path, content] of Object.entries(helmChart())) {
  mkdirSync(dirname(join(CHART_DIR, path)), { recursive: true });
  writeFileSync(join(CHART_DIR, path), content);
}
console.log(`wrote ${CHART_DIR}`);
