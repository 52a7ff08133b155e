// The local control plane's PKI, generated in memory with WebCrypto: a CA, the API server's serving
// certificate, the service-account token signing key, and client certificates for each identity.
// x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API loaded first.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const VALIDITY_MS = 7 * 24 * 60 * 60 * 1000;
// Backdated so that small clock differences between processes never make a fresh certificate "not yet valid".
const BACKDATE_MS = 60 * 60 * 1000;

/** A certificate and its private key, both PEM-encoded. */
export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

/** A client identity as the API server's x509 authenticator reads it: CN is the user, each O a group. */
export interface ClientIdentity {
  user: string;
  groups: readonly string[];
}

/** Everything the API server and its clients need to trust each other. */
export interface ControlPlanePki {
  ca: KeyPairPem;
  serving: KeyPairPem;
  /** Signs and verifies ServiceAccount tokens. */
  serviceAccount: { privateKeyPem: string; publicKeyPem: string };
  /** Issues a client certificate for an identity, signed by the CA. */
  issueClient(identity: ClientIdentity): Promise<KeyPairPem>;
}

interface Authority {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

async function publicKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey("spki", key), "PUBLIC KEY");
}

function validity(): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + VALIDITY_MS) };
}

async function createAuthority(commonName: string): Promise<Authority> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    ...validity(),
    name: [{ CN: [commonName] }],
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function issue(
  authority: Authority,
  subject: x509.JsonName,
  usage: "server" | "client",
  altNames: x509.JsonGeneralNames = [],
): Promise<KeyPairPem> {
  const keys = await generateKeys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension([
      usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
    ]),
    await x509.AuthorityKeyIdentifierExtension.create(authority.keys.publicKey),
  ];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));
  const cert = await x509.X509CertificateGenerator.create({
    ...validity(),
    subject,
    issuer: authority.cert.subject,
    publicKey: keys.publicKey,
    signingKey: authority.keys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions,
  });
  return { certPem: cert.toString("pem"), keyPem: await privateKeyPem(keys.privateKey) };
}

/**
 * Generates a fresh PKI for one control plane run. Keys are ECDSA P-256 (fast to generate, accepted by
 * etcd-less TLS, kube-apiserver and kubectl alike); certificates are valid for a week.
 */
export async function generatePki(): Promise<ControlPlanePki> {
  const authority = await createAuthority("modelkeys-local-ca");
  const serving = await issue(authority, [{ CN: ["kube-apiserver"] }], "server", [
    { type: "ip", value: "127.0.0.1" },
    { type: "dns", value: "localhost" },
  ]);
  const saKeys = await generateKeys();
  return {
    ca: { certPem: authority.cert.toString("pem"), keyPem: await privateKeyPem(authority.keys.privateKey) },
    serving,
    serviceAccount: {
      privateKeyPem: await privateKeyPem(saKeys.privateKey),
      publicKeyPem: await publicKeyPem(saKeys.publicKey),
    },
    issueClient: (identity) =>
      issue(
        authority,
        [{ CN: [identity.user] }, ...identity.groups.map((group) => ({ O: [group] }))],
        "client",
      ),
  };
}
