/**
 * Reads `docker buildx inspect` text output (it has no JSON format in buildx
 * 0.13): the builder as a whole, and its nodes one by one.
 */

/** What the first `Name:` block says of the builder, as far as kiln uses it. */
export interface BuilderInspect {
  name?: string;
  driver?: string;
  status?: string;
  buildkitVersion?: string;
  platforms: string[];
  error?: string;
}

/** One node of a builder: its name, where it listens, whether it runs, what it builds. */
export interface BuilderNode {
  name: string;
  endpoint?: string;
  status?: string;
  platforms: string[];
}

/** The value of the first `Name: value` line in `text`, trimmed; undefined when absent or empty. */
export function inspectField(text: string, name: string): string | undefined {
  return text.match(new RegExp(`^${name}:[ \\t]*(.*)$`, "mi"))?.[1]?.trim() || undefined;
}

/** A `Platforms:` list; buildx marks the platforms a node was told to build with `*`. */
function platformList(text: string): string[] {
  return (inspectField(text, "Platforms") ?? "")
    .split(",")
    .map((s) => s.trim().replace(/\*$/, ""))
    .filter(Boolean);
}

/** The builder; `failure` replaces its `Error:` line when the command itself failed. */
export function parseBuilderInspect(out: string, failure?: string): BuilderInspect {
  return {
    name: inspectField(out, "Name"),
    driver: inspectField(out, "Driver"),
    status: inspectField(out, "Status"),
    buildkitVersion: inspectField(out, "BuildKit version") ?? inspectField(out, "BuildKit"),
    platforms: platformList(out),
    error: failure ?? inspectField(out, "Error"),
  };
}

/** Which node builds which platform, as `docker buildx inspect` reports it after bootstrap. */
export function parseNodes(out: string): BuilderNode[] {
  const nodes: BuilderNode[] = [];
  // The first block is the builder itself; each later `Name:` starts a node.
  for (const block of out.split(/\n(?=Name:)/).slice(1)) {
    const name = inspectField(block, "Name");
    if (!name) continue;
    nodes.push({ name, endpoint: inspectField(block, "Endpoint"), status: inspectField(block, "Status"), platforms: platformList(block) });
  }
  return nodes;
}
