// The release version: one number for the operator, its image tag, the install manifests, the Helm chart and
// the npm packages. Its one source is the root package.json ("version"); everything else reads it from here.
import manifest from "../package.json" with { type: "json" };

/** The release version (semver), e.g. "0.1.0". */
export const RELEASE_VERSION: string = manifest.version;

/** The operator image's repository; the tag is always {@link RELEASE_VERSION}. */
export const IMAGE_REPOSITORY = "ghcr.io/modelkeys/operator";

/** The operator image this release deploys. */
export const IMAGE = `${IMAGE_REPOSITORY}:${RELEASE_VERSION}`;
