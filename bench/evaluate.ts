// One evaluation of the program, in a process of its own (Pulumi's runtime is global):
// prints {"evaluationMs", "evaluationCpuMs", "plan"} as JSON. Used by bench/cli.ts, compiled.
import "../plan/lazySdk"; // first: @pulumi/pulumi would load modules the plan does not use (TypeScript, npm, the Automation API)
import "../plan/stackTraces"; // first: the plan's own stack-trace setting
import { runPlan } from "../plan/run";

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
    const [stack, configFile] = argv;
    // Standard output carries the JSON document alone.
    for (const level of ["log", "info", "debug"] as const) console[level] = (...a: unknown[]) => console.error(...a);
    const { plan, evaluationMs, evaluationCpuMs } = await runPlan({ stack, configFile });
    process.stdout.write(JSON.stringify({ evaluationMs, evaluationCpuMs, plan }));
}

if (require.main === module) {
    main().catch((e) => {
        process.stderr.write(`${(e as Error).message}\n`);
        process.exit(1);
    });
}
