// The control plane's temporary work directory (PKI files, etcd data, logs), and the removal of ones left
// behind by runs that were killed before they could clean up.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ControlPlanePki } from "./certificates.ts";

const WORK_DIR_PREFIX = "modelkeys-controlplane-";
const OWNER_FILE = "owner.pid";

/** Creates a fresh work dir in the OS temp dir, recording this process as its owner. */
export async function createWorkDir(): Promise<string> {
  await removeAbandonedWorkDirs();
  const dir = await mkdtemp(join(tmpdir(), WORK_DIR_PREFIX));
  await writeFile(join(dir, OWNER_FILE), String(process.pid));
  return dir;
}

/** Where {@link writePki} put each PEM file. */
export interface PkiFiles {
  caCert: string;
  servingCert: string;
  servingKey: string;
  saPublicKey: string;
  saPrivateKey: string;
}

/** Writes the API server's PEM files (mode 0600) into `dir`. */
export async function writePki(dir: string, pki: ControlPlanePki): Promise<PkiFiles> {
  const files: PkiFiles = {
    caCert: join(dir, "ca.crt"),
    servingCert: join(dir, "apiserver.crt"),
    servingKey: join(dir, "apiserver.key"),
    saPublicKey: join(dir, "sa.pub"),
    saPrivateKey: join(dir, "sa.key"),
  };
  const contents: Record<keyof PkiFiles, string> = {
    caCert: pki.ca.certPem,
    servingCert: pki.serving.certPem,
    servingKey: pki.serving.keyPem,
    saPublicKey: pki.serviceAccount.publicKeyPem,
    saPrivateKey: pki.serviceAccount.privateKeyPem,
  };
  await Promise.all(
    (Object.keys(files) as Array<keyof PkiFiles>).map((key) =>
      writeFile(files[key], contents[key], { mode: 0o600 }),
    ),
  );
  return files;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

// A run whose Node.js process was killed outright cannot remove its temp dir (its servers die with it, see
// processes.ts); the next start does, once the recorded owner is gone.
async function removeAbandonedWorkDirs(): Promise<void> {
  const entries = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const entry of entries.filter((name) => name.startsWith(WORK_DIR_PREFIX))) {
    const dir = join(tmpdir(), entry);
    const owner = Number.parseInt(await readFile(join(dir, OWNER_FILE), "utf8").catch(() => ""), 10);
    if (Number.isInteger(owner) && owner > 0 && !alive(owner))
      await rm(dir, { recursive: true, force: true });
  }
}
