// Where nodes land (components/vps/placement.ts), as properties over generated clusters
// (fast-check): placement is stable across config changes, control planes are kept apart.
import * as assert from "assert";
import fc from "fast-check";
import { Placement, placeNodes } from "../components/vps/placement";
import { HypervisorConfig, NodeConfig } from "../components/vps/render";
import { parsedConfig, stackFileConfig } from "./harness";

const hypervisor = (name: string): HypervisorConfig => ({ name, user: "root", port: 22, pool: "nvme", network: "default", nameservers: [] });
const node = (name: string, role: NodeConfig["role"], pinned?: string): NodeConfig => ({ name, role, vcpus: 2, memoryMiB: 4096, diskGiB: 40, ...(pinned ? { hypervisor: pinned } : {}) });

const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
const names = (min: number, max: number) => fc.uniqueArray(label, { minLength: min, maxLength: max });
/** A cluster: hypervisors, and nodes (control planes and workers, none pinned) with distinct names. */
const cluster = fc
    .record({ hv: names(1, 7), nodes: names(1, 24), cps: fc.nat(5) })
    .map(({ hv, nodes, cps }) => ({
        hypervisors: hv.map((n) => hypervisor(`hv-${n}`)),
        nodes: nodes.map((n, i) => node(`n-${n}`, i < cps ? "control-plane" : "worker")),
    }));

const where = (placements: Placement[]) => new Map(placements.map((p) => [p.node.name, p.hypervisor.name]));
const shuffle = <T>(xs: T[], seed: number) => xs.map((x, i) => ({ x, k: (i * 7919 + seed * 104729) % 1000003 })).sort((a, b) => a.k - b.k).map((e) => e.x);
const controlPlaneCounts = (c: { hypervisors: HypervisorConfig[] }, placed: Placement[]) => {
    const counts = new Map(c.hypervisors.map((h) => [h.name, 0]));
    for (const p of placed) if (p.node.role === "control-plane") counts.set(p.hypervisor.name, counts.get(p.hypervisor.name)! + 1);
    return [...counts.values()];
};

describe("vps: placement", () => {
    it("does not depend on the order of the hypervisors in the config", () => {
        fc.assert(
            fc.property(cluster, fc.integer(), (c, seed) => {
                assert.deepStrictEqual(where(placeNodes(c.nodes, shuffle(c.hypervisors, seed))), where(placeNodes(c.nodes, c.hypervisors)));
            }),
        );
    });

    it("a worker's place depends on its name and the hypervisors only: adding, removing or reordering other nodes never moves it", () => {
        fc.assert(
            fc.property(cluster, cluster, fc.integer(), (c, other, seed) => {
                const before = where(placeNodes(c.nodes, c.hypervisors));
                const more = [...c.nodes, ...other.nodes.filter((o) => !c.nodes.some((n) => n.name === o.name))];
                const after = where(placeNodes(shuffle(more, seed).filter((n, i) => n.role === "worker" || i % 2 === 0), c.hypervisors));
                for (const n of c.nodes) if (n.role === "worker" && after.has(n.name)) assert.strictEqual(after.get(n.name), before.get(n.name), n.name);
            }),
        );
    });

    it("a node appended to the config moves no existing node, control plane or worker", () => {
        fc.assert(
            fc.property(cluster, label, fc.boolean(), (c, name, controlPlane) => {
                fc.pre(!c.nodes.some((n) => n.name === `n-${name}`));
                const before = where(placeNodes(c.nodes, c.hypervisors));
                const after = where(placeNodes([...c.nodes, node(`n-${name}`, controlPlane ? "control-plane" : "worker")], c.hypervisors));
                for (const [n, h] of before) assert.strictEqual(after.get(n), h, n);
            }),
        );
    });

    it("adding a hypervisor moves a worker only onto the new hypervisor; removing one moves only the workers it hosted", () => {
        fc.assert(
            fc.property(cluster, label, (c, name) => {
                fc.pre(!c.hypervisors.some((h) => h.name === `hv-${name}`));
                const fewer = where(placeNodes(c.nodes, c.hypervisors));
                const more = where(placeNodes(c.nodes, [...c.hypervisors, hypervisor(`hv-${name}`)]));
                for (const n of c.nodes.filter((n) => n.role === "worker")) {
                    if (more.get(n.name) !== fewer.get(n.name)) assert.strictEqual(more.get(n.name), `hv-${name}`, `${n.name} moved between old hypervisors`);
                }
            }),
        );
    });

    it("adding hypervisors moves about 1/(n+1) of the workers, not all of them", () => {
        // 600 workers on 5 hypervisors, a sixth added: rendezvous hashing moves about 100 of them.
        const hvs = ["a", "b", "c", "d", "e"].map((n) => hypervisor(`hv-${n}`));
        const workers = Array.from({ length: 600 }, (_, i) => node(`w-${i}`, "worker"));
        const before = where(placeNodes(workers, hvs));
        const after = where(placeNodes(workers, [...hvs, hypervisor("hv-f")]));
        const moved = workers.filter((w) => before.get(w.name) !== after.get(w.name)).length;
        assert.ok(moved > 60 && moved < 140, `moved ${moved} of 600`);
        const load = [...new Set(before.values())].map((h) => [...before.values()].filter((x) => x === h).length);
        assert.ok(Math.min(...load) > 80 && Math.max(...load) < 160, `workers spread over the hypervisors: ${load}`);
    });

    it("control planes are kept apart: on distinct hypervisors while there are enough, never more than one apart otherwise", () => {
        fc.assert(
            fc.property(cluster, (c) => {
                const counts = controlPlaneCounts(c, placeNodes(c.nodes, c.hypervisors));
                assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `control planes per hypervisor: ${counts}`);
            }),
        );
    });

    it("an explicit hypervisor is kept, and the other control planes go elsewhere while they can", () => {
        fc.assert(
            fc.property(cluster, fc.nat(), (c, pick) => {
                const cps = c.nodes.filter((n) => n.role === "control-plane");
                fc.pre(cps.length >= 1 && cps.length <= c.hypervisors.length);
                const pinnedTo = c.hypervisors[pick % c.hypervisors.length].name;
                const nodes = c.nodes.map((n) => (n === cps[cps.length - 1] ? { ...n, hypervisor: pinnedTo } : n));
                const placed = placeNodes(nodes, c.hypervisors);
                assert.strictEqual(where(placed).get(cps[cps.length - 1].name), pinnedTo);
                assert.ok(Math.max(...controlPlaneCounts(c, placed)) === 1, "every control plane on a hypervisor of its own");
            }),
        );
    });

    it("prod: the three control planes land on the three hypervisors", () => {
        const cfg = parsedConfig("prod", stackFileConfig("prod"));
        const cps = placeNodes(cfg.nodes, cfg.vps.hypervisors).filter((p) => p.node.role === "control-plane");
        assert.deepStrictEqual(cps.map((p) => p.hypervisor.name).sort(), ["osl-hv-1", "osl-hv-2", "osl-hv-3"]);
    });

    it("a hypervisor that is not declared is an error", () => {
        assert.throws(() => placeNodes([node("n-1", "worker", "nowhere")], [hypervisor("hv-a")]), /node n-1: hypervisor nowhere is not declared/);
    });
});
