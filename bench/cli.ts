// npm run bench [-- --json] [--runner-cpus N]
// Measures, with no network: how long the program takes to evaluate (prod, and generated
// stacks of 3, 10 and 50 nodes with 1, 20 and 100 canaries), and from the plan's dependency
// graph the critical path and simulated makespan of `pulumi up` at Pulumi's default and at the
// configured parallelism (bench/up.ts, bench/model.ts), against the same steps done by hand one
// after another. Checks the targets; exits 1 when one is missed.
import { spawnSync } from "child_process";
import * as path from "path";
import { Plan, PROJECT_DIR } from "../plan/run";
import { generatedConfig } from "./generate";
import { formatUpReport, MAKESPAN_NODES, StackGraph, upReport } from "./up";
import { writeTempStackFile } from "../plan/stackFile";

const NODES = [3, 10, 50];
const CANARIES = [1, 20, 100];

function evaluate(stack: string, configFile?: string): { evaluationMs: number; plan: Plan } {
    const args = [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(__dirname, "evaluate.ts"), stack, ...(configFile ? [configFile] : [])];
    const r = spawnSync(process.execPath, args, { cwd: PROJECT_DIR, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: { ...process.env, KUBECONFIG: "" } });
    if (r.status !== 0) throw new Error(`evaluating ${stack} failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
}

interface Target {
    readonly name: string;
    readonly value: string;
    readonly ok: boolean;
}

function main(): void {
    const argv = process.argv.slice(2);
    const json = argv.includes("--json");
    const c = argv.indexOf("--runner-cpus");
    const runnerCpus = c >= 0 ? Number(argv[c + 1]) : undefined;

    const prod = evaluate("prod");
    const evaluation: Array<{ nodes: number; canaries: number; ms: number }> = [{ nodes: 6, canaries: 1, ms: prod.evaluationMs }];
    const plans = new Map<number, Plan>();
    for (const nodes of NODES) {
        for (const canaries of CANARIES) {
            const run = evaluate("staging", writeTempStackFile(generatedConfig(nodes, canaries)));
            evaluation.push({ nodes, canaries, ms: run.evaluationMs });
            if (canaries === 1) plans.set(nodes, run.plan);
        }
    }
    const stacks = new Map<number, StackGraph>();
    for (const nodes of MAKESPAN_NODES) {
        const list = generatedConfig(nodes, 1)["oslo-mesh:nodes"] as Array<{ name: string; role: "control-plane" | "worker" }>;
        stacks.set(nodes, { resources: plans.get(nodes)!.resources, nodes: list.map(({ name, role }) => ({ name, role })) });
    }
    const up = upReport(stacks, runnerCpus);
    const ms = (n: number, c: number) => evaluation.find((e) => e.nodes === n && e.canaries === c)!.ms;
    const targets: Target[] = [
        { name: "prod plan evaluates in under 1.5 s", value: `${prod.evaluationMs.toFixed(0)} ms`, ok: prod.evaluationMs < 1500 },
        { name: "evaluation grows at most linearly from 3 to 50 nodes", value: `×${(ms(50, 1) / ms(3, 1)).toFixed(2)} for ×${(50 / 3).toFixed(2)} nodes`, ok: ms(50, 1) / ms(3, 1) <= 50 / 3 },
        ...up.targets,
    ];

    if (json) {
        process.stdout.write(JSON.stringify({ evaluation, parallel: up.parallel, makespan: up.makespan, criticalPath: up.criticalPath, criticalPathFirstUp: up.criticalPathFirstUp, baseline: up.baseline, targets }, null, 2) + "\n");
    } else {
        const lines = ["Evaluation (in process, mock runtime):", "  nodes  canaries        ms"];
        for (const e of evaluation) lines.push(`  ${String(e.nodes).padStart(5)}  ${String(e.canaries).padStart(8)}  ${e.ms.toFixed(0).padStart(8)}`);
        lines.push("", ...formatUpReport(up));
        lines.push("", "Targets:", ...targets.map((t) => `  [${t.ok ? "ok" : "MISSED"}] ${t.name}: ${t.value}`));
        process.stdout.write(lines.join("\n") + "\n");
    }
    if (targets.some((t) => !t.ok)) process.exit(1);
}

main();
