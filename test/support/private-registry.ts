/**
 * A docker-registry of the test's own on another loopback port, to stop and
 * start again; the shared one on 127.0.0.1:5000 is never touched.
 */
import fsp from "node:fs/promises";
import path from "node:path";
import { httpStatus } from "../../src/engine/probe.ts";
import { startService } from "../../src/engine/services.ts";

export class PrivateRegistry {
  private pid?: number;

  private constructor(
    readonly root: string,
    readonly port: number,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(root: string, port: number): Promise<PrivateRegistry> {
    await fsp.mkdir(root, { recursive: true });
    const config = `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(root, "data")}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`;
    await fsp.writeFile(path.join(root, "registry.yml"), config);
    const r = new PrivateRegistry(root, port);
    await r.up();
    return r;
  }

  async up(): Promise<void> {
    const url = `http://${this.address}/v2/`;
    const started = await startService({ name: "registry", cmd: "docker-registry", args: ["serve", path.join(this.root, "registry.yml")], answers: async () => (await httpStatus(url)) === 200, timeoutMs: 30_000, logDir: this.root });
    this.pid = started.pid;
  }

  /** Stops it and waits until nothing answers on its port. */
  async down(): Promise<void> {
    if (this.pid === undefined) return;
    process.kill(this.pid, "SIGTERM");
    this.pid = undefined;
    for (let i = 0; i < 100 && (await httpStatus(`http://${this.address}/v2/`, 300)) !== undefined; i++) await new Promise((r) => setTimeout(r, 100));
  }

  async remove(): Promise<void> {
    await this.down();
    await fsp.rm(this.root, { recursive: true, force: true });
  }
}
