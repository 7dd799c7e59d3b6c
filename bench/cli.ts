// npm run bench [-- --json] [--runs N] [--runner-cpus N]
// Measures, with no network, and judges evaluation only by ratios measured in the same run, so
// that a busy machine slows both sides alike:
//  - floor: the prod plan's wall time (`npm run plan -- --stack prod --json` without npm) against
//    the time Node.js takes to load the SDKs it builds on (the floor), medians of alternating runs;
//  - slopes: what an added node and an added canary cost to evaluate (CPU time of the
//    evaluation, generated stacks of 3/50/200 nodes and 1/100/500 canaries, medians of three);
//  - from the plan's dependency graph, the critical path and simulated makespan of `pulumi up`
//    at Pulumi's default and at the configured parallelism (bench/up.ts, bench/model.ts), against
//    the same steps done by hand one after another.
// Exits 1 when a target is missed; the figures themselves are never a target.
import "../plan/stackTraces";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_DIR } from "../plan/project";
import { Plan } from "../plan/run";
import { writeTempStackFile } from "../plan/stackFile";
import { generatedConfig } from "./generate";
import { Floor, FLOOR_RATIO_TARGET, floorOf, LINEARITY_TARGET, median, Points, round, slopesOf } from "./ratios";
import { formatUpReport, MAKESPAN_NODES, StackGraph, upReport } from "./up";

/** What the plan cannot go below: loading the SDKs the program uses, and nothing else. */
const FLOOR_SCRIPT = 'require("@pulumi/pulumi");require("@pulumi/kubernetes");require("@pulumi/command");require("@pulumi/random")';

const NODES = [3, 50, 200];
const CANARIES = [1, 100, 500];
const REPEATS = 3;

interface Evaluation {
    readonly evaluationMs: number;
    readonly evaluationCpuMs: number;
    readonly plan: Plan;
}

function evaluate(stack: string, configFile?: string): Evaluation {
    const args = [path.join(__dirname, "evaluate.js"), stack, ...(configFile ? [configFile] : [])];
    const r = spawnSync(process.execPath, args, { cwd: PROJECT_DIR, encoding: "utf8", maxBuffer: 1024 * 1024 * 1024, env: { ...process.env, KUBECONFIG: "" } });
    if (r.status !== 0) throw new Error(`evaluating ${stack} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Evaluation;
}

/** Wall milliseconds of one process, its output read and thrown away. */
function timeProcess(args: string[]): number {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { cwd: PROJECT_DIR, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, KUBECONFIG: "", npm_lifecycle_event: "" } });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
    return ms;
}

/** `npm run plan`'s command without npm: package.json's script, its `node` this Node.js, its files in the project. */
export function planCommand(scripts: Readonly<Record<string, string>> = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")).scripts): string[] {
    const [node, ...args] = scripts.plan.trim().split(/\s+/);
    if (node !== "node") throw new Error(`package.json's plan script starts with ${node}, not node: the bench times it without npm`);
    return args.map((a) => (a.endsWith(".js") ? path.join(PROJECT_DIR, a) : a));
}

/** The prod plan as `npm run plan` runs it (its Node.js flags, the staleness check, then the compiled CLI), against the floor; alternating. */
function measureFloor(runs: number): Floor {
    const plan = [...planCommand(), "--stack", "prod", "--json"];
    const floor = ["-e", FLOOR_SCRIPT];
    timeProcess(floor); // warm the file cache for both
    timeProcess(plan);
    const planMs: number[] = [];
    const floorMs: number[] = [];
    for (let i = 0; i < runs; i++) {
        planMs.push(timeProcess(plan));
        floorMs.push(timeProcess(floor));
    }
    return floorOf(planMs, floorMs);
}

interface Target {
    readonly name: string;
    readonly value: string;
    readonly ok: boolean;
}

export function main(argv: string[] = process.argv.slice(2)): void {
    const json = argv.includes("--json");
    const flag = (name: string) => (argv.indexOf(name) >= 0 ? Number(argv[argv.indexOf(name) + 1]) : undefined);
    const runnerCpus = flag("--runner-cpus");
    const runs = Math.max(5, flag("--runs") ?? 7);

    const floor = measureFloor(runs);

    // Evaluation cost: generated stacks, each point the median of REPEATS processes.
    const evaluation: Array<{ nodes: number; canaries: number; ms: number; cpuMs: number }> = [];
    const plans = new Map<number, Plan>();
    const point = (nodes: number, canaries: number) => {
        const found = evaluation.find((e) => e.nodes === nodes && e.canaries === canaries);
        if (found) return found;
        const file = writeTempStackFile(generatedConfig(nodes, canaries));
        const runsHere = Array.from({ length: REPEATS }, () => evaluate("staging", file));
        if (canaries === 1) plans.set(nodes, runsHere[0].plan);
        const e = { nodes, canaries, ms: round(median(runsHere.map((r) => r.evaluationMs))), cpuMs: round(median(runsHere.map((r) => r.evaluationCpuMs))) };
        evaluation.push(e);
        return e;
    };
    const byNodes = NODES.map((n) => [n, point(n, 1).cpuMs]) as unknown as Points;
    const byCanaries = CANARIES.map((c) => [c, point(NODES[0], c).cpuMs]) as unknown as Points;
    const cost = slopesOf(byNodes, byCanaries);
    const slopes = {
        msPerNode: cost.msPerNode,
        msPerCanary: cost.msPerCanary,
        linear: cost.linear,
        measure: `CPU ms of the evaluation (user + system), median of ${REPEATS} processes per point`,
        msPerNodeUpTo50: cost.msPerNodeLow,
        msPerNodeFrom50To200: cost.msPerNodeHigh,
        msPerCanaryUpTo100: cost.msPerCanaryLow,
        msPerCanaryFrom100To500: cost.msPerCanaryHigh,
    };

    // The pulumi up model over the dependency graph (bench/up.ts).
    const stacks = new Map<number, StackGraph>();
    for (const nodes of MAKESPAN_NODES) {
        if (!plans.has(nodes)) plans.set(nodes, evaluate("staging", writeTempStackFile(generatedConfig(nodes, 1))).plan);
        const list = generatedConfig(nodes, 1)["oslo-mesh:nodes"] as Array<{ name: string; role: "control-plane" | "worker" }>;
        stacks.set(nodes, { resources: plans.get(nodes)!.resources, nodes: list.map(({ name, role }) => ({ name, role })) });
    }
    const up = upReport(stacks, runnerCpus);

    const targets: Target[] = [
        {
            name: `prod plan within ${FLOOR_RATIO_TARGET}× the SDKs' load time (median of ${runs} alternating runs each)`,
            value: `${floor.planMs} ms vs ${floor.floorMs} ms (×${floor.ratio})`,
            ok: floor.ratio <= FLOOR_RATIO_TARGET,
        },
        {
            name: `evaluation grows linearly: per node from 50 to 200 within ${LINEARITY_TARGET}× per node from 3 to 50`,
            value: `${cost.msPerNodeHigh} vs ${cost.msPerNodeLow} CPU ms per node (×${round(cost.msPerNodeHigh / cost.msPerNodeLow, 2)})`,
            ok: slopes.linear,
        },
        ...up.targets,
    ];

    if (json) {
        process.stdout.write(JSON.stringify({ floor, slopes, evaluation, parallel: up.parallel, makespan: up.makespan, criticalPath: up.criticalPath, criticalPathFirstUp: up.criticalPathFirstUp, baseline: up.baseline, targets }, null, 2) + "\n");
    } else {
        const lines = [
            `Prod plan against the floor (medians of ${runs} alternating runs, wall time):`,
            `  npm run plan -- --stack prod --json  ${String(floor.planMs).padStart(6)} ms`,
            `  node -e '<load the four SDKs>'       ${String(floor.floorMs).padStart(6)} ms`,
            `  ratio                                ${String(floor.ratio).padStart(6)}`,
            "",
            "Evaluation (mock runtime, median of 3 processes per point):",
            "  nodes  canaries   wall ms    CPU ms",
        ];
        for (const e of evaluation) lines.push(`  ${String(e.nodes).padStart(5)}  ${String(e.canaries).padStart(8)}  ${e.ms.toFixed(0).padStart(8)}  ${e.cpuMs.toFixed(0).padStart(8)}`);
        lines.push(
            `  per node:   ${slopes.msPerNode} CPU ms (3→50: ${cost.msPerNodeLow}, 50→200: ${cost.msPerNodeHigh})`,
            `  per canary: ${slopes.msPerCanary} CPU ms (1→100: ${slopes.msPerCanaryUpTo100}, 100→500: ${slopes.msPerCanaryFrom100To500})`,
        );
        lines.push("", ...formatUpReport(up));
        lines.push("", "Targets:", ...targets.map((t) => `  [${t.ok ? "ok" : "MISSED"}] ${t.name}: ${t.value}`));
        process.stdout.write(lines.join("\n") + "\n");
    }
    if (targets.some((t) => !t.ok)) process.exitCode = 1;
}

if (require.main === module) main();
