import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ensureTlsMaterial, subjectAltName } from "./tls-material.ts";

const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8" });

describe("buildkitd TLS material", () => {
  it("names IPs and DNS names in the subjectAltName, once each", () => {
    expect(subjectAltName(["127.0.0.1", "localhost", "kiln-buildkitd", "127.0.0.1", "::1"])).toBe("IP:127.0.0.1,DNS:localhost,DNS:kiln-buildkitd,IP:::1");
  });

  it("makes a CA, a server certificate for the given hosts and a client certificate, both verified by the CA, keys private, and keeps them", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-tls-"));
    const dir = path.join(root, "certs");
    const m = await ensureTlsMaterial(dir, ["127.0.0.1", "localhost"], 30);
    expect(m.made).toBe(true);
    expect(openssl("verify", "-CAfile", m.ca, m.server.cert, m.client.cert)).toBe(`${m.server.cert}: OK\n${m.client.cert}: OK\n`);
    const server = openssl("x509", "-in", m.server.cert, "-noout", "-ext", "subjectAltName,extendedKeyUsage");
    expect(server).toContain("IP Address:127.0.0.1, DNS:localhost");
    expect(server).toContain("TLS Web Server Authentication");
    expect(openssl("x509", "-in", m.client.cert, "-noout", "-ext", "extendedKeyUsage")).toContain("TLS Web Client Authentication");
    expect((await fs.stat(m.client.key)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    // The CA key is gone: nothing else can be signed with it here.
    expect((await fs.readdir(dir)).sort()).toEqual(["ca.pem", "client", "server"]);
    const before = await fs.readFile(m.client.cert);
    const again = await ensureTlsMaterial(dir, ["127.0.0.1"]);
    expect(again.made).toBe(false);
    expect(await fs.readFile(again.client.cert)).toEqual(before);
    expect(await fs.readdir(root)).toEqual(["certs"]); // no temporary folder left
    await fs.rm(root, { recursive: true });
  });
});
