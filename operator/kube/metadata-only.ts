// Asks the API server for objects' metadata only (PartialObjectMetadata), as client-go's metadata informers do:
// lists and watches of Secrets then carry names and resourceVersions, never data.
import type { KubeConfig, RequestContext } from "@kubernetes/client-node";

const LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
const WATCH = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

/**
 * A KubeConfig (sharing `kc`'s clusters, users and connections) whose every request asks for metadata only.
 * Only for lists and watches: a GET of one object through it returns its metadata, without data.
 */
export function metadataOnly(kc: KubeConfig): KubeConfig {
  const copy = Object.create(kc) as KubeConfig;
  copy.applySecurityAuthentication = async (context: RequestContext) => {
    await kc.applySecurityAuthentication.call(copy, context);
    const watch = new URL(context.getUrl()).searchParams.get("watch") === "true";
    context.setHeaderParam("Accept", watch ? WATCH : LIST);
  };
  return copy;
}
