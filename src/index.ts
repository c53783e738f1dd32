/** kiln's library API: everything the CLI does is reachable from here. */
export { defineImage, CATEGORIES, SUPPORTED_PLATFORMS } from "./definition/schema.ts";
export type { ImageDefinition, ImageDefinitionInput, Platform, Category } from "./definition/schema.ts";
export { loadCatalog, loadImage, type Catalog, type LoadedImage } from "./definition/catalog.ts";
export { OciStore } from "./oci/store.ts";
export { KilnError } from "./errors.ts";
export type { Settings } from "./settings/schema.ts";
export type { BuildPlan } from "./plan/types.ts";
export type { Lock } from "./lock/schema.ts";
