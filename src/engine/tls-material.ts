/**
 * Mutual TLS material for a buildkitd kiln runs: a CA of its own, a server
 * certificate for the addresses clients use, a client certificate. Made once
 * with openssl and kept (clients configured with it keep working across
 * restarts); made in a temporary folder beside it and renamed into place, so a failure
 * leaves nothing half-written.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { run } from "../util/run.ts";
import { withTempDir } from "../util/temp.ts";

export interface TlsMaterial {
  dir: string;
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
}

/** Where each file of the material lives under `dir`. */
export function tlsMaterialAt(dir: string): TlsMaterial {
  return {
    dir,
    ca: path.join(dir, "ca.pem"),
    server: { cert: path.join(dir, "server", "cert.pem"), key: path.join(dir, "server", "key.pem") },
    client: { cert: path.join(dir, "client", "cert.pem"), key: path.join(dir, "client", "key.pem") },
  };
}

/** The subjectAltName of the server certificate: every address a client may dial. */
export function subjectAltName(hosts: readonly string[]): string {
  const isIp = (h: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || h.includes(":");
  return [...new Set(hosts)].map((h) => (isIp(h) ? `IP:${h}` : `DNS:${h}`)).join(",");
}

const exists = (p: string) =>
  fs.access(p).then(
    () => true,
    () => false,
  );

/**
 * The material in `dir`, made when missing. `hosts` are the names and IPs the
 * server certificate is valid for (127.0.0.1, localhost, the container's name).
 */
export async function ensureTlsMaterial(dir: string, hosts: readonly string[], days = 3650): Promise<TlsMaterial & { made: boolean }> {
  const at = tlsMaterialAt(dir);
  if (await exists(at.client.key)) return { ...at, made: false };
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await withTempDir(`${path.basename(dir)}-tls-`, async (tmp) => {
    const t = tlsMaterialAt(tmp);
    await fs.mkdir(path.dirname(t.server.key), { recursive: true });
    await fs.mkdir(path.dirname(t.client.key), { recursive: true });
    const openssl = (what: string, args: string[]) => run("openssl", args, { what: `making TLS material: ${what}`, hint: "openssl comes with `kiln engine setup`" });
    const ecKey = (file: string) => openssl(`key ${path.basename(path.dirname(file))}`, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file]);
    const caKey = path.join(tmp, "ca-key.pem");
    await ecKey(caKey);
    await openssl("CA certificate", ["req", "-x509", "-new", "-key", caKey, "-sha256", "-days", String(days), "-subj", "/CN=kiln buildkitd CA", "-out", t.ca]);
    const sign = async (which: "server" | "client", subject: string, ext: string) => {
      const csr = path.join(tmp, `${which}.csr`);
      const extFile = path.join(tmp, `${which}.ext`);
      await ecKey(t[which].key);
      await openssl(`${which} request`, ["req", "-new", "-key", t[which].key, "-subj", subject, "-out", csr]);
      await fs.writeFile(extFile, ext);
      await openssl(`${which} certificate`, ["x509", "-req", "-in", csr, "-CA", t.ca, "-CAkey", caKey, "-CAcreateserial", "-sha256", "-days", String(days), "-extfile", extFile, "-out", t[which].cert]);
      await fs.rm(csr);
      await fs.rm(extFile);
    };
    await sign("server", "/CN=buildkitd", `subjectAltName=${subjectAltName(hosts)}\nextendedKeyUsage=serverAuth\n`);
    await sign("client", "/CN=kiln", "extendedKeyUsage=clientAuth\n");
    // The CA key signs nothing else: dropping it means no one can mint more client certificates from here.
    await fs.rm(caKey);
    await fs.rm(path.join(tmp, "ca.srl"), { force: true });
    for (const key of [t.server.key, t.client.key]) await fs.chmod(key, 0o600);
    await fs.rename(tmp, dir);
  }, { parent: path.dirname(dir), mode: 0o700 });
  return { ...at, made: true };
}
