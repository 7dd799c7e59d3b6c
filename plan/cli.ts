// npm run plan -- --stack <name> [--json] [--out DIR] [--config-file FILE] [--diff GIT-REF] [--policy]
// The offline plan: the real program under Pulumi's mock runtime, for reviewers and
// machines without the Pulumi CLI or credentials. Exit 1 with every problem on stderr
// when the configuration is broken; stdout stays empty then. Standard output carries only
// the plan (tree, JSON or diff); every log line goes to standard error.
import "./lazySdk"; // first: @pulumi/pulumi would load modules the plan does not use (TypeScript, npm, the Automation API)
import { debugging } from "./stackTraces"; // first: it sets how much of a stack trace is captured
import * as crypto from "crypto";
import { CliArgs, HELP, parseArgs, USAGE } from "./args";

function fail(lines: string[]): never {
    process.stderr.write(lines.join("\n") + "\n");
    process.exit(1);
}

/** A diagnostic as one log line (or several, for a table) on stderr. */
function logLine(d: { severity: string; message: string; urn?: string }): string {
    const about = d.urn ? ` (${d.urn.split("::").pop()})` : "";
    return `${d.severity}${about}: ${d.message}\n`;
}

/**
 * `--policy`: the pack's rules in-process against the plan (one definition serves the pack and
 * this), the report after the plan on `to`; a mandatory violation fails the run.
 */
async function checkPolicy(plan: import("./run").Plan, to: NodeJS.WriteStream): Promise<void> {
    const { evaluatePlan, failsPlan, renderViolations } = await import("../policy/inProcess");
    const violations = evaluatePlan(plan);
    to.write("\n" + renderViolations(violations));
    if (failsPlan(violations)) process.exitCode = 1;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
    let parsed: CliArgs | "help";
    try {
        parsed = parseArgs(argv);
    } catch (e) {
        return fail([(e as Error).message, USAGE]);
    }
    if (parsed === "help") {
        process.stdout.write(HELP);
        return;
    }
    const args = parsed;
    // Standard output is the plan's alone: whatever a library prints goes to standard error.
    for (const level of ["log", "info", "debug"] as const) console[level] = (...a: unknown[]) => console.error(...a);
    // `npm run plan -- --json | head` closes the pipe early: that is not an error.
    process.stdout.on("error", (e: NodeJS.ErrnoException) => process.exit(e.code === "EPIPE" ? 0 : 1));
    // A rejected promise inside the program (e.g. in an apply) must fail the plan, not vanish.
    process.on("unhandledRejection", (e) => fail([`plan failed: ${(e as Error)?.message ?? String(e)}`]));
    try {
        // The stack's configuration first, before the SDKs load: a broken one fails at once.
        const { preflight } = await import("./preflight");
        preflight(args.stack, args.configFile);
        // Loaded only now: --help, a mistyped flag and a broken configuration answer at once.
        const { runPlan, SECRET_DIGEST_KEY_ENV } = await import("./run");
        if (args.diff) {
            const { planAtRevision } = await import("./baseline");
            const { diffPlans, renderDiff } = await import("./diff");
            // One key for both plans of this diff, never shown: secrets compare by digest only.
            const key = crypto.randomBytes(32).toString("hex");
            process.env[SECRET_DIGEST_KEY_ENV] = key;
            const base = planAtRevision(args.diff, args.stack, key);
            const { plan } = await runPlan({ stack: args.stack, configFile: args.configFile });
            for (const d of plan.diagnostics) process.stderr.write(logLine(d));
            process.stdout.write(renderDiff(diffPlans(base, plan), `Plan diff for stack ${args.stack}: ${args.diff} → working tree`));
            if (args.policy) await checkPolicy(plan, process.stdout);
            return;
        }
        const { collectArtifacts, prepareOutDir, writeArtifacts } = await import("./artifacts");
        const { renderJson, renderTree } = await import("./render");
        if (args.out) prepareOutDir(args.out, args.stack);
        const { plan, recorder } = await runPlan({ stack: args.stack, configFile: args.configFile });
        for (const d of plan.diagnostics) process.stderr.write(logLine(d));
        const json = renderJson(plan);
        if (args.out) writeArtifacts(args.out, args.stack, [...collectArtifacts(plan, recorder.invokes), { file: "plan.json", content: json }]);
        process.stdout.write(args.json ? json : renderTree(plan));
        // With --json, standard output stays one JSON document.
        if (args.policy) await checkPolicy(plan, args.json ? process.stderr : process.stdout);
        // As in `pulumi preview`: an error the program logged fails the run, after the plan is shown.
        if (plan.diagnostics.some((d) => d.severity === "error")) process.exitCode = 1;
    } catch (e) {
        const err = e as Error & { lines?: string[] };
        if (err.name === "ConfigError" && err.lines) fail(err.lines);
        fail([`plan failed: ${debugging && err.stack ? err.stack : err.message}`]);
    }
}

if (require.main === module) void main();
