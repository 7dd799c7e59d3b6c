// The benchmark's scheduler, its ratios and generated stacks (the timings themselves are `npm run bench`'s).
import * as assert from "assert";
import { schedule, unneededNodeWaits } from "../bench/model";
import { generatedConfig } from "../bench/generate";
import { FLOOR_RATIO_TARGET, floorOf, LINEARITY_TARGET, slopesOf } from "../bench/ratios";
import { PlanResource } from "../plan/run";
import { problemsOf } from "./harness";

const res = (name: string, type: string, dependsOn: string[] = [], parent: string | null = null, custom = true): PlanResource => ({
    urn: `urn:${name}`,
    type,
    name,
    parent: parent ? `urn:${parent}` : null,
    custom,
    dependsOn: dependsOn.map((d) => `urn:${d}`),
    inputs: {},
    replaceOnChanges: [],
    deleteBeforeReplace: false,
});
const CMD = "command:remote:Command";

describe("bench: the pulumi up simulation", () => {
    // Two nodes prepared in parallel (VM 90 s, prepare 240 s), init after one of them (150 s), a join after the other and the init (60 s).
    const graph = [
        res("node", "oslo-mesh:vps:KvmVps", [], null, false),
        res("a-vm", CMD, [], "node"),
        res("b-vm", CMD),
        res("a-prepare", CMD, ["node"]),
        res("b-prepare", CMD, ["b-vm"]),
        res("c-init", CMD, ["a-prepare"]),
        res("b-join", CMD, ["b-prepare", "c-init"]),
    ];

    it("runs independent steps side by side and follows the longest chain", () => {
        const s = schedule(graph);
        assert.strictEqual(s.makespan, 90 + 240 + 150 + 60);
        assert.deepStrictEqual(s.criticalPath, ["urn:a-vm", "urn:a-prepare", "urn:c-init", "urn:b-join"], "waiting on a component waits on its children");
        assert.strictEqual(s.sequential, 90 * 2 + 240 * 2 + 150 + 60);
    });

    it("with one slot it is the steps one after another", () => {
        assert.strictEqual(schedule(graph, 1).makespan, schedule(graph).sequential);
    });

    it("refuses a graph that waits on itself in a cycle", () => {
        assert.throws(() => schedule([res("x-prepare", CMD, ["y-prepare"]), res("y-prepare", CMD, ["x-prepare"])]), /cycle/);
    });

    it("finds a node's step that waits on an unrelated node, and allows the first control plane", () => {
        const nodes = [{ name: "cp", role: "control-plane" }, { name: "w1", role: "worker" }, { name: "w2", role: "worker" }];
        const ok = [res("cp-init", CMD), res("w1-join", CMD, ["cp-init"]), res("w2-join", CMD, ["cp-init"])];
        assert.deepStrictEqual(unneededNodeWaits(ok, nodes), []);
        const bad = [...ok.slice(0, 2), res("w2-join", CMD, ["cp-init", "w1-join"])];
        assert.deepStrictEqual(unneededNodeWaits(bad, nodes), ["w2-join waits on w1-join"]);
    });

    for (const [nodes, canaries] of [[3, 1], [50, 100]]) {
        it(`the generated stack of ${nodes} nodes and ${canaries} canaries is a valid config`, () => {
            assert.deepStrictEqual(problemsOf("staging", generatedConfig(nodes, canaries)), []);
        });
    }
});

describe("bench: targets are ratios of one run", () => {
    it("the floor ratio is the median plan time over the median floor time, from at least 5 alternating runs", () => {
        const f = floorOf([900, 2000, 950, 1000, 940], [600, 610, 1500, 620, 630]);
        assert.deepStrictEqual(f, { planMs: 950, floorMs: 620, ratio: 1.532, runs: 5 });
        assert.ok(f.ratio <= FLOOR_RATIO_TARGET);
        assert.throws(() => floorOf([1, 2, 3], [1, 2, 3]), /at least 5/);
    });

    it("slopes per node and per canary, linear only when the cost of a node does not grow with the stack", () => {
        const linear = slopesOf([[3, 500], [50, 1440], [200, 4440]], [[1, 500], [100, 1000], [500, 3000]]);
        assert.deepStrictEqual(linear, { msPerNode: 20, msPerCanary: 5.01, linear: true, msPerNodeLow: 20, msPerNodeHigh: 20, msPerCanaryLow: 5.05, msPerCanaryHigh: 5 });
        // 26 ms per node past 50 against 20 below it: more than 1.25 times, so not linear.
        assert.strictEqual(slopesOf([[3, 500], [50, 1440], [200, 5340]], [[1, 500], [100, 1000], [500, 3000]]).linear, false);
        assert.strictEqual(LINEARITY_TARGET, 1.25);
    });
});
