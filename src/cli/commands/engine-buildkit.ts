/** The parts of `kiln engine setup` that run kiln's own buildkitd (--buildkit) and join buildkitd nodes (--nodes). */
import { setupBuildkitd, connectionLines } from "../../engine/buildkitd.ts";
import { setupNodes } from "../../engine/nodes.ts";
import { privilegeArgs } from "../../checks/docker.ts";
import { runtimeOf } from "../../checks/images.ts";
import { nativePlatform } from "../../checks/client-plan.ts";
import { loadImage } from "../../definition/catalog.ts";
import { KilnError } from "../../errors.ts";
import { OciStore } from "../../oci/store.ts";
import { catalogRoot, storeDir } from "../../paths.ts";
import type { Settings } from "../../settings/schema.ts";
import type { SettingsFlags } from "../options.ts";

/** The catalog image kiln runs as its buildkitd. */
const BUILDKIT_REF = "buildkit:image";

export interface BuildkitdFlags extends SettingsFlags {
  buildkit?: boolean;
  name: string;
  port: string;
  listen: string;
  host?: string[];
  hostNetwork?: boolean;
}

export async function setupBuildkitdCommand(settings: Settings, flags: BuildkitdFlags, say: (line: string) => void): Promise<void> {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new KilnError(`--port expects a port number, not ${flags.port}`);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(flags.name)) throw new KilnError(`--name expects a container name, not ${flags.name}`);
  const store = await OciStore.open(storeDir(settings));
  const image = await store.resolve(BUILDKIT_REF);
  if (!image) throw new KilnError(`the buildkit image is not in the local store (${store.dir})`, "build it first: kiln build buildkit");
  const native = nativePlatform();
  const manifest = image.manifests[native];
  if (!manifest) throw new KilnError(`the stored buildkit image has no ${native} image`, `build it: kiln build buildkit --platform ${native}`);
  // The privileges the image's definition declares, the ones `kiln test buildkit` proved enough.
  const def = await loadImage("buildkit", catalogRoot());
  const granted = runtimeOf(def.def, "image").privileges;
  const spec = { name: flags.name, listen: flags.listen, port, network: flags.hostNetwork ? ("host" as const) : ("bridge" as const), hosts: flags.host ?? [], privilegeArgs: privilegeArgs(granted) };
  const c = await setupBuildkitd(store, image, manifest.digest, spec, say);
  process.stdout.write(`buildkitd ${c.name} ${c.started ? "started" : "is running"}: ${c.address}, image ${c.image}\n`);
  process.stdout.write("to build on it (kiln's buildctl driver), set:\n");
  for (const line of connectionLines(c)) process.stdout.write(`  ${line}\n`);
}

export async function setupNodesCommand(settings: Settings, say: (line: string) => void): Promise<void> {
  const { builder, nodes } = await setupNodes(settings.engine, say);
  process.stdout.write(`builder ${builder} is ready with ${nodes.length} node(s); kiln builds on it (engine.builder ${settings.engine.builder ? "names it" : "defaults to it while engine.nodes is set"})\n`);
}
