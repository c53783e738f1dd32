/**
 * A multi-node builder from the site settings: `engine.nodes` lists buildkitd
 * daemons (each with the platforms it builds and its mutual TLS files), and
 * `kiln engine setup --nodes` joins them into one buildx builder with the
 * remote driver. A multi-platform build on it runs each platform on the node
 * that lists it; the daemons themselves are not touched (docs/engines.md).
 */
import { KilnError } from "../errors.ts";
import type { Settings } from "../settings/schema.ts";
import { run } from "../util/run.ts";
import { inspectField, parseNodes, type BuilderNode } from "./buildx-inspect.ts";

export const DEFAULT_NODES_BUILDER = "kiln-nodes";

type EngineSettings = Pick<Settings["engine"], "builder" | "nodes">;
type Node = Settings["engine"]["nodes"][number];

/** The buildx builder kiln builds with: the one named in the settings, else the nodes' builder when nodes are listed. */
export function effectiveBuilder(engine: EngineSettings): string | undefined {
  return engine.builder ?? (engine.nodes.length ? DEFAULT_NODES_BUILDER : undefined);
}

/** The remote driver's options for one node's TLS files. */
function driverOpts(node: Node): string[] {
  const { ca, cert, key, serverName } = node.tls;
  const opts = [ca && `cacert=${ca}`, cert && `cert=${cert}`, key && `key=${key}`, serverName && `servername=${serverName}`].filter((o): o is string => Boolean(o));
  return opts.length ? ["--driver-opt", opts.join(",")] : [];
}

/** The `docker buildx create` argvs that make the builder: the first node creates it, the others are appended. Pure. */
export function createBuilderArgs(builder: string, nodes: readonly Node[]): string[][] {
  if (!nodes.length) throw new KilnError("no buildkitd nodes are listed (engine.nodes)", "list them in the site config: docs/engines.md, \"Several nodes\"");
  const seen = new Map<string, string>();
  for (const n of nodes) {
    for (const p of n.platforms) {
      const other = seen.get(p);
      if (other) throw new KilnError(`engine.nodes: ${p} is listed by both ${other} and ${n.name}`, "give each platform to one node: buildx sends a platform to the first node that lists it");
      seen.set(p, n.name);
    }
  }
  return nodes.map((n, i) => [
    "buildx", "create",
    ...(i === 0 ? [] : ["--append"]),
    "--name", builder,
    "--driver", "remote",
    ...driverOpts(n),
    "--node", n.name,
    "--platform", n.platforms.join(","),
    n.endpoint,
  ]);
}

/**
 * Makes (or remakes) the builder from the settings and checks every node
 * answers. Remaking is cheap (the remote driver only records addresses) and
 * keeps the builder exactly as the settings say.
 */
export async function setupNodes(engine: EngineSettings, say: (line: string) => void): Promise<{ builder: string; nodes: BuilderNode[] }> {
  const builder = effectiveBuilder(engine)!;
  const argvs = createBuilderArgs(builder, engine.nodes);
  const existing = await run("docker", ["buildx", "inspect", builder], { what: `inspect builder ${builder}`, allowFailure: true });
  if (existing.code === 0) {
    const driver = inspectField(existing.stdout.toString(), "Driver");
    if (driver !== "remote") throw new KilnError(`a buildx builder named ${builder} exists with the ${driver ?? "unknown"} driver`, "name the nodes' builder differently (engine.builder) or remove that builder (docker buildx rm)");
    await run("docker", ["buildx", "rm", builder], { what: `remove builder ${builder}` });
  }
  for (const argv of argvs) await run("docker", argv, { what: `docker buildx create (${builder})` });
  const inspect = await run("docker", ["buildx", "inspect", "--bootstrap", builder], { what: `bootstrap builder ${builder}`, allowFailure: true });
  const nodes = parseNodes(inspect.stdout.toString());
  const down = engine.nodes.filter((n) => nodes.find((m) => m.name === n.name)?.status !== "running");
  if (inspect.code !== 0 || down.length) {
    const names = down.map((n) => `${n.name} (${n.endpoint})`).join(", ");
    throw new KilnError(`builder ${builder}: ${names || "a node"} does not answer: ${inspect.stderr.trim().split("\n").pop() ?? ""}`, "check that buildkitd runs there and the TLS files match (kiln engine status)");
  }
  for (const n of nodes) say(`node ${n.name} at ${n.endpoint}: ${n.status}, builds ${engine.nodes.find((m) => m.name === n.name)!.platforms.join(", ")}`);
  return { builder, nodes };
}
