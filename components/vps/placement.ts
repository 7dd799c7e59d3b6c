// Which hypervisor hosts which node. An explicit `hypervisor` is kept. Otherwise placement is
// rendezvous (highest-random-weight) hashing of the node's name over the hypervisors' names:
// every node ranks the hypervisors by a hash of both names, so where a node lands depends on
// its own name and the set of hypervisors only, never on the other nodes or on the order of
// the config. Adding or removing a node moves no other node; adding a hypervisor moves only
// the nodes that now rank it first, onto it; removing one moves only the nodes it hosted.
// Control planes are also kept apart: each, in declaration order, takes the best-ranked of
// the hypervisors that host the fewest control planes so far. So a control plane appended to
// `nodes` moves no other, but a change to the hypervisors, or removing a control plane, can
// move later ones too; pin control planes with `hypervisor` where that matters (prod).
// Any move is a replacement of the VM (its hypervisor is part of what it is made from).
import * as crypto from "crypto";
import { HypervisorConfig, NodeConfig } from "./render";

export interface Placement {
    readonly node: NodeConfig;
    readonly hypervisor: HypervisorConfig;
}

/** The rendezvous weight of a node on a hypervisor: 48 bits of sha256 over both names. */
export function placementWeight(node: string, hypervisor: string): number {
    return crypto.createHash("sha256").update(`${node}\n${hypervisor}`).digest().readUIntBE(0, 6);
}

/** The hypervisors in the node's order of preference (highest weight first; names break ties). */
export function rankHypervisors<H extends Pick<HypervisorConfig, "name">>(node: string, hypervisors: ReadonlyArray<H>): H[] {
    return [...hypervisors].sort((a, b) => placementWeight(node, b.name) - placementWeight(node, a.name) || (a.name < b.name ? -1 : 1));
}

export function placeNodes(nodes: ReadonlyArray<NodeConfig>, hypervisors: ReadonlyArray<HypervisorConfig>): Placement[] {
    if (hypervisors.length === 0) throw new Error("no hypervisor to place nodes on");
    const byName = new Map(hypervisors.map((h) => [h.name, h]));
    const chosen = new Map<string, HypervisorConfig>();
    for (const n of nodes) {
        if (n.hypervisor === undefined) continue;
        const h = byName.get(n.hypervisor);
        if (!h) throw new Error(`node ${n.name}: hypervisor ${n.hypervisor} is not declared`);
        chosen.set(n.name, h);
    }
    const controlPlanes = new Map(hypervisors.map((h) => [h.name, 0]));
    for (const n of nodes) if (n.role === "control-plane" && chosen.has(n.name)) controlPlanes.set(chosen.get(n.name)!.name, controlPlanes.get(chosen.get(n.name)!.name)! + 1);
    for (const n of nodes) {
        if (chosen.has(n.name)) continue;
        const ranked = rankHypervisors(n.name, hypervisors);
        if (n.role !== "control-plane") {
            chosen.set(n.name, ranked[0]);
            continue;
        }
        const fewest = Math.min(...controlPlanes.values());
        const h = ranked.find((c) => controlPlanes.get(c.name) === fewest)!;
        controlPlanes.set(h.name, fewest + 1);
        chosen.set(n.name, h);
    }
    return nodes.map((node) => ({ node, hypervisor: chosen.get(node.name)! }));
}
