// The `pulumi up` part of the benchmark: the simulated makespan of generated stacks at Pulumi's
// default parallelism and at the one the release flow sets, the critical path of the 3-node
// stack against the program's graph before issue 20 (bench/baseline-3-nodes.json), and the
// targets on them.
import * as fs from "fs";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { PROJECT_DIR } from "../plan/project";
import { PlanResource } from "../plan/run";
import { loadBaseline } from "./baseline";
import { DEFAULT_PARALLEL } from "./durations";
import { byHandSeconds, CriticalStep, ModelNode, schedule, unneededNodeWaits } from "./model";

export const MAKESPAN_NODES = [3, 10, 50];
/** makespan(50 nodes) may be this many times makespan(3 nodes), at the configured parallelism. */
export const SCALE_TARGET = 1.3;
/** The 3-node critical path may be this share of the same stack's before issue 20. */
export const CRITICAL_PATH_TARGET = 0.75;

const RELEASE_WORKFLOW = path.join(PROJECT_DIR, ".github", "workflows", "release.yml");

/** The parallelism the release flow sets for `pulumi up` (PULUMI_PARALLEL in release.yml's env). */
export function configuredParallel(file = RELEASE_WORKFLOW): number {
    const wf = jsyaml.load(fs.readFileSync(file, "utf8")) as { env?: Record<string, unknown> };
    const value = Number(wf.env?.PULUMI_PARALLEL);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${file}: env.PULUMI_PARALLEL must be set to a positive integer, got ${JSON.stringify(wf.env?.PULUMI_PARALLEL)}`);
    return value;
}

/** The CLI's own default on the runner: 4 × its CPUs. */
export function defaultParallel(runnerCpus = DEFAULT_PARALLEL.runnerCpus.value): number {
    return DEFAULT_PARALLEL.perCpu.value * runnerCpus;
}

export interface StackGraph {
    readonly resources: ReadonlyArray<PlanResource>;
    readonly nodes: ReadonlyArray<ModelNode>;
}

export interface Target {
    readonly name: string;
    readonly value: string;
    readonly ok: boolean;
}

export interface UpReport {
    readonly parallel: { readonly default: number; readonly configured: number };
    /**
     * `seconds`: the first `pulumi up` on fresh hypervisors (the node images are built in it);
     * `secondsWithNodeImages`: any later one, or another stack on the same pools (the images are there).
     */
    readonly makespan: Array<{
        nodes: number;
        parallel: number;
        seconds: number;
        secondsWithNodeImages: number;
        /** The cluster and the mesh up (day 2's checks, which nothing waits for, may still run): first up, and with the images in place. */
        meshReadySeconds: number;
        meshReadySecondsWithNodeImages: number;
        sequentialSeconds: number;
    }>;
    /** Of the 3-node stack at the configured parallelism, with the node images in place. */
    readonly criticalPath: CriticalStep[];
    /** The same on fresh hypervisors, where the node images are built first. */
    readonly criticalPathFirstUp: CriticalStep[];
    /** The same stack before issue 20 (the chart waiting for a worker), same model, same parallelism. */
    readonly baseline: { readonly commit: string; readonly seconds: number; readonly criticalPath: CriticalStep[] };
    readonly targets: Target[];
}

export function upReport(stacks: ReadonlyMap<number, StackGraph>, runnerCpus?: number): UpReport {
    const parallel = { default: defaultParallel(runnerCpus), configured: configuredParallel() };
    const makespan: UpReport["makespan"] = [];
    for (const nodes of MAKESPAN_NODES) {
        const g = stacks.get(nodes);
        if (!g) throw new Error(`no plan of ${nodes} nodes`);
        const sequentialSeconds = byHandSeconds(g.resources, g.nodes);
        for (const p of [parallel.default, parallel.configured]) {
            const first = schedule(g.resources, g.nodes, p);
            const later = schedule(g.resources, g.nodes, p, { nodeImagesPresent: true });
            makespan.push({
                nodes,
                parallel: p,
                seconds: first.makespan,
                secondsWithNodeImages: later.makespan,
                meshReadySeconds: first.meshReady,
                meshReadySecondsWithNodeImages: later.meshReady,
                sequentialSeconds,
            });
        }
    }
    const three = stacks.get(3)!;
    const now = schedule(three.resources, three.nodes, parallel.configured, { nodeImagesPresent: true });
    const firstUp = schedule(three.resources, three.nodes, parallel.configured);
    const before = loadBaseline();
    const then = schedule(before.resources, before.nodes, parallel.configured);
    const at = (n: number) => makespan.find((m) => m.nodes === n && m.parallel === parallel.configured)!;
    const span = (n: number) => at(n).seconds;
    const fifty = stacks.get(50)!;
    const unneeded = unneededNodeWaits(fifty.resources, fifty.nodes);
    const targets: Target[] = [
        {
            name: `the mesh up for 50 nodes within ${SCALE_TARGET}× of 3 nodes at the configured parallelism (${parallel.configured}), on fresh hypervisors and with the node images in place (the whole up, day 2's serial upgrade checks included: ×${(span(50) / span(3)).toFixed(2)})`,
            value: `${at(50).meshReadySeconds} s vs ${at(3).meshReadySeconds} s (×${(at(50).meshReadySeconds / at(3).meshReadySeconds).toFixed(3)}); ${at(50).meshReadySecondsWithNodeImages} s vs ${at(3).meshReadySecondsWithNodeImages} s (×${(at(50).meshReadySecondsWithNodeImages / at(3).meshReadySecondsWithNodeImages).toFixed(3)})`,
            ok: at(50).meshReadySeconds <= SCALE_TARGET * at(3).meshReadySeconds && at(50).meshReadySecondsWithNodeImages <= SCALE_TARGET * at(3).meshReadySecondsWithNodeImages,
        },
        {
            name: `the 3-node critical path with the node images in place within ${CRITICAL_PATH_TARGET}× of the same stack's before issue 20 (${before.commit.slice(0, 7)}; the first up on fresh hypervisors, which builds them, is not held to it)`,
            value: `${now.makespan} s vs ${then.makespan} s (×${(now.makespan / then.makespan).toFixed(3)}); first up ${firstUp.makespan} s (×${(firstUp.makespan / then.makespan).toFixed(3)})`,
            ok: now.makespan <= CRITICAL_PATH_TARGET * then.makespan,
        },
        { name: "no node's step waits on a node it does not need (50 nodes)", value: unneeded.length ? unneeded.slice(0, 3).join("; ") : "none", ok: unneeded.length === 0 },
    ];
    return { parallel, makespan, criticalPath: now.criticalPath, criticalPathFirstUp: firstUp.criticalPath, baseline: { commit: before.commit, seconds: then.makespan, criticalPath: then.criticalPath }, targets };
}

/** The report as text. */
export function formatUpReport(r: UpReport): string[] {
    const lines = [
        `Simulated pulumi up (bench/model.ts, durations and their sources in bench/durations.ts); parallelism: CLI default ${r.parallel.default} (4 × ${r.parallel.default / 4} CPUs), configured ${r.parallel.configured} (PULUMI_PARALLEL in release.yml):`,
        "  (mesh up / the whole up, day 2's checks included)",
        "  nodes  parallel   first up s  node images in place s  by hand, one after another s",
    ];
    const both = (a: number, b: number) => `${a} / ${b}`;
    for (const m of r.makespan) {
        lines.push(`  ${String(m.nodes).padStart(5)}  ${String(m.parallel).padStart(8)}  ${both(m.meshReadySeconds, m.seconds).padStart(11)}  ${both(m.meshReadySecondsWithNodeImages, m.secondsWithNodeImages).padStart(22)}  ${String(Math.round(m.sequentialSeconds)).padStart(28)}`);
    }
    const path = (cp: CriticalStep[]) => cp.map((c) => `  ${String(c.seconds).padStart(6)} s  ${c.urn.split("::").pop()}`);
    const total = (cp: CriticalStep[]) => Math.round(cp.reduce((a, c) => a + c.seconds, 0) * 10) / 10;
    lines.push("", `Critical path of 3 nodes at parallelism ${r.parallel.configured}, node images in place (${total(r.criticalPath)} s):`, ...path(r.criticalPath));
    lines.push("", `The same on fresh hypervisors, the node images built first (${total(r.criticalPathFirstUp)} s):`, ...path(r.criticalPathFirstUp));
    lines.push("", `The same before issue 20 (${r.baseline.commit.slice(0, 7)}, ${r.baseline.seconds} s):`, ...path(r.baseline.criticalPath));
    return lines;
}
