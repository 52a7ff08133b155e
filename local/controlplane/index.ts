// The local control plane's public surface: start/stop, the binaries, and kubectl helpers.
export {
  type ControlPlaneBinaries,
  type PinnedVersions,
  pinnedVersions,
  resolveBinaries,
} from "./binaries.ts";
export {
  ADMIN_IDENTITY,
  type ControlPlane,
  type ControlPlaneOptions,
  OPERATOR_IDENTITY,
  REPO_ROOT,
  type StopOptions,
  startControlPlane,
} from "./controlplane.ts";
export {
  type ApplyOptions,
  applyManifests,
  crdNames,
  type KubectlResult,
  runKubectl,
  waitForCrdsEstablished,
} from "./kubectl.ts";
