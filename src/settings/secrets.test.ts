import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SITE_SECRET_IDS } from "../definition/schema.ts";
import { KilnError } from "../errors.ts";
import { settingsSchema, type Settings, type SettingsInput } from "./schema.ts";
import { renderSecrets, sweepDeadSecrets, withSecretsDir } from "./secrets.ts";

let dir: string;
const INLINE_CA = "-----BEGIN CERTIFICATE-----\nMIIBinlineCA\n-----END CERTIFICATE-----";
const CLIENT_PEM = "-----BEGIN CERTIFICATE-----\nMIIBclient\n-----END CERTIFICATE-----\n";
const CLIENT_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEkey\n-----END PRIVATE KEY-----\n";
const KEYRING = Buffer.from([0x99, 0x01, 0x0d, 0x04, 0x00, 0xff, 0x10]);

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-secrets-test-"));
  await fs.writeFile(path.join(dir, "client.pem"), CLIENT_PEM);
  await fs.writeFile(path.join(dir, "client.key"), CLIENT_KEY);
  await fs.writeFile(path.join(dir, "keyring.gpg"), KEYRING);
  await fs.writeFile(path.join(dir, "token.txt"), "tok-123\n");
  await fs.writeFile(path.join(dir, "my-apt.conf"), "APT::Get::Assume-Yes true;\n");
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function settings(input: SettingsInput): Settings {
  return settingsSchema.parse(input);
}

function full(): Settings {
  return settings({
    ca: INLINE_CA,
    clientCert: path.join(dir, "client.pem"),
    clientKey: path.join(dir, "client.key"),
    keyring: path.join(dir, "keyring.gpg"),
    credentials: { "reg.example.com": { username: "builder", password: "s3cret" }, "deb.lan": { username: "apt", password: "t0ken" } },
    apt: { proxy: "http://proxy.lan:3142", userAgent: "kiln (home lab)", checkValidUntil: false },
    curl: { proxy: "http://proxy.lan:3128", userAgent: 'kiln "lab"' },
    go: { proxy: "http://goproxy.lan:3000,direct" },
    secrets: { "gh.token": path.join(dir, "token.txt") },
  });
}

describe("renderSecrets", () => {
  it("renders every site secret for a full settings example", () => {
    const out = renderSecrets(full(), [...SITE_SECRET_IDS, "gh.token"]);
    expect(Object.keys(out)).toEqual(["apt.conf", "ca.pem", "client.key", "client.pem", "curlrc", "gh.token", "goproxy", "keyring.gpg", "netrc"]);
    expect(out["apt.conf"]).toBe(
      [
        "// kiln site settings for apt: a build secret, never stored in an image",
        'Acquire::http::Proxy "http://proxy.lan:3142";',
        'Acquire::https::Proxy "http://proxy.lan:3142";',
        'Acquire::http::User-Agent "kiln (home lab)";',
        'Acquire::https::User-Agent "kiln (home lab)";',
        'Acquire::https::CaInfo "/run/secrets/ca.pem";',
        'Acquire::https::SslCert "/run/secrets/client.pem";',
        'Acquire::https::SslKey "/run/secrets/client.key";',
        'Dir::Etc::netrc "/run/secrets/netrc";',
        'Acquire::Check-Valid-Until "false";',
        "",
      ].join("\n"),
    );
    expect(out["curlrc"]).toBe(
      [
        "# kiln site settings for curl (curl -K /run/secrets/curlrc): a build secret, never stored in an image",
        'proxy = "http://proxy.lan:3128"',
        'user-agent = "kiln \\"lab\\""',
        'cacert = "/run/secrets/ca.pem"',
        'cert = "/run/secrets/client.pem"',
        'key = "/run/secrets/client.key"',
        "netrc-optional",
        'netrc-file = "/run/secrets/netrc"',
        "",
      ].join("\n"),
    );
    expect(out["netrc"]).toBe("machine deb.lan\nlogin apt\npassword t0ken\nmachine reg.example.com\nlogin builder\npassword s3cret\n");
    expect(out["ca.pem"]).toBe(INLINE_CA + "\n");
    expect(out["client.pem"]?.toString()).toBe(CLIENT_PEM);
    expect(out["client.key"]?.toString()).toBe(CLIENT_KEY);
    expect(Buffer.compare(out["keyring.gpg"] as Buffer, KEYRING)).toBe(0);
    expect(out["goproxy"]).toBe("http://goproxy.lan:3000,direct\n");
    expect(out["gh.token"]?.toString()).toBe("tok-123\n");
  });

  it("renders minimal apt.conf and curlrc from defaults, and empty files for unset secrets", () => {
    const out = renderSecrets(settings({}), SITE_SECRET_IDS);
    expect(out["apt.conf"]).toBe('// kiln site settings for apt: a build secret, never stored in an image\nAcquire::Check-Valid-Until "true";\n');
    expect(out["curlrc"]).toBe("# kiln site settings for curl (curl -K /run/secrets/curlrc): a build secret, never stored in an image\n");
    for (const id of ["netrc", "ca.pem", "client.pem", "client.key", "keyring.gpg", "goproxy"]) expect(out[id], id).toBe("");
  });

  it("renders only the requested ids, and lets an extra secret replace a site secret", () => {
    const s = settings({ secrets: { "apt.conf": path.join(dir, "my-apt.conf") } });
    const out = renderSecrets(s, ["apt.conf", "apt.conf"]);
    expect(Object.keys(out)).toEqual(["apt.conf"]);
    expect(out["apt.conf"]?.toString()).toBe("APT::Get::Assume-Yes true;\n");
  });

  it("refuses unknown ids, unreadable files and values the formats cannot carry", () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(KilnError);
        return (e as KilnError).toLine();
      }
      throw new Error("expected an error");
    };
    expect(err(() => renderSecrets(settings({}), ["nope"]))).toMatch(/^unknown secret id nope; site secrets and settings.secrets: apt.conf, curlrc/);
    expect(err(() => renderSecrets(settings({}), ["../x"]))).toMatch(/is not a plain file name/);
    expect(err(() => renderSecrets(settings({ ca: "/nonexistent/ca.pem" }), ["ca.pem"]))).toBe(
      "cannot read ca file /nonexistent/ca.pem: ENOENT; fix ca in the site settings or unset it",
    );
    expect(err(() => renderSecrets(settings({ apt: { proxy: 'http://x"\nAPT::Evil "1' } }), ["apt.conf"]))).toMatch(/apt\.proxy contains a double quote or a line break/);
    expect(err(() => renderSecrets(settings({ credentials: { h: { username: "a b", password: "p" } } }), ["netrc"]))).toMatch(
      /credentials\[h\]\.username is empty or contains whitespace/,
    );
  });
});

describe("withSecretsDir", () => {
  it("writes the files into a 0700 folder (files 0600) and removes it afterwards", async () => {
    let seen = "";
    const result = await withSecretsDir(full(), ["apt.conf", "netrc", "keyring.gpg"], async (d) => {
      seen = d;
      expect((await fs.stat(d)).mode & 0o777).toBe(0o700);
      expect((await fs.readdir(d)).sort()).toEqual(["apt.conf", "keyring.gpg", "netrc"]);
      for (const f of await fs.readdir(d)) expect((await fs.stat(path.join(d, f))).mode & 0o777, f).toBe(0o600);
      expect(await fs.readFile(path.join(d, "netrc"), "utf8")).toContain("machine reg.example.com\n");
      expect(Buffer.compare(await fs.readFile(path.join(d, "keyring.gpg")), KEYRING)).toBe(0);
      return 42;
    });
    expect(result).toBe(42);
    expect(seen).not.toBe("");
    expect(existsSync(seen)).toBe(false);
    expect(process.listenerCount("SIGINT")).toBe(0);
  });

  it("removes the folder when the build throws", async () => {
    let seen = "";
    await expect(
      withSecretsDir(full(), ["apt.conf"], async (d) => {
        seen = d;
        throw new Error("build failed");
      }),
    ).rejects.toThrow("build failed");
    expect(existsSync(seen)).toBe(false);
  });

  it("writes nothing when rendering fails", async () => {
    const before = (await fs.readdir(os.tmpdir())).filter((f) => f.startsWith("kiln-secrets-")).length;
    await expect(withSecretsDir(settings({ keyring: "/nonexistent.gpg" }), ["keyring.gpg"], async () => 1)).rejects.toThrow(/cannot read keyring/);
    const after = (await fs.readdir(os.tmpdir())).filter((f) => f.startsWith("kiln-secrets-")).length;
    expect(after).toBeLessThanOrEqual(before);
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`removes the folder on ${signal} and dies of that signal`, async () => {
      const script = path.join(dir, "hold.mts");
      const secretsModule = new URL("./secrets.ts", import.meta.url).pathname;
      await fs.writeFile(
        script,
        `import { withSecretsDir } from ${JSON.stringify(secretsModule)};
         import { settingsSchema } from ${JSON.stringify(new URL("./schema.ts", import.meta.url).pathname)};
         await withSecretsDir(settingsSchema.parse({ apt: { proxy: "http://p:1" } }), ["apt.conf"], async (dir) => {
           process.stdout.write(dir + "\\n");
           await new Promise(() => setInterval(() => {}, 1000));
         });`,
      );
      const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "inherit"], cwd: path.dirname(secretsModule) });
      const secretsDir = await new Promise<string>((resolve, reject) => {
        let buf = "";
        child.stdout.on("data", (d: Buffer) => {
          buf += d.toString();
          if (buf.includes("\n")) resolve(buf.trim());
        });
        child.on("exit", (code) => reject(new Error(`child exited early (${code})`)));
      });
      expect(await fs.readFile(path.join(secretsDir, "apt.conf"), "utf8")).toContain("http://p:1");
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, sig) => resolve({ code, signal: sig })));
      child.kill(signal);
      expect(await exited).toEqual({ code: null, signal });
      expect(existsSync(secretsDir)).toBe(false);
    });
  }

  it("a folder left by a SIGKILLed run (named with its pid) is swept once that pid is gone; live owners' and other folders stay", async () => {
    const script = path.join(dir, "hold.mts");
    const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "inherit"], cwd: path.dirname(new URL("./secrets.ts", import.meta.url).pathname) });
    const secretsDir = await new Promise<string>((resolve) => child.stdout.on("data", (d: Buffer) => resolve(d.toString().trim())));
    expect(path.basename(secretsDir)).toMatch(new RegExp(`^kiln-secrets-${child.pid}-`));
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    expect(existsSync(secretsDir)).toBe(true); // nothing of the child ran
    const alive = await fs.mkdtemp(path.join(os.tmpdir(), `kiln-secrets-${process.ppid}-`));
    try {
      expect(sweepDeadSecrets()).toContain(path.basename(secretsDir));
      expect([existsSync(secretsDir), existsSync(alive), existsSync(dir)]).toEqual([false, true, true]);
    } finally {
      await fs.rm(alive, { recursive: true, force: true });
    }
  });
});
