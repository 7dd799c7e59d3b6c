// Which nodes a roll replaces, and in which waves. Pure: it compares what the program registers
// (the offline plan, plan/run.ts) with what the stack holds (`pulumi stack export`).
//
// A node's machine is its VM (the `<node>-vm` command under the `oslo-mesh:vps:KvmVps` component
// named after it) and every resource that carries the node's machine trigger (roll/machine.ts).
// The node needs replacing when the stack holds its VM (or, for an inventory node, any of its
// steps) and any of them is missing or has other `triggers` than the program's: the
// replacement that @pulumi/command performs on a change of `triggers`.
import { machineOf } from "./machine";
import { keepsQuorum, Role } from "./rules";

export const KVM_VPS_TYPE = "oslo-mesh:vps:KvmVps";

/** A resource as both the plan (`--json`) and `pulumi stack export` (ResourceV3) carry it. */
export interface ResourceView {
    readonly urn: string;
    readonly type: string;
    readonly parent?: string | null;
    readonly inputs?: Record<string, unknown>;
    /** What it waits for: the plan's `dependsOn`, or the state's `dependencies` and `propertyDependencies`. */
    readonly dependsOn?: ReadonlyArray<string>;
    readonly dependencies?: ReadonlyArray<string>;
    readonly propertyDependencies?: Readonly<Record<string, ReadonlyArray<string>>>;
}

function waitsOn(r: ResourceView): string[] {
    return [...(r.dependsOn ?? []), ...(r.dependencies ?? []), ...Object.values(r.propertyDependencies ?? {}).flat()];
}

/** A machine's resources in the order a first creation makes them: by how many of them each waits behind, then by name. */
function inCreationOrder(resources: ReadonlyArray<ResourceView>): ResourceView[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const depth = new Map<string, number>();
    const depthOf = (r: ResourceView, seen: ReadonlySet<string> = new Set()): number => {
        if (!depth.has(r.urn)) {
            const inside = waitsOn(r).filter((u) => byUrn.has(u) && !seen.has(u));
            depth.set(r.urn, Math.max(-1, ...inside.map((u) => depthOf(byUrn.get(u)!, new Set([...seen, r.urn])))) + 1);
        }
        return depth.get(r.urn)!;
    };
    return [...resources].sort((a, b) => depthOf(a) - depthOf(b) || (nameOfUrn(a.urn) < nameOfUrn(b.urn) ? -1 : nameOfUrn(a.urn) > nameOfUrn(b.urn) ? 1 : 0));
}

export interface NodeSpec {
    readonly name: string;
    readonly role: Role;
}

export interface NodeMachine {
    readonly node: string;
    readonly role: Role;
    /** The VM first, then the steps on the node, in the order a first creation makes them. */
    readonly resources: ReadonlyArray<ResourceView>;
    /** "replace": the stack holds it with other triggers (or part of it); "new": the stack holds none of it. */
    readonly status: "unchanged" | "replace" | "new";
}

/** The URN's last part: the resource's name. */
export function nameOfUrn(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

function sameTriggers(a: ResourceView | undefined, b: ResourceView): boolean {
    return a !== undefined && JSON.stringify(a.inputs?.triggers ?? null) === JSON.stringify(b.inputs?.triggers ?? null);
}

/** Every node's machine, in the order of `nodes`, and whether the stack holds it as the program wants it. */
export function nodeMachines(nodes: ReadonlyArray<NodeSpec>, desired: ReadonlyArray<ResourceView>, deployed: ReadonlyArray<ResourceView>): NodeMachine[] {
    const held = new Map(deployed.map((r) => [r.urn, r]));
    return nodes.map((n) => {
        const component = desired.find((r) => r.type === KVM_VPS_TYPE && nameOfUrn(r.urn) === n.name);
        const vm = component && desired.find((r) => r.parent === component.urn && r.type.startsWith("command:") && nameOfUrn(r.urn) === `${n.name}-vm`);
        const steps = desired.filter((r) => machineOf(r.inputs)?.node === n.name);
        const resources = inCreationOrder([...(vm ? [vm] : []), ...steps]);
        const present = resources.filter((r) => held.has(r.urn));
        const status = present.length === 0 ? "new" : resources.every((r) => sameTriggers(held.get(r.urn), r)) ? "unchanged" : "replace";
        return { node: n.name, role: n.role, resources, status };
    });
}

export interface Wave {
    /** 1-based. */
    readonly index: number;
    readonly role: Role;
    readonly nodes: ReadonlyArray<string>;
    /** What its `pulumi up` targets: the gate, then each node's machine. */
    readonly targets: ReadonlyArray<string>;
}

export interface RollPlan {
    readonly waves: ReadonlyArray<Wave>;
    /** Nodes the stack does not hold yet: created, in parallel, by the closing `pulumi up`. */
    readonly newNodes: ReadonlyArray<string>;
    /** Why the roll cannot go ahead (each names what to do instead); empty when it can. */
    readonly refusals: ReadonlyArray<string>;
}

export interface RollOptions {
    readonly stack: string;
    readonly nodes: ReadonlyArray<NodeSpec>;
    readonly maxUnavailable: number;
    /** The rollout gate's URN, targeted by every wave so that it records what the wave applies. */
    readonly gateUrn: string;
    /** Replace a control plane although etcd cannot keep its quorum meanwhile (fewer than 3). */
    readonly allowQuorumLoss: boolean;
}

/**
 * Control planes one per wave, in the order of `nodes`, then workers `maxUnavailable` at a time.
 * The first control plane is never replaced (kubeadm init ran there); a control plane only with
 * three or more of them, unless the quorum loss is allowed.
 */
export function planRoll(machines: ReadonlyArray<NodeMachine>, opts: RollOptions): RollPlan {
    const refusals: string[] = [];
    const first = opts.nodes.find((n) => n.role === "control-plane")?.name;
    const replace = machines.filter((m) => m.status === "replace");
    const controlPlanes = opts.nodes.filter((n) => n.role === "control-plane").length;
    if (first !== undefined && replace.some((m) => m.node === first)) {
        refusals.push(
            `${first} is the first control plane: kubeadm init ran there, and a new machine would initialise a second cluster instead of rejoining this one. ` +
                `It is never replaced; leave what it is made from as it is (oslo-mesh:vps.image, its oslo-mesh:nodes entry, its hypervisor)`,
        );
    }
    const cps = replace.filter((m) => m.role === "control-plane" && m.node !== first);
    if (cps.length > 0 && !keepsQuorum(controlPlanes) && !opts.allowQuorumLoss) {
        refusals.push(
            `replacing ${cps.map((m) => m.node).join(", ")} cannot keep etcd's quorum with ${controlPlanes} control plane${controlPlanes === 1 ? "" : "s"}: ` +
                `while a member is replaced, the others must be a majority of the members, which takes 3 or more. ` +
                `Add control planes first, or run again with --allow-quorum-loss to accept that the cluster stops taking writes if the new member does not come up`,
        );
    }
    const workers = replace.filter((m) => m.role === "worker");
    const groups: NodeMachine[][] = [...cps.map((m) => [m])];
    for (let i = 0; i < workers.length; i += opts.maxUnavailable) groups.push(workers.slice(i, i + opts.maxUnavailable));
    const waves = groups.map((g, i) => ({
        index: i + 1,
        role: g[0].role,
        nodes: g.map((m) => m.node),
        targets: [opts.gateUrn, ...g.flatMap((m) => m.resources.map((r) => r.urn))],
    }));
    return { waves, newNodes: machines.filter((m) => m.status === "new").map((m) => m.node), refusals };
}

/**
 * The resources of `pulumi stack export` (an UntypedDeployment of version 3, resources as
 * apitype.ResourceV3: sdk/go/common/apitype/core.go at v3.248.0).
 */
export function parseStackExport(text: string): ResourceView[] {
    let doc: { version?: number; deployment?: { resources?: ResourceView[] } };
    try {
        doc = JSON.parse(text);
    } catch {
        throw new Error("`pulumi stack export` did not print JSON");
    }
    if (doc.version !== 3) throw new Error(`expected a version 3 deployment from \`pulumi stack export\`, got version ${doc.version}`);
    return doc.deployment?.resources ?? [];
}
