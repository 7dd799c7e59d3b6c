// One evaluation of the program, in a process of its own (Pulumi's runtime is global):
// prints {"evaluationMs", "plan"} as JSON. Used by bench/cli.ts.
import { runPlan } from "../plan/run";

async function main(): Promise<void> {
    const [stack, configFile] = process.argv.slice(2);
    const { plan, evaluationMs } = await runPlan({ stack, configFile });
    process.stdout.write(JSON.stringify({ evaluationMs, plan }));
}

main().catch((e) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
});
