// What one `pulumi up` may replace. A change to what a VM is made from replaces the node (its
// VM and every step on it, roll/machine.ts); the rollout gate (roll/gate.ts) refuses at preview a
// run that would replace more than one wave at once:
// - never the first control plane: kubeadm init ran there, and a new VM would initialise a second
//   cluster instead of rejoining this one;
// - at most one control plane, and only while etcd keeps its quorum through the replacement
//   (three control planes or more: the old member is removed, then the new one is added before it
//   has started, so n-1 of n members must be a majority);
// - at most `rollout.maxUnavailable` workers, and not together with a control plane.
// `npm run roll` applies a bigger change wave by wave; it names the nodes of the wave it applies
// in OSLO_MESH_ROLL_WAVE, and the gate then records only those nodes as replaced.
//
// Imports nothing: it travels in the Pulumi state with the gate's provider (components/shared/previewGate.ts).

export type Role = "control-plane" | "worker";

export interface RolloutNode {
    readonly role: Role;
    /** KvmVps.recipeDigest: changes exactly when the node's machine is replaced. */
    readonly recipe: string;
}

export interface RolloutGateInputs {
    /** The stack, for the command the messages point to. */
    readonly stack: string;
    /** The first control plane, where kubeadm init ran. */
    readonly first: string;
    /** oslo-mesh:rollout.maxUnavailable. */
    readonly maxUnavailable: number;
    readonly nodes: Readonly<Record<string, RolloutNode>>;
    /** The nodes `npm run roll` applies in this run (OSLO_MESH_ROLL_WAVE); absent for a plain `pulumi up`. */
    readonly wave?: ReadonlyArray<string>;
}

/** The environment variable `npm run roll` sets for the targeted `pulumi up` of a wave. */
export const ROLL_WAVE_ENV = "OSLO_MESH_ROLL_WAVE";

/** The wave named in the environment: node names, comma-separated; undefined when unset. */
export function waveFromEnv(env: Readonly<Record<string, string | undefined>>): string[] | undefined {
    const v = env.OSLO_MESH_ROLL_WAVE;
    if (v === undefined || v.trim() === "") return undefined;
    return v.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Members n of which n-1 are still a majority: etcd keeps its quorum while one is replaced. */
export function keepsQuorum(controlPlanes: number): boolean {
    return controlPlanes - 1 >= Math.floor(controlPlanes / 2) + 1;
}

/** The nodes whose machine this run would replace: in both, with another recipe. */
export function replacedNodes(olds: Partial<RolloutGateInputs> | undefined, news: RolloutGateInputs): string[] {
    const before = olds?.nodes;
    if (!before) return [];
    return Object.keys(news.nodes).filter((n) => before[n] !== undefined && before[n].recipe !== news.nodes[n].recipe);
}

function list(names: ReadonlyArray<string>): string {
    return names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

export function rolloutVerdict(olds: Partial<RolloutGateInputs> | undefined, news: RolloutGateInputs): { inputs: RolloutGateInputs; problems: string[] } {
    const { wave, ...recorded } = news;
    const problems: string[] = [];
    const roll = `npm run roll -- --stack ${news.stack}`;
    const replaced = replacedNodes(olds, news);
    const isControlPlane = (n: string) => news.nodes[n].role === "control-plane";
    const controlPlanes = Object.keys(news.nodes).filter(isControlPlane).length;

    if (olds?.first !== undefined && olds.first !== news.first && olds.nodes?.[olds.first] !== undefined) {
        problems.push(
            `the first control plane would change from ${olds.first} to ${news.first}: kubeadm init ran on ${olds.first}, which holds the cluster; keep it first in oslo-mesh:nodes`,
        );
    }
    if (replaced.includes(news.first)) {
        problems.push(
            `this change replaces the VM of ${news.first}, the first control plane: kubeadm init ran there, and a new machine would initialise a second cluster instead of rejoining this one. ` +
                `Neither pulumi up nor npm run roll replaces it: leave what it is made from as it is (oslo-mesh:vps.image, its oslo-mesh:nodes entry, its hypervisor)`,
        );
    }

    if (wave !== undefined) {
        const unknown = wave.filter((n) => news.nodes[n] === undefined);
        if (unknown.length > 0) problems.push(`${ROLL_WAVE_ENV} names ${list(unknown)}, not a node of stack ${news.stack}`);
        const inWave = replaced.filter((n) => wave.includes(n) && n !== news.first);
        const cps = inWave.filter(isControlPlane);
        const workers = inWave.filter((n) => !isControlPlane(n));
        if (cps.length > 1) problems.push(`a wave replaces one control plane at a time, not ${list(cps)}`);
        if (workers.length > news.maxUnavailable) problems.push(`a wave replaces at most oslo-mesh:rollout.maxUnavailable = ${news.maxUnavailable} workers, not ${list(workers)}`);
        if (cps.length > 0 && workers.length > 0) problems.push(`a wave replaces control planes or workers, not both (${list(inWave)})`);
        // The nodes outside the wave are not applied by this run: the gate keeps their old recipe.
        const nodes: Record<string, RolloutNode> = {};
        for (const [n, node] of Object.entries(news.nodes)) nodes[n] = replaced.includes(n) && !wave.includes(n) ? { role: node.role, recipe: olds!.nodes![n].recipe } : node;
        return { inputs: { ...recorded, nodes }, problems };
    }

    const cps = replaced.filter((n) => isControlPlane(n) && n !== news.first);
    const workers = replaced.filter((n) => !isControlPlane(n));
    const why: string[] = [];
    if (cps.length > 1) why.push(`the VMs of control planes ${list(cps)} at once: etcd would lose its quorum`);
    else if (cps.length === 1 && !keepsQuorum(controlPlanes)) {
        why.push(`the VM of control plane ${cps[0]} with ${controlPlanes} control planes: etcd cannot keep its quorum while a member is replaced (that takes 3 or more)`);
    }
    if (workers.length > news.maxUnavailable) why.push(`${workers.length} workers at once (${list(workers)}), more than oslo-mesh:rollout.maxUnavailable = ${news.maxUnavailable}`);
    if (cps.length > 0 && workers.length > 0 && why.length === 0) why.push(`a control plane and workers at once (${list([...cps, ...workers])})`);
    for (const w of why) {
        const flag = w.includes("cannot keep its quorum") ? " --allow-quorum-loss" : "";
        problems.push(`this change replaces ${w}. Roll it out node by node, each wave once the previous one is healthy: ${roll}${flag} (add --dry-run to see the waves)`);
    }
    return { inputs: recorded, problems };
}
