// The duration model of `pulumi up` and a scheduler over the plan's dependency graph.
// Durations are estimates (seconds) for KVM on NVMe in Oslo; they are documented in the README
// and meant for comparing shapes of the graph, not for promising wall-clock times.
import { waitsFor } from "../plan/graph";
import { PlanResource } from "../plan/run";

/** Seconds per step, matched on the resource's type and name. The first match wins. */
export const DURATIONS: ReadonlyArray<{ step: string; seconds: number; match: (r: Pick<PlanResource, "type" | "name">) => boolean }> = [
    { step: "VM create and boot", seconds: 90, match: (r) => r.type.startsWith("command:") && r.name.endsWith("-vm") },
    { step: "node preparation", seconds: 240, match: (r) => r.name.endsWith("-prepare") },
    { step: "host firewall", seconds: 5, match: (r) => r.name.endsWith("-firewall") },
    { step: "kubeadm init", seconds: 150, match: (r) => r.name.endsWith("-init") },
    { step: "CNI", seconds: 45, match: (r) => r.name.endsWith("-cni") },
    { step: "admit (token, certificates)", seconds: 5, match: (r) => r.name.endsWith("-admit") },
    { step: "kubeadm join", seconds: 60, match: (r) => r.name.endsWith("-join") },
    { step: "node registered", seconds: 15, match: (r) => r.name.endsWith("-registered") },
    { step: "kubeconfig", seconds: 2, match: (r) => r.name.endsWith("-kubeconfig") },
    { step: "Istio CRD established", seconds: 3, match: (r) => r.type.endsWith(":CustomResourceDefinition") },
    { step: "namespace", seconds: 1, match: (r) => r.type === "kubernetes:core/v1:Namespace" },
    // Offline the chart has no children: its rollout (pilot, citadel, galley, gateways, Mixer) is counted here.
    { step: "Istio chart rollout", seconds: 300, match: (r) => r.type === "kubernetes:helm.sh/v3:Chart" },
    { step: "Istio custom resource", seconds: 1, match: (r) => r.type.includes(".istio.io/") },
    { step: "random value", seconds: 0.1, match: (r) => r.type.startsWith("random:") },
];

export function durationOf(r: Pick<PlanResource, "type" | "name" | "custom">): number {
    const d = DURATIONS.find((x) => x.match(r));
    if (d) return d.seconds;
    return 0; // components and providers take no time of their own
}

/** A step of `pulumi up`: a custom resource, or a component that takes time of its own (a chart's rollout). */
function isStep(r: Pick<PlanResource, "type" | "name" | "custom">): boolean {
    return r.custom || durationOf(r) > 0;
}

export interface Schedule {
    /** When the last step finishes, in seconds. */
    readonly makespan: number;
    /** The chain of resources that bounds it, first to last. */
    readonly criticalPath: string[];
    /** Every step done by hand, one after another. */
    readonly sequential: number;
}

/**
 * Simulates `pulumi up` over the dependency graph: a resource starts once everything it waits
 * for is done (a component is done when its children are) and a slot is free, at most
 * `parallelism` at once (Pulumi's default is unbounded).
 */
export function schedule(resources: ReadonlyArray<PlanResource>, parallelism = Number.POSITIVE_INFINITY): Schedule {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const children = new Map<string, string[]>();
    for (const r of resources) if (r.parent && byUrn.has(r.parent)) children.set(r.parent, [...(children.get(r.parent) ?? []), r.urn]);
    // What a resource really waits for: components stand for their custom descendants.
    const expand = (urn: string, seen = new Set<string>()): string[] => {
        if (seen.has(urn)) return [];
        seen.add(urn);
        const r = byUrn.get(urn);
        if (!r) return [];
        if (isStep(r)) return [urn];
        return (children.get(urn) ?? []).flatMap((c) => expand(c, seen));
    };
    const steps = resources.filter(isStep);
    const waits = new Map(steps.map((r) => [r.urn, [...new Set(r.dependsOn.flatMap((d) => expand(d)))].filter((d) => d !== r.urn)]));
    const finish = new Map<string, number>();
    const via = new Map<string, string | undefined>();
    const pending = new Set(steps.map((r) => r.urn));
    const running: Array<{ urn: string; end: number }> = [];
    let now = 0;
    while (pending.size > 0 || running.length > 0) {
        const ready = [...pending].filter((u) => waits.get(u)!.every((d) => finish.has(d) && finish.get(d)! <= now)).sort();
        for (const urn of ready) {
            if (running.length >= parallelism) break;
            pending.delete(urn);
            const deps = waits.get(urn)!;
            const last = deps.reduce<string | undefined>((a, d) => (a === undefined || finish.get(d)! > finish.get(a)! ? d : a), undefined);
            via.set(urn, last);
            running.push({ urn, end: now + durationOf(byUrn.get(urn)!) });
        }
        if (running.length === 0) {
            if (pending.size > 0) throw new Error(`the graph has a cycle or a missing dependency: ${[...pending].slice(0, 3).join(", ")}`);
            break;
        }
        running.sort((a, b) => a.end - b.end || (a.urn < b.urn ? -1 : 1));
        now = running[0].end;
        while (running.length > 0 && running[0].end <= now) {
            const done = running.shift()!;
            finish.set(done.urn, done.end);
        }
    }
    const last = [...finish.entries()].reduce<[string, number] | undefined>((a, e) => (a === undefined || e[1] > a[1] ? e : a), undefined);
    const path: string[] = [];
    for (let u = last?.[0]; u !== undefined; u = via.get(u)) path.unshift(u);
    return {
        makespan: Math.max(0, ...finish.values()),
        criticalPath: path,
        sequential: steps.reduce((a, r) => a + durationOf(r), 0),
    };
}

const DAY2_ORDERED_STEP = /-(upgrade|drain|uncordon|etcd-snapshots|certificate-renewal)$/;

/**
 * Steps of one node that wait, directly or not, on another node they have no need of. A node's
 * steps may wait on the first control plane (kubeadm init runs there) and a control plane's
 * join on the control planes before it (they join one at a time); nothing else.
 */
export function unneededNodeWaits(resources: ReadonlyArray<PlanResource>, nodes: ReadonlyArray<{ name: string; role: string }>): string[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const ownerOf = (name: string) => nodes.find((n) => name === n.name || name.startsWith(`${n.name}-`))?.name;
    const controlPlanes = nodes.filter((n) => n.role === "control-plane").map((n) => n.name);
    const found: string[] = [];
    for (const r of resources) {
        const owner = ownerOf(r.name);
        if (!owner) continue;
        // Day-2 upgrade steps follow kubeadm's order across nodes on purpose (control planes one at
        // a time, then workers in bounded batches: components/kubernetes/day2/upgrade); nothing of
        // the bootstrap waits on them.
        if (DAY2_ORDERED_STEP.test(r.name)) continue;
        const allowed = new Set([owner, controlPlanes[0]]);
        const k = controlPlanes.indexOf(owner);
        for (const cp of controlPlanes.slice(0, Math.max(0, k))) allowed.add(cp);
        for (const u of waitsFor(resources, r)) {
            const d = byUrn.get(u);
            const other = d && ownerOf(d.name);
            if (other && !allowed.has(other)) found.push(`${r.name} waits on ${d.name}`);
        }
    }
    return found;
}
