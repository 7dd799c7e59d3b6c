// Writes a plan's resources as the engine hands them to a policy pack: inputs with Pulumi's own
// markers for secrets and unknowns (as the SDK sent them to the resource monitor), each
// resource's additionalSecretOutputs, and the stack's outputs. A child process of the pack's
// test: one plan per process, since Pulumi's runtime is global.
// usage: node bin/test/policyPlanDump.js <stack> <out.json> [config-file] (compiled by plan/build.js)
import "../plan/lazySdk"; // first, as in the plan (plan/cli.ts)
import * as fs from "fs";
import { runPlan } from "../plan/run";

async function main(): Promise<void> {
    const [stack, out, configFile] = process.argv.slice(2);
    const { plan, recorder } = await runPlan({ stack, configFile });
    fs.writeFileSync(out, JSON.stringify({ stack, outputs: plan.outputs, resources: recorder.resources }));
}

main().catch((e) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
});
