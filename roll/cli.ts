// npm run roll -- --stack <s> [--dry-run] [--allow-quorum-loss] [--health-timeout DURATION] [--poll DURATION]
// Applies a change that replaces nodes (what a VM is made from: oslo-mesh:vps.image, a node's
// size or hypervisor) wave by wave, with the cluster serving: control planes one at a time, then
// workers oslo-mesh:rollout.maxUnavailable at a time, each wave a targeted `pulumi up` of the
// rollout gate and the wave's machines (roll/waves.ts), the next one only once every node is
// Ready and etcd is healthy again (roll/health.ts). A closing plain `pulumi up` creates new nodes
// (in parallel, as a first creation does) and applies whatever else changed.
//
// Exit status: 0 rolled (or nothing to roll, or --dry-run); 1 a wave or the closing update failed,
// or the cluster was not healthy in time (the next wave did not start); 2 bad usage or
// configuration, or a roll that must not go ahead (the first control plane, etcd's quorum);
// 4 another run holds the stack's lock.
import "../plan/lazySdk"; // first: @pulumi/pulumi would load modules the plan does not use (TypeScript, npm, the Automation API)
import * as fs from "fs";
import { parseArgs as parseCommandLine } from "util";
import { durationMs } from "../components/istio/validate";
import { acquireLock, Lock, LockHeld } from "../canary/lock";
import { apiServerFromKubeconfig } from "../canary/prometheus";
import { pulumiCli, upCommandLine } from "../canary/pulumi";
import { stackNameOf } from "../canary/state";
import { stackFilePath } from "../canary/stackFile";
import { readStackFile } from "../plan/stackFile";
import { parseStackConfig } from "../stacks/parse";
import { formatProblem } from "../stacks/problems";
import { StackConfig } from "../stacks/schema";
import { ROLLOUT_GATE_TYPE } from "./gate";
import { HealthExpectation, readCluster, waitUntilHealthy } from "./health";
import { ROLL_WAVE_ENV } from "./rules";
import { nameOfUrn, nodeMachines, parseStackExport, planRoll, ResourceView, RollPlan, Wave } from "./waves";

const USAGE = "usage: npm run roll -- --stack <stack> [--dry-run] [--allow-quorum-loss] [--health-timeout DURATION] [--poll DURATION]";

export class UsageError extends Error {}

export interface RollArgs {
    readonly stack: string;
    readonly dryRun: boolean;
    readonly allowQuorumLoss: boolean;
    /** How long a wave may take to become healthy, and the cluster before the first wave. */
    readonly healthTimeoutMs: number;
    /** The same as given (15m, 30s, 500ms): how the roll prints it. */
    readonly healthTimeout: string;
    /** Pause between two looks at the cluster. */
    readonly pollMs: number;
}

export function parseArgs(argv: ReadonlyArray<string>): RollArgs {
    let values;
    try {
        ({ values } = parseCommandLine({
            args: [...argv],
            options: {
                stack: { type: "string" },
                "dry-run": { type: "boolean", default: false },
                "allow-quorum-loss": { type: "boolean", default: false },
                "health-timeout": { type: "string", default: "15m" },
                poll: { type: "string", default: "10s" },
            },
            strict: true,
            allowPositionals: false,
        }));
    } catch (e) {
        throw new UsageError(`${(e as Error).message}\n${USAGE}`);
    }
    if (!values.stack) throw new UsageError(`--stack is required\n${USAGE}`);
    const duration = (flag: string, text: string) => {
        try {
            return durationMs(text);
        } catch {
            throw new UsageError(`${flag} must be a duration such as 30s or 15m, got ${text}`);
        }
    };
    return {
        stack: values.stack,
        dryRun: values["dry-run"],
        allowQuorumLoss: values["allow-quorum-loss"],
        healthTimeoutMs: duration("--health-timeout", values["health-timeout"]),
        healthTimeout: values["health-timeout"],
        pollMs: duration("--poll", values.poll),
    };
}

export interface RollIo {
    /** The project directory (Pulumi.yaml, Pulumi.<stack>.yaml). */
    readonly dir: string;
    /** Environment of the Pulumi CLI (its PATH finds it). */
    readonly env: NodeJS.ProcessEnv;
    readonly out: (text: string) => void;
    readonly err: (text: string) => void;
    /** Where `pulumi up` writes: the terminal, or `out`. */
    readonly upOutput: "inherit" | "out";
    /** What the program registers for the stack; by default the offline plan of this project (plan/run.ts). */
    readonly desired?: (stack: string, configFile: string) => Promise<ReadonlyArray<ResourceView>>;
    /** How to wait between looks at the cluster. */
    readonly sleep?: (ms: number) => Promise<void>;
}

const processIo: RollIo = {
    dir: process.cwd(),
    env: process.env,
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    upOutput: "inherit",
};

async function planOfProgram(stack: string, configFile: string): Promise<ReadonlyArray<ResourceView>> {
    // Loaded only here: it installs Pulumi's mock runtime in this process.
    const { runPlan } = require("../plan/run") as typeof import("../plan/run");
    return (await runPlan({ stack, configFile })).plan.resources;
}

function loadConfig(stack: string, file: string): StackConfig {
    if (!fs.existsSync(file)) throw new UsageError(`no stack file ${file}`);
    let view;
    try {
        view = readStackFile(file);
    } catch (e) {
        throw new UsageError((e as Error).message);
    }
    const { config, problems } = parseStackConfig(stack, { values: view.values, isSecret: (k) => view.secretKeys.includes(k) });
    if (!config) throw new UsageError(`the stack configuration has problems:\n  ${problems.map(formatProblem).join("\n  ")}`);
    return config;
}

/** The waves as `--dry-run` prints them. */
export function describeRoll(stack: string, plan: RollPlan, maxUnavailable: number, healthTimeout: string): string[] {
    const lines: string[] = [];
    const replaced = plan.waves.reduce((n, w) => n + w.nodes.length, 0);
    lines.push(`roll of stack ${stack}: ${replaced} node${replaced === 1 ? "" : "s"} to replace in ${plan.waves.length} wave${plan.waves.length === 1 ? "" : "s"} (control planes one at a time, then oslo-mesh:rollout.maxUnavailable = ${maxUnavailable} worker${maxUnavailable === 1 ? "" : "s"} at a time)`);
    const width = Math.max(0, ...plan.waves.map((w) => w.nodes.join(", ").length));
    for (const w of plan.waves) {
        const resources = w.targets.slice(1).map(nameOfUrn).join(", ");
        lines.push(`  wave ${w.index}  ${(w.role === "control-plane" ? "control plane" : "worker").padEnd(13)}  ${w.nodes.join(", ").padEnd(width)}  replaces ${resources}`);
    }
    const closing = plan.newNodes.length > 0 ? `creates ${plan.newNodes.join(", ")} (in parallel) and applies everything else` : "applies everything else";
    lines.push(`  then    pulumi up      ${closing}`);
    if (plan.waves.length > 0) {
        lines.push(
            `Each wave runs ${ROLL_WAVE_ENV}=<its nodes> pulumi up --stack ${stack} --target <rollout-gate> --target <each resource above> --yes, ` +
                `then waits until every node is Ready and schedulable and etcd is healthy (at most ${healthTimeout}) before the next wave starts.`,
        );
    }
    return lines;
}

function upLine(stack: string, wave: Wave | undefined, targets: ReadonlyArray<string>): string {
    return `$ ${wave ? `${ROLL_WAVE_ENV}=${wave.nodes.join(",")} ` : ""}${upCommandLine(stack, targets)}`;
}

class RollFailed extends Error {}

export async function main(argv: ReadonlyArray<string>, io: RollIo = processIo): Promise<number> {
    let lock: Lock | undefined;
    try {
        const args = parseArgs(argv);
        const stackName = stackNameOf(args.stack);
        const stackFile = stackFilePath(io.dir, stackName);
        const config = loadConfig(stackName, stackFile);
        lock = acquireLock(`${stackFile}.roll.lock`, "roll");
        const desired = await (io.desired ?? planOfProgram)(stackName, stackFile);
        const pulumi = pulumiCli(io.dir, io.env, io.upOutput === "inherit" ? "inherit" : io.out);
        const deployed = parseStackExport(pulumi.exportStack(args.stack));
        const gate = desired.find((r) => r.type === ROLLOUT_GATE_TYPE);
        if (!gate) throw new Error(`the program registers no ${ROLLOUT_GATE_TYPE}`);
        const machines = nodeMachines(config.nodes, desired, deployed);
        const plan = planRoll(machines, { stack: args.stack, nodes: config.nodes, maxUnavailable: config.rollout.maxUnavailable, gateUrn: gate.urn, allowQuorumLoss: args.allowQuorumLoss });
        for (const line of describeRoll(args.stack, plan, config.rollout.maxUnavailable, args.healthTimeout)) io.out(line);
        if (plan.refusals.length > 0) {
            for (const r of plan.refusals) io.err(`refused: ${r}`);
            return 2;
        }
        if (args.dryRun) return 0;

        const existing = machines.filter((m) => m.status !== "new");
        const controlPlanes = existing.filter((m) => m.role === "control-plane").map((m) => m.node);
        let api: ReturnType<typeof apiServerFromKubeconfig> | undefined;
        const healthy = async (what: string, want: HealthExpectation) => {
            api ??= apiServerFromKubeconfig(pulumi.kubeconfig(args.stack));
            const server = api;
            io.out(`waiting until ${what} (at most ${args.healthTimeout})`);
            const problems = await waitUntilHealthy(() => readCluster(server, want.controlPlanes), want, { timeoutMs: args.healthTimeoutMs, pollMs: args.pollMs, sleep: io.sleep });
            if (problems.length > 0) throw new RollFailed(`${what}: not so after ${args.healthTimeout}:\n  ${problems.join("\n  ")}`);
            io.out(`healthy: ${what}`);
        };
        for (const wave of plan.waves) {
            const others = existing.map((m) => m.node).filter((n) => !wave.nodes.includes(n));
            await healthy(`the cluster is healthy before wave ${wave.index}`, { ready: others, schedulable: others, controlPlanes: controlPlanes.filter((c) => !wave.nodes.includes(c)) });
            io.out(`wave ${wave.index}: replacing ${wave.nodes.join(", ")}`);
            io.out(upLine(args.stack, wave, wave.targets));
            const status = pulumiCli(io.dir, { ...io.env, [ROLL_WAVE_ENV]: wave.nodes.join(",") }, io.upOutput === "inherit" ? "inherit" : io.out).up(args.stack, wave.targets);
            if (status !== 0) {
                throw new RollFailed(
                    `wave ${wave.index} (${wave.nodes.join(", ")}): pulumi up exited ${status}; no further wave started. ` +
                        `Fix what it reports and run npm run roll again: it goes on with the nodes still to replace`,
                );
            }
            const all = existing.map((m) => m.node);
            await healthy(`wave ${wave.index} (${wave.nodes.join(", ")}) is Ready${wave.role === "control-plane" ? " and etcd is healthy" : ""}`, { ready: all, schedulable: [...wave.nodes], controlPlanes });
        }
        io.out(upLine(args.stack, undefined, []));
        const status = pulumiCli(io.dir, io.env, io.upOutput === "inherit" ? "inherit" : io.out).up(args.stack, []);
        if (status !== 0) throw new RollFailed(`the closing pulumi up exited ${status}`);
        io.out(`rolled: ${plan.waves.length} wave${plan.waves.length === 1 ? "" : "s"}, then the rest`);
        return 0;
    } catch (e) {
        if (e instanceof UsageError || e instanceof LockHeld || e instanceof RollFailed) io.err(e.message);
        else io.err(`roll failed: ${(e as Error).message}`);
        return e instanceof UsageError ? 2 : e instanceof LockHeld ? 4 : 1;
    } finally {
        lock?.release();
    }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
