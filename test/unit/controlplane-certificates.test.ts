// The local control plane's PKI: certificates chain to the CA, and client certificates carry the identity the
// API server's x509 authenticator reads (CN = user, O = groups).
import { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { type ControlPlanePki, generatePki } from "../../local/controlplane/certificates.ts";
import { OPERATOR_IDENTITY } from "../../local/controlplane/controlplane.ts";

let pki: ControlPlanePki;
let ca: X509Certificate;

beforeAll(async () => {
  pki = await generatePki();
  ca = new X509Certificate(pki.ca.certPem);
});

describe("generatePki", () => {
  it("makes a CA that signs the serving certificate for 127.0.0.1 and localhost", () => {
    const serving = new X509Certificate(pki.serving.certPem);
    expect(ca.ca).toBe(true);
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(serving.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(serving.checkHost("localhost")).toBe("localhost");
    expect(serving.keyUsage).toContain("1.3.6.1.5.5.7.3.1"); // serverAuth
  });

  it("issues the operator's client certificate as its ServiceAccount user and groups", async () => {
    const client = new X509Certificate((await pki.issueClient(OPERATOR_IDENTITY)).certPem);
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(client.ca).toBe(false);
    expect(client.keyUsage).toContain("1.3.6.1.5.5.7.3.2"); // clientAuth
    const subject = client.subject.split("\n");
    expect(subject).toContain(`CN=${OPERATOR_IDENTITY.user}`);
    for (const group of OPERATOR_IDENTITY.groups) expect(subject).toContain(`O=${group}`);
  });

  it("exports the ServiceAccount signing key pair as PEM", () => {
    expect(pki.serviceAccount.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(pki.serviceAccount.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });
});
