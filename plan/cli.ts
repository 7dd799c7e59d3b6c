// npm run plan -- --stack <name> [--json] [--out DIR] [--config-file FILE] [--diff GIT-REF]
// The offline plan: the real program under Pulumi's mock runtime, for reviewers and
// machines without the Pulumi CLI or credentials. Exit 1 with every problem on stderr
// when the configuration is broken; stdout stays empty then.
import * as crypto from "crypto";
import { collectArtifacts, writeArtifacts } from "./artifacts";
import { planAtRevision } from "./baseline";
import { diffPlans, renderDiff } from "./diff";
import { renderJson, renderTree } from "./render";
import { runPlan, SECRET_DIGEST_KEY_ENV } from "./run";

interface CliArgs {
    stack: string;
    json: boolean;
    out?: string;
    configFile?: string;
    diff?: string;
}

const USAGE = "usage: npm run plan -- --stack <name> [--json] [--out DIR] [--config-file FILE] [--diff GIT-REF]";

export function parseArgs(argv: string[]): CliArgs {
    const args: Partial<CliArgs> = { json: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new Error(`${a} needs a value\n${USAGE}`);
            return v;
        };
        if (a === "--stack") args.stack = value();
        else if (a === "--json") args.json = true;
        else if (a === "--out") args.out = value();
        else if (a === "--config-file") args.configFile = value();
        else if (a === "--diff") args.diff = value();
        else throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
    if (!args.stack) throw new Error(`--stack is required\n${USAGE}`);
    return args as CliArgs;
}

function fail(lines: string[]): never {
    process.stderr.write(lines.join("\n") + "\n");
    process.exit(1);
}

async function main(): Promise<void> {
    let args: CliArgs;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (e) {
        return fail([(e as Error).message]);
    }
    // `npm run plan -- --json | head` closes the pipe early: that is not an error.
    process.stdout.on("error", (e: NodeJS.ErrnoException) => process.exit(e.code === "EPIPE" ? 0 : 1));
    // A rejected promise inside the program (e.g. in an apply) must fail the plan, not vanish.
    process.on("unhandledRejection", (e) => fail([`plan failed: ${(e as Error)?.message ?? String(e)}`]));
    try {
        if (args.diff) {
            // One key for both plans of this diff, never shown: secrets compare by digest only.
            const key = crypto.randomBytes(32).toString("hex");
            process.env[SECRET_DIGEST_KEY_ENV] = key;
            const base = planAtRevision(args.diff, args.stack, key);
            const { plan } = await runPlan({ stack: args.stack, configFile: args.configFile });
            process.stdout.write(renderDiff(diffPlans(base, plan), `Plan diff for stack ${args.stack}: ${args.diff} → working tree`));
            return;
        }
        const { plan, recorder } = await runPlan({ stack: args.stack, configFile: args.configFile });
        if (args.out) writeArtifacts(args.out, collectArtifacts(plan, recorder.invokes));
        process.stdout.write(args.json ? renderJson(plan) : renderTree(plan));
    } catch (e) {
        const err = e as Error & { lines?: string[] };
        if (err.name === "ConfigError" && err.lines) fail(err.lines);
        fail([`plan failed: ${err.message}`]);
    }
}

if (require.main === module) void main();
