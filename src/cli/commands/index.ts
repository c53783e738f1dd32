/** Every subcommand module, in help order. Add a command: write its module and list it here. */
import type { Command } from "commander";
import * as build from "./build.ts";
import * as diff from "./diff.ts";
import * as lint from "./lint.ts";
import * as test from "./test.ts";
import * as verify from "./verify.ts";
import * as plan from "./plan.ts";
import * as status from "./status.ts";
import * as engine from "./engine.ts";
import * as lock from "./lock.ts";
import * as ls from "./ls.ts";
import * as refresh from "./refresh.ts";

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [build.register, plan.register, status.register, ls.register, test.register, lint.register, verify.register, diff.register, engine.register, lock.register, refresh.register];
