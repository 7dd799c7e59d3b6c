// The plan's command line: `npm run plan -- --stack <name> [--json] [--out DIR] [--config-file FILE] [--diff GIT-REF] [--policy]`.
// No side effects and nothing heavy here, so that --help and a mistyped flag answer at once.

export interface CliArgs {
    stack: string;
    json: boolean;
    out?: string;
    configFile?: string;
    diff?: string;
    /** Run the policy pack's rules (policy/) against the plan. */
    policy: boolean;
}

export const USAGE = "usage: npm run plan -- --stack <name> [--json] [--out DIR] [--config-file FILE] [--diff GIT-REF] [--policy]";

export const HELP = `${USAGE}

The real program (index.ts) under Pulumi's mock runtime, with no network, no Pulumi CLI and no
credentials: what \`pulumi preview\` would show, and what \`pulumi up\` would create.

  --stack NAME          the stack: reads Pulumi.NAME.yaml (dev, staging, prod, or your own)
  --json                one JSON document instead of the tree: resources, outputs, diagnostics
  --out DIR             also write every rendered artifact (scripts, cloud-init, kubeadm, Helm
                        values, Kubernetes objects) and plan.json under DIR; DIR must be new,
                        empty, or an earlier --out of the same stack (which is replaced)
  --config-file FILE    read the configuration from FILE instead of Pulumi.NAME.yaml
  --diff GIT-REF        what changes from GIT-REF's plan (its program and stack file) to the
                        working tree's: + add, ~ change, +- replace, - remove
  --policy              also run the policy pack's rules (policy/) against the plan: the
                        violations after the tree or diff (on stderr with --json); exit 1 on
                        a mandatory one
  --help                this text

Values are written --flag VALUE or --flag=VALUE. With npm, put -- before the flags
(npm run plan -- --stack dev), or npm keeps them for itself.
OSLO_MESH_DEBUG=1 keeps the stack traces that the plan otherwise does not capture.
`;

const VALUE_FLAGS: Record<string, keyof CliArgs> = { "--stack": "stack", "--out": "out", "--config-file": "configFile", "--diff": "diff" };

/** Thrown for what the user typed: the message is printed with the usage, no stack trace. */
export class UsageError extends Error {}

/**
 * `npm run plan --stack prod --json` (without `--`) hands the flags to npm, which keeps them as
 * its own config: they reach us as npm_config_stack / npm_config_json ... in the environment,
 * and their values as stray arguments (npm 11: `["prod"]`).
 */
function npmAteFlags(env: NodeJS.ProcessEnv): string[] {
    if (!env.npm_lifecycle_event) return [];
    return ["stack", "json", "out", "config_file", "diff", "policy"].filter((k) => env[`npm_config_${k}`] !== undefined).map((k) => `--${k.replace("_", "-")}`);
}

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliArgs | "help" {
    const args: Partial<CliArgs> = { json: false, policy: false };
    const stray: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--help" || a === "-h") return "help";
        const eq = a.indexOf("=");
        const flag = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
        if (flag in VALUE_FLAGS) {
            const v = eq > 0 && flag !== a ? a.slice(eq + 1) : argv[++i];
            if (v === undefined || v === "" || (flag === a && v.startsWith("--"))) throw new UsageError(`${flag} needs a value`);
            (args as Record<string, unknown>)[VALUE_FLAGS[flag]] = v;
        } else if (a === "--json") args.json = true;
        else if (a === "--policy") args.policy = true;
        else if (a.startsWith("-")) throw new UsageError(`unknown argument ${a}`);
        else stray.push(a);
    }
    const eaten = npmAteFlags(env);
    if (eaten.length && (stray.length || !args.stack)) {
        throw new UsageError(
            `npm kept ${eaten.join(", ")} for itself: put -- between \`npm run plan\` and the plan's flags, e.g.\n  npm run plan -- --stack ${env.npm_config_stack && env.npm_config_stack !== "true" ? env.npm_config_stack : (stray[0] ?? "dev")}${eaten.includes("--json") ? " --json" : ""}`,
        );
    }
    if (stray.length) throw new UsageError(`unexpected argument ${stray[0]}`);
    if (!args.stack) throw new UsageError("--stack is required");
    return args as CliArgs;
}

