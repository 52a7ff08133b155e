// Asks the API server for objects' metadata only (PartialObjectMetadata), as client-go's metadata informers do:
// lists and watches of Secrets then carry names and resourceVersions, never data.
import type { KubeClient } from "./client.ts";

const LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
const WATCH = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

/**
 * A client (sharing `kc`'s identity and connections) whose every request asks for metadata only.
 * Only for lists and watches: a GET of one object through it returns its metadata, without data.
 */
export function metadataOnly(kc: KubeClient): KubeClient {
  return kc.withHeaders({ accept: LIST }, { accept: WATCH });
}
