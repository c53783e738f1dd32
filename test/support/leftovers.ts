/**
 * What a kiln process may leave behind, counted before and after it runs:
 * containers, networks, volumes and image tags named after its pid (every
 * name kiln test makes carries it), and the entries of its private temp
 * folder ($TMPDIR: load/push layouts, verify stores, secrets folders) and
 * of its cache's work folder. Other people's objects on a shared engine are
 * never counted: only names with this pid.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { runCommand } from "../e2e/helpers.ts";

export interface Leftovers {
  containers: string[];
  networks: string[];
  volumes: string[];
  tags: string[];
  /** Entries of $TMPDIR, secrets folders included. */
  temp: string[];
  /** `kiln-secrets-*` folders (also in temp). */
  secrets: string[];
  /** Entries of <cache>/work (build work folders). */
  work: string[];
  /** Processes still in the kiln process group (the engine client, skopeo, ctr...). */
  processes: string[];
}

/**
 * Names from a docker listing. With the containerd image store, `docker images` fails now and then
 * (`content digest ...: not found`) while another client removes an image: asked again, it answers.
 */
async function names(args: string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    const r = await runCommand("docker", args, { ...process.env, ...env });
    if (r.code === 0) return r.stdout.split("\n").filter(Boolean);
    if (attempt === 5 || !/not found/.test(r.stderr)) throw new Error(`docker ${args.join(" ")} failed: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

async function entries(dir: string): Promise<string[]> {
  return (await fs.readdir(dir).catch(() => [] as string[])).sort();
}

/** Processes whose process group is `pgid` (kiln started detached, so its group id is its pid). */
async function group(pgid: number | undefined): Promise<string[]> {
  if (pgid === undefined) return [];
  const r = await runCommand("ps", ["-o", "pid=,comm=", "-g", String(pgid)]);
  return r.stdout.split("\n").map((l) => l.trim()).filter(Boolean);
}

export async function leftovers(opts: { pid?: number; tmpdir: string; cacheDir: string; env?: NodeJS.ProcessEnv }): Promise<Leftovers> {
  const env = opts.env ?? {};
  const mine = (n: string) => opts.pid !== undefined && n.includes(`-${opts.pid}-`);
  const [containers, networks, volumes, tags, temp, work, processes] = await Promise.all([
    names(["ps", "-a", "--format", "{{.Names}}"], env),
    names(["network", "ls", "--format", "{{.Name}}"], env),
    names(["volume", "ls", "--format", "{{.Name}}"], env),
    names(["images", "--format", "{{.Repository}}:{{.Tag}}"], env),
    entries(opts.tmpdir),
    entries(path.join(opts.cacheDir, "work")),
    group(opts.pid),
  ]);
  return {
    containers: containers.filter(mine),
    networks: networks.filter(mine),
    volumes: volumes.filter(mine),
    tags: tags.filter(mine),
    temp,
    secrets: temp.filter((e) => e.startsWith("kiln-secrets-")),
    work,
    processes,
  };
}

export const NOTHING: Leftovers = { containers: [], networks: [], volumes: [], tags: [], temp: [], secrets: [], work: [], processes: [] };
