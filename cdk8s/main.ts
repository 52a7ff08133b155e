// `npm run synth`: writes dist/install.yaml from the cdk8s charts.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { INSTALL_YAML, installManifest } from "./install.ts";

mkdirSync(dirname(INSTALL_YAML), { recursive: true });
writeFileSync(INSTALL_YAML, installManifest());
console.log(`wrote ${INSTALL_YAML}`);
