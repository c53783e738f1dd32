/** Every subcommand module, in help order. Add a command: write its module and list it here. */
import type { Command } from "commander";
import * as diff from "./diff.ts";

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [diff.register];
