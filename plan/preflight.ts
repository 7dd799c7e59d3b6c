// The stack's configuration, checked before the plan loads Pulumi's SDKs: a broken stack file or
// configuration fails `npm run plan` with every problem in a fraction of a plan's time (measured:
// about 0.15 s of loading instead of about 0.5 s before the program would have thrown). The
// lines are the program's own: the same stack file read (plan/stackFile.ts) and the same parse
// (stacks/parse.ts) that the program runs through stacks/load.ts; a configuration that passes
// here is planned, and checked again by the program, as before. Nothing here loads an SDK.
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../stacks/parse";
import { ConfigError } from "../stacks/problems";
import { PROJECT_DIR } from "./project";
import { readStackFile } from "./stackFile";

/** The stack file a plan reads: the one given, else Pulumi.<stack>.yaml in the project; an error names the stacks there when it is missing. */
export function stackFileOf(stack: string, configFile?: string): string {
    const file = configFile ?? path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        const stacks = fs.readdirSync(PROJECT_DIR).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).map((f) => f.split(".")[1]);
        throw new Error(`no stack file ${file}; stacks here: ${stacks.join(", ")} (or give --config-file)`);
    }
    return file;
}

/** Reads the stack file and checks its configuration; throws a ConfigError naming every problem. */
export function preflight(stack: string, configFile?: string): void {
    const config = readStackFile(stackFileOf(stack, configFile));
    const secret = new Set(config.secretKeys);
    const { problems } = parseStackConfig(stack, { values: config.values, isSecret: (k) => secret.has(k) });
    if (problems.length > 0) throw new ConfigError(problems);
}
