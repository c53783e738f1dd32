/** Every subcommand module, in help order. Add a command: write its module and list it here. */
import type { Command } from "commander";
import * as build from "./build.ts";
import * as diff from "./diff.ts";
import * as plan from "./plan.ts";
import * as engine from "./engine.ts";

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [build.register, plan.register, diff.register, engine.register];
