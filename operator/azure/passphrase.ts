// The passphrase that encrypts the stacks' secrets: read from its Secret, and made once (32 random bytes)
// when the state is kept in Kubernetes and the Secret does not exist yet. Never overwritten.
import { randomBytes } from "node:crypto";

/** namespace/name/key of the passphrase Secret (--pulumi-passphrase-secret). */
export interface PassphraseRef {
  namespace: string;
  name: string;
  key: string;
}

/** The Secret reads and the one create the passphrase needs; the Kubernetes adapter implements it. */
export interface PassphraseSecrets {
  /** The Secret's data, decoded; undefined when it does not exist. */
  read(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** Creates the Secret: "exists" when another process created it first, "forbidden" when RBAC refuses. */
  create(
    namespace: string,
    name: string,
    data: Record<string, string>,
  ): Promise<"created" | "exists" | "forbidden">;
}

/** The passphrase Secret (or its key) is missing and was not made; the message says how to make it. */
export class PassphraseMissingError extends Error {
  constructor(
    readonly secret: PassphraseRef,
    reason: string,
  ) {
    super(
      `Pulumi passphrase Secret ${secret.namespace}/${secret.name} ${reason}: create it, e.g. kubectl -n ${secret.namespace} create secret generic ${secret.name} --from-literal=${secret.key}="$(openssl rand -base64 32)"`,
    );
    this.name = "PassphraseMissingError";
  }
}

export interface EnsurePassphraseOptions {
  /** Create the Secret when it does not exist (only when state is kept in Kubernetes). */
  create: boolean;
  /** @default 32 bytes from node:crypto */
  random?: () => Buffer;
}

/**
 * The passphrase from its Secret; when the Secret does not exist and `create` is set, a new one of 32 random
 * bytes (base64) in a Secret without owner, so that it outlives the operator's uninstall like the state it
 * decrypts.
 *
 * Guarantees: an existing Secret is never written (a Secret without the key is an error, not a fill-in); of
 * two processes creating it at once one wins and both return its value; the value is never logged.
 */
export async function ensurePassphrase(
  ref: PassphraseRef,
  secrets: PassphraseSecrets,
  options: EnsurePassphraseOptions,
): Promise<string> {
  const data = await secrets.read(ref.namespace, ref.name);
  if (data) {
    const value = data[ref.key];
    if (!value) throw new PassphraseMissingError(ref, `has no key ${ref.key}`);
    return value;
  }
  if (!options.create) throw new PassphraseMissingError(ref, "not found");
  const passphrase = (options.random ?? (() => randomBytes(32)))().toString("base64");
  const created = await secrets.create(ref.namespace, ref.name, { [ref.key]: passphrase });
  if (created === "created") return passphrase;
  if (created === "forbidden") {
    throw new PassphraseMissingError(ref, "not found, and the operator may not create it");
  }
  return ensurePassphrase(ref, secrets, { ...options, create: false });
}
