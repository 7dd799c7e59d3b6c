// npm run bench [-- --json] [--parallel N]
// Measures, with no network: how long the program takes to evaluate (prod, and generated
// stacks of 3, 10 and 50 nodes with 1, 20 and 100 canaries), and from the plan's dependency
// graph the critical path and simulated makespan of `pulumi up` (bench/model.ts), against the
// same steps done by hand one after another. Checks the targets; exits 1 when one is missed.
import { spawnSync } from "child_process";
import * as path from "path";
import { Plan, PROJECT_DIR } from "../plan/run";
import { generatedConfig } from "./generate";
import { schedule, unneededNodeWaits } from "./model";
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
    const p = argv.indexOf("--parallel");
    const parallelism = p >= 0 ? Number(argv[p + 1]) : Number.POSITIVE_INFINITY;

    const prod = evaluate("prod");
    const evaluation: Array<{ nodes: number; canaries: number; ms: number }> = [{ nodes: 6, canaries: 1, ms: prod.evaluationMs }];
    const makespan: Array<{ nodes: number; seconds: number; sequentialSeconds: number }> = [];
    const plans = new Map<number, Plan>();
    for (const nodes of NODES) {
        for (const canaries of CANARIES) {
            const run = evaluate("staging", writeTempStackFile(generatedConfig(nodes, canaries)));
            evaluation.push({ nodes, canaries, ms: run.evaluationMs });
            if (canaries === 1) plans.set(nodes, run.plan);
        }
    }
    for (const nodes of NODES) {
        const s = schedule(plans.get(nodes)!.resources, parallelism);
        makespan.push({ nodes, seconds: s.makespan, sequentialSeconds: s.sequential });
    }
    const prodSchedule = schedule(prod.plan.resources, parallelism);
    const ms = (n: number, c: number) => evaluation.find((e) => e.nodes === n && e.canaries === c)!.ms;
    const span = (n: number) => makespan.find((m) => m.nodes === n)!.seconds;
    const fifty = generatedConfig(50, 1)["oslo-mesh:nodes"] as Array<{ name: string; role: string }>;
    const unneeded = unneededNodeWaits(plans.get(50)!.resources, fifty);
    const targets: Target[] = [
        { name: "prod plan evaluates in under 1.5 s", value: `${prod.evaluationMs.toFixed(0)} ms`, ok: prod.evaluationMs < 1500 },
        { name: "evaluation grows at most linearly from 3 to 50 nodes", value: `×${(ms(50, 1) / ms(3, 1)).toFixed(2)} for ×${(50 / 3).toFixed(2)} nodes`, ok: ms(50, 1) / ms(3, 1) <= 50 / 3 },
        { name: "makespan for 50 nodes within 1.15× of 3 nodes", value: `${span(50)} s vs ${span(3)} s (×${(span(50) / span(3)).toFixed(3)})`, ok: span(50) <= 1.15 * span(3) },
        { name: "no node's step waits on a node it does not need (50 nodes)", value: unneeded.length ? unneeded.slice(0, 3).join("; ") : "none", ok: unneeded.length === 0 },
    ];

    if (json) {
        process.stdout.write(JSON.stringify({ evaluation, makespan, criticalPath: prodSchedule.criticalPath, targets }, null, 2) + "\n");
    } else {
        const lines = ["Evaluation (in process, mock runtime):", "  nodes  canaries        ms"];
        for (const e of evaluation) lines.push(`  ${String(e.nodes).padStart(5)}  ${String(e.canaries).padStart(8)}  ${e.ms.toFixed(0).padStart(8)}`);
        lines.push("", `Simulated pulumi up (parallelism ${Number.isFinite(parallelism) ? parallelism : "unbounded"}; bench/model.ts):`, "  nodes  makespan s  by hand, one after another s");
        for (const m of makespan) lines.push(`  ${String(m.nodes).padStart(5)}  ${String(m.seconds).padStart(10)}  ${String(Math.round(m.sequentialSeconds)).padStart(28)}`);
        lines.push("", `Critical path of prod (${prodSchedule.makespan} s):`, ...prodSchedule.criticalPath.map((u) => `  ${u.split("::").pop()}`));
        lines.push("", "Targets:", ...targets.map((t) => `  [${t.ok ? "ok" : "MISSED"}] ${t.name}: ${t.value}`));
        process.stdout.write(lines.join("\n") + "\n");
    }
    if (targets.some((t) => !t.ok)) process.exit(1);
}

main();
