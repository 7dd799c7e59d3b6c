// The plan diff of a version bump as an upgrade: which nodes, in which order, doing what,
// read off the upgrade steps of the two plans (their TARGET_VERSION and ROLE parameters and
// the dependency graph), instead of a list of changed scripts.

/** What the summary needs of a planned resource (plan/run.ts PlanResource has it). */
export interface PlannedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly dependsOn: ReadonlyArray<string>;
    readonly inputs: Record<string, unknown>;
}

export interface UpgradeSummary {
    readonly from: string;
    readonly to: string;
    /** The summary's lines, for the diff. */
    readonly lines: string[];
    /** URNs of the upgrade steps the summary stands for. */
    readonly urns: Set<string>;
}

const STEP = /^(.*)-(upgrade|drain|uncordon)$/;

function param(r: PlannedResource, name: string): string | undefined {
    const script = r.inputs.create;
    if (typeof script !== "string") return undefined;
    return new RegExp(`^readonly ${name}='([^']*)'$`, "m").exec(script)?.[1];
}

function steps(resources: ReadonlyArray<PlannedResource>): PlannedResource[] {
    return resources.filter((r) => r.type === "command:remote:Command" && STEP.test(r.name) && param(r, "TARGET_VERSION") !== undefined);
}

/** The Kubernetes version a plan installs or converges to. */
function versionOf(resources: ReadonlyArray<PlannedResource>): string | undefined {
    for (const r of steps(resources)) return param(r, "TARGET_VERSION");
    for (const r of resources) {
        const v = param(r, "K8S_VERSION");
        if (v) return v;
    }
    return undefined;
}

/** The upgrade a head plan makes of a base plan, or undefined when the version does not change. */
export function describeUpgrade(base: ReadonlyArray<PlannedResource>, head: ReadonlyArray<PlannedResource>): UpgradeSummary | undefined {
    const [from, to] = [versionOf(base), versionOf(head)];
    const mine = steps(head);
    if (!from || !to || from === to || mine.length === 0) return undefined;
    const byUrn = new Map(mine.map((r) => [r.urn, r]));
    // Depth in the graph of upgrade steps: steps of equal depth run at the same time.
    const depth = new Map<string, number>();
    const depthOf = (r: PlannedResource): number => {
        if (!depth.has(r.urn)) depth.set(r.urn, 1 + Math.max(0, ...r.dependsOn.filter((u) => byUrn.has(u)).map((u) => depthOf(byUrn.get(u)!))));
        return depth.get(r.urn)!;
    };
    const waves = new Map<number, string[]>();
    const what = new Map<string, string>();
    for (const r of mine) {
        const [, node, kind] = STEP.exec(r.name)!;
        if (kind === "upgrade") {
            const role = param(r, "ROLE");
            what.set(node, role === "first-control-plane" ? `kubeadm upgrade plan + apply v${to} (first control plane)` : role === "control-plane" ? "kubeadm upgrade node (control plane)" : "drain, kubeadm upgrade node, new kubelet and kubectl, uncordon (worker)");
        }
        if (kind === "drain" || (kind === "upgrade" && param(r, "ROLE") !== "worker")) {
            const d = depthOf(r);
            waves.set(d, [...(waves.get(d) ?? []), node]);
        }
    }
    const lines = [`Kubernetes upgrade ${from} → ${to}, in place, in this order (each step waits for the one before):`];
    [...waves.keys()]
        .sort((a, b) => a - b)
        .forEach((d, i) => {
            const nodes = waves.get(d)!.sort();
            lines.push(`  ${i + 1}. ${nodes.join(", ")}: ${what.get(nodes[0])}${nodes.length > 1 ? `, ${nodes.length} at once` : ""}`);
        });
    return { from, to, lines, urns: new Set(mine.map((r) => r.urn)) };
}
