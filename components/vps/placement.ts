// Which hypervisor hosts which node: explicit choices stay; the rest are spread so that
// control-plane nodes land on different hypervisors whenever there are several.
import { HypervisorConfig, NodeConfig } from "./render";

export interface Placement {
    readonly node: NodeConfig;
    readonly hypervisor: HypervisorConfig;
}

export function placeNodes(nodes: ReadonlyArray<NodeConfig>, hypervisors: ReadonlyArray<HypervisorConfig>): Placement[] {
    if (hypervisors.length === 0) throw new Error("no hypervisor to place nodes on");
    const byName = new Map(hypervisors.map((h) => [h.name, h]));
    const load = new Map<string, { controlPlanes: number; all: number }>(hypervisors.map((h) => [h.name, { controlPlanes: 0, all: 0 }]));
    const count = (h: string, n: NodeConfig) => {
        const l = load.get(h)!;
        l.all++;
        if (n.role === "control-plane") l.controlPlanes++;
    };
    for (const n of nodes) if (n.hypervisor) count(n.hypervisor, n);
    // Control planes first, so they take the emptiest hypervisors; ties go to declaration order.
    const ordered = [...nodes.filter((n) => n.role === "control-plane"), ...nodes.filter((n) => n.role !== "control-plane")];
    const chosen = new Map<string, string>();
    for (const n of ordered) {
        if (n.hypervisor) continue;
        const key = (h: HypervisorConfig) => {
            const l = load.get(h.name)!;
            return n.role === "control-plane" ? [l.controlPlanes, l.all] : [l.all, l.controlPlanes];
        };
        const best = hypervisors.reduce((a, b) => {
            const [ka, kb] = [key(a), key(b)];
            return kb[0] < ka[0] || (kb[0] === ka[0] && kb[1] < ka[1]) ? b : a;
        });
        chosen.set(n.name, best.name);
        count(best.name, n);
    }
    return nodes.map((n) => {
        const h = byName.get(n.hypervisor ?? chosen.get(n.name)!);
        if (!h) throw new Error(`node ${n.name}: hypervisor ${n.hypervisor} is not declared`);
        return { node: n, hypervisor: h };
    });
}
