// The roll's rules without Pulumi: oslo-mesh:rollout, what one `pulumi up` may replace (the
// rollout gate's decision), and the waves a roll makes of a change, which the gate lets through
// one by one.
import * as assert from "assert";
import * as fc from "fast-check";
import { keepsQuorum, RolloutGateInputs, rolloutVerdict, waveFromEnv } from "../roll/rules";
import { nodeMachines, planRoll, NodeMachine, ResourceView } from "../roll/waves";
import { parsedConfig, problemsOf, stackFileConfig } from "./harness";

type Cluster = Array<{ name: string; role: "control-plane" | "worker" }>;

function gateInputs(cluster: Cluster, recipes: Record<string, string>, extra: Partial<RolloutGateInputs> = {}): RolloutGateInputs {
    return {
        stack: "prod",
        first: cluster.find((n) => n.role === "control-plane")!.name,
        maxUnavailable: 1,
        nodes: Object.fromEntries(cluster.map((n) => [n.name, { role: n.role, recipe: recipes[n.name] ?? "sha256:old" }])),
        ...extra,
    };
}

const PROD: Cluster = [
    { name: "prod-cp-1", role: "control-plane" },
    { name: "prod-cp-2", role: "control-plane" },
    { name: "prod-cp-3", role: "control-plane" },
    { name: "prod-worker-1", role: "worker" },
    { name: "prod-worker-2", role: "worker" },
    { name: "prod-worker-3", role: "worker" },
];
const changed = (...names: string[]) => Object.fromEntries(names.map((n) => [n, "sha256:new"]));

describe("roll: oslo-mesh:rollout", () => {
    it("defaults to one worker at a time in every environment", () => {
        for (const stack of ["dev", "staging", "prod"]) assert.strictEqual(parsedConfig(stack, stackFileConfig(stack)).rollout.maxUnavailable, 1, stack);
    });

    it("refuses a maxUnavailable that is not a whole number from 1, naming the key", () => {
        for (const bad of [0, -1, 1.5, "2", null]) {
            const problems = problemsOf("prod", { ...stackFileConfig("prod"), "oslo-mesh:rollout": { maxUnavailable: bad } });
            assert.ok(problems.some((p) => p.startsWith("oslo-mesh:rollout.maxUnavailable: ")), `${JSON.stringify(bad)}: ${problems.join("; ")}`);
        }
        const unknown = problemsOf("prod", { ...stackFileConfig("prod"), "oslo-mesh:rollout": { maxUnavailable: 1, maxSurge: 1 } });
        assert.ok(unknown.some((p) => p.startsWith("oslo-mesh:rollout")), unknown.join("; "));
    });

    it("refuses taking every worker out at once; allows one fewer", () => {
        const problems = problemsOf("prod", { ...stackFileConfig("prod"), "oslo-mesh:rollout": { maxUnavailable: 3 } });
        assert.deepStrictEqual(problems, ["oslo-mesh:rollout.maxUnavailable: 3 would take all 3 workers out of service at once; expected at most 2, so that a worker keeps serving the mesh"]);
        assert.deepStrictEqual(problemsOf("prod", { ...stackFileConfig("prod"), "oslo-mesh:rollout": { maxUnavailable: 2 } }), []);
    });
});

describe("roll: what one pulumi up may replace (the rollout gate's rule)", () => {
    const verdict = (recipes: Record<string, string>, extra: Partial<RolloutGateInputs> = {}, cluster = PROD) => rolloutVerdict(gateInputs(cluster, {}), gateInputs(cluster, recipes, extra));

    it("lets a first creation, an unchanged cluster, one worker and one control plane of three through", () => {
        assert.deepStrictEqual(rolloutVerdict(undefined, gateInputs(PROD, changed("prod-cp-1", "prod-cp-2", "prod-worker-1"))).problems, []);
        assert.deepStrictEqual(rolloutVerdict({}, gateInputs(PROD, {})).problems, []);
        assert.deepStrictEqual(verdict({}).problems, []);
        assert.deepStrictEqual(verdict(changed("prod-worker-2")).problems, []);
        assert.deepStrictEqual(verdict(changed("prod-cp-3")).problems, []);
        assert.deepStrictEqual(verdict(changed("prod-worker-1", "prod-worker-2"), { maxUnavailable: 2 }).problems, []);
    });

    it("refuses every control plane at once, and two of them, pointing to npm run roll", () => {
        const all = verdict(changed("prod-cp-2", "prod-cp-3"));
        assert.deepStrictEqual(all.problems, [
            "this change replaces the VMs of control planes prod-cp-2 and prod-cp-3 at once: etcd would lose its quorum. Roll it out node by node, each wave once the previous one is healthy: npm run roll -- --stack prod (add --dry-run to see the waves)",
        ]);
        const fleet = verdict(changed(...PROD.map((n) => n.name)));
        assert.ok(fleet.problems.some((p) => p.includes("prod-cp-1, the first control plane")), fleet.problems.join("\n"));
        assert.ok(fleet.problems.some((p) => p.includes("control planes prod-cp-2 and prod-cp-3 at once") && p.includes("npm run roll -- --stack prod")));
        assert.ok(fleet.problems.some((p) => p.includes("3 workers at once (prod-worker-1, prod-worker-2 and prod-worker-3), more than oslo-mesh:rollout.maxUnavailable = 1")));
    });

    it("refuses more workers than maxUnavailable, and a control plane together with workers", () => {
        assert.match(verdict(changed("prod-worker-1", "prod-worker-3")).problems.join(), /2 workers at once \(prod-worker-1 and prod-worker-3\), more than oslo-mesh:rollout\.maxUnavailable = 1\. Roll it out node by node/);
        assert.match(verdict(changed("prod-cp-2", "prod-worker-1")).problems.join(), /a control plane and workers at once \(prod-cp-2 and prod-worker-1\)/);
    });

    it("never replaces the first control plane, where kubeadm init ran, nor lets another become first", () => {
        const [p] = verdict(changed("prod-cp-1")).problems;
        assert.match(p, /^this change replaces the VM of prod-cp-1, the first control plane: kubeadm init ran there, and a new machine would initialise a second cluster/);
        assert.match(verdict(changed("prod-cp-1"), { wave: ["prod-cp-1"] }).problems.join(), /prod-cp-1, the first control plane/, "not in a roll either");
        const reordered = rolloutVerdict(gateInputs(PROD, {}), { ...gateInputs(PROD, {}), first: "prod-cp-2" });
        assert.match(reordered.problems.join(), /the first control plane would change from prod-cp-1 to prod-cp-2: kubeadm init ran on prod-cp-1/);
    });

    it("with fewer than three control planes, a control plane needs the roll's --allow-quorum-loss", () => {
        const two: Cluster = [PROD[0], PROD[1], PROD[3], PROD[4]];
        assert.match(verdict(changed("prod-cp-2"), {}, two).problems.join(), /control plane prod-cp-2 with 2 control planes: etcd cannot keep its quorum.*npm run roll -- --stack prod --allow-quorum-loss/);
        assert.deepStrictEqual([1, 2, 3, 4, 5, 7].map(keepsQuorum), [false, false, true, true, true, true]);
    });

    it("a roll's wave is let through and recorded alone: the other changed nodes keep their old recipe in the gate", () => {
        const news = changed("prod-cp-2", "prod-cp-3", "prod-worker-1");
        const v = verdict(news, { wave: ["prod-cp-2"] });
        assert.deepStrictEqual(v.problems, []);
        assert.strictEqual(v.inputs.nodes["prod-cp-2"].recipe, "sha256:new");
        assert.strictEqual(v.inputs.nodes["prod-cp-3"].recipe, "sha256:old");
        assert.strictEqual(v.inputs.nodes["prod-worker-1"].recipe, "sha256:old");
        assert.strictEqual("wave" in v.inputs, false, "the wave is not recorded");
        // What the next plain pulumi up sees: cp-3 and worker-1 still to replace, refused together.
        assert.match(rolloutVerdict(v.inputs, gateInputs(PROD, news)).problems.join(), /a control plane and workers at once/);
    });

    it("refuses a wave bigger than a wave, and one that names no node of the stack", () => {
        assert.match(verdict(changed("prod-cp-2", "prod-cp-3"), { wave: ["prod-cp-2", "prod-cp-3"] }).problems.join(), /one control plane at a time, not prod-cp-2 and prod-cp-3/);
        assert.match(verdict(changed("prod-worker-1", "prod-worker-2"), { wave: ["prod-worker-1", "prod-worker-2"] }).problems.join(), /at most oslo-mesh:rollout\.maxUnavailable = 1 workers/);
        assert.match(verdict({}, { wave: ["prod-worker-9"] }).problems.join(), /OSLO_MESH_ROLL_WAVE names prod-worker-9, not a node of stack prod/);
    });

    it("reads the wave from OSLO_MESH_ROLL_WAVE", () => {
        assert.strictEqual(waveFromEnv({}), undefined);
        assert.strictEqual(waveFromEnv({ OSLO_MESH_ROLL_WAVE: " " }), undefined);
        assert.deepStrictEqual(waveFromEnv({ OSLO_MESH_ROLL_WAVE: "a, b,," }), ["a", "b"]);
    });
});

/** A machine as nodeMachines makes it, for a node the stack holds with another recipe. */
function machine(name: string, role: "control-plane" | "worker", status: NodeMachine["status"] = "replace"): NodeMachine {
    return { node: name, role, status, resources: [{ urn: `urn:${name}-vm`, type: "command:remote:Command" }, { urn: `urn:${name}-join`, type: "command:remote:Command" }] };
}

describe("roll: waves", () => {
    const opts = { stack: "prod", nodes: PROD, maxUnavailable: 1, gateUrn: "urn:gate", allowQuorumLoss: false };

    it("control planes one per wave first, then workers maxUnavailable at a time, each wave targeting the gate and its machines", () => {
        const machines = [machine("prod-cp-1", "control-plane", "unchanged"), machine("prod-cp-2", "control-plane"), machine("prod-cp-3", "control-plane"), ...["prod-worker-1", "prod-worker-2", "prod-worker-3"].map((n) => machine(n, "worker"))];
        const plan = planRoll(machines, { ...opts, maxUnavailable: 2 });
        assert.deepStrictEqual(plan.refusals, []);
        assert.deepStrictEqual(plan.waves.map((w) => [w.role, w.nodes]), [
            ["control-plane", ["prod-cp-2"]],
            ["control-plane", ["prod-cp-3"]],
            ["worker", ["prod-worker-1", "prod-worker-2"]],
            ["worker", ["prod-worker-3"]],
        ]);
        assert.deepStrictEqual(plan.waves[2].targets, ["urn:gate", "urn:prod-worker-1-vm", "urn:prod-worker-1-join", "urn:prod-worker-2-vm", "urn:prod-worker-2-join"]);
    });

    it("a new node is no wave: the closing pulumi up creates it; unchanged nodes are left alone", () => {
        const plan = planRoll([machine("prod-cp-1", "control-plane", "unchanged"), machine("prod-worker-1", "worker", "new"), machine("prod-worker-2", "worker", "unchanged")], opts);
        assert.deepStrictEqual(plan.waves, []);
        assert.deepStrictEqual(plan.newNodes, ["prod-worker-1"]);
    });

    it("refuses the first control plane, and a control plane without quorum unless --allow-quorum-loss", () => {
        assert.match(planRoll([machine("prod-cp-1", "control-plane")], opts).refusals.join(), /prod-cp-1 is the first control plane: kubeadm init ran there/);
        const two = { ...opts, nodes: [PROD[0], PROD[1], PROD[3]] };
        const machines = [machine("prod-cp-1", "control-plane", "unchanged"), machine("prod-cp-2", "control-plane"), machine("prod-worker-1", "worker", "unchanged")];
        assert.match(planRoll(machines, two).refusals.join(), /replacing prod-cp-2 cannot keep etcd's quorum with 2 control planes.*--allow-quorum-loss/);
        assert.deepStrictEqual(planRoll(machines, { ...two, allowQuorumLoss: true }).refusals, []);
        const single = { ...opts, nodes: [PROD[0], PROD[3]] };
        assert.match(planRoll([machine("prod-cp-1", "control-plane"), machine("prod-worker-1", "worker", "unchanged")], single).refusals.join(), /prod-cp-1 is the first control plane/);
    });

    it("finds a node's machine in the plan and compares its triggers with the state's", () => {
        const comp = (n: string): ResourceView => ({ urn: `urn:pulumi:prod::oslo-mesh::oslo-mesh:vps:KvmVps::${n}`, type: "oslo-mesh:vps:KvmVps" });
        const vm = (n: string, recipe: string): ResourceView => ({ urn: `urn:pulumi:prod::oslo-mesh::oslo-mesh:vps:KvmVps$command:remote:Command::${n}-vm`, type: "command:remote:Command", parent: comp(n).urn, inputs: { triggers: [{ recipe }] } });
        const step = (n: string, s: string, recipe: string): ResourceView => ({ urn: `urn:x::${n}-${s}`, type: "command:remote:Command", inputs: { triggers: [{ node: n, recipe }] }, dependsOn: [vm(n, recipe).urn] });
        const desired = [comp("a"), vm("a", "2"), step("a", "join", "2"), comp("b"), vm("b", "1"), step("b", "join", "1"), comp("c"), vm("c", "1"), step("c", "join", "1")];
        const deployed = [vm("a", "1"), step("a", "join", "1"), vm("b", "1"), step("b", "join", "1")];
        const nodes = [{ name: "a", role: "worker" as const }, { name: "b", role: "worker" as const }, { name: "c", role: "worker" as const }];
        const machines = nodeMachines(nodes, desired, deployed);
        assert.deepStrictEqual(machines.map((m) => [m.node, m.status, m.resources.map((r) => r.urn.split("::").pop())]), [
            ["a", "replace", ["a-vm", "a-join"]],
            ["b", "unchanged", ["b-vm", "b-join"]],
            ["c", "new", ["c-vm", "c-join"]],
        ]);
        // A replacement stopped halfway (the join deleted, not re-created): still to replace.
        assert.strictEqual(nodeMachines(nodes, desired, [vm("a", "2")])[0].status, "replace");
    });

    it("every wave of a roll passes the gate, and after the last one the gate holds what the program asks for (property)", () => {
        const arb = fc
            .record({ cps: fc.integer({ min: 3, max: 7 }), workers: fc.integer({ min: 2, max: 12 }), max: fc.integer({ min: 1, max: 4 }), seed: fc.array(fc.boolean(), { minLength: 19, maxLength: 19 }) })
            .filter((c) => c.max < c.workers);
        fc.assert(
            fc.property(arb, ({ cps, workers, max, seed }) => {
                const cluster: Cluster = [...Array.from({ length: cps }, (_, i) => ({ name: `cp-${i + 1}`, role: "control-plane" as const })), ...Array.from({ length: workers }, (_, i) => ({ name: `w-${i + 1}`, role: "worker" as const }))];
                const changedNodes = cluster.slice(1).filter((_, i) => seed[i]).map((n) => n.name);
                const olds = gateInputs(cluster, {}, { maxUnavailable: max });
                const news = gateInputs(cluster, changed(...changedNodes), { maxUnavailable: max });
                const machines = cluster.map((n) => machine(n.name, n.role, changedNodes.includes(n.name) ? "replace" : "unchanged"));
                const plan = planRoll(machines, { stack: "prod", nodes: cluster, maxUnavailable: max, gateUrn: "urn:gate", allowQuorumLoss: false });
                assert.deepStrictEqual(plan.refusals, []);
                let state = olds;
                for (const wave of plan.waves) {
                    assert.ok(wave.role === "worker" ? wave.nodes.length <= max : wave.nodes.length === 1);
                    const v = rolloutVerdict(state, { ...news, wave: wave.nodes });
                    assert.deepStrictEqual(v.problems, [], `wave ${wave.index}`);
                    state = v.inputs;
                }
                assert.deepStrictEqual(state, news, "the gate ends at the program's recipes");
                // A plain pulumi up of the same change passes exactly when it is one wave or none.
                assert.strictEqual(rolloutVerdict(olds, news).problems.length === 0, plan.waves.length <= 1);
                // And after the roll, a plain pulumi up has nothing left to refuse.
                assert.deepStrictEqual(rolloutVerdict(state, news).problems, []);
            }),
            { numRuns: 200 },
        );
    });
});

describe("roll: a node's own image (oslo-mesh:nodes[].image)", () => {
    const withImage = (image: unknown) => {
        const raw = stackFileConfig("prod") as Record<string, any>;
        raw["oslo-mesh:nodes"][4].image = image;
        return raw;
    };

    it("is checked like vps.image, under the node's path", () => {
        assert.deepStrictEqual(problemsOf("prod", withImage({ url: "https://images.example.no/focal/img.qcow2" })), [
            "oslo-mesh:nodes[4].image.sha256: required without nodes[4].image.checksumUrl: the base image is verified before any VM uses it",
        ]);
        assert.deepStrictEqual(problemsOf("prod", withImage({ url: "https://images.example.no/focal/img.qcow2", sha256: "a".repeat(64) })), []);
        assert.ok(problemsOf("prod", withImage({ url: "file:///etc/passwd", sha256: "a".repeat(64) })).some((p) => p.startsWith("oslo-mesh:nodes[4].image.url: ")));
        assert.ok(problemsOf("prod", withImage({ url: "https://images.example.no/a.img", sha256: "a".repeat(64), kernelArgs: [] })).some((p) => p.startsWith("oslo-mesh:nodes[4].image")));
    });
});
