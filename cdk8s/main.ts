// `npm run synth`: writes dist/install.yaml from the cdk8s charts.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import {
  DASHBOARD_JSON,
  dashboardJson,
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
