// A node's chain follows its VM, under Pulumi's mocks: the steps on each node carry its machine
// trigger with deleteBeforeReplace, and the engine's delete-before-replace walk (test/rollEngine.ts,
// modelled on pulumi/pulumi v3.248.0) turns a change of one node's VM into: the old node drained,
// reset and forgotten (the removal scripts, in kubeadm's order), its VM replaced, the new one
// prepared, firewalled, admitted, joined and registered, and nothing on any other node.
import * as assert from "assert";
import { ROLLOUT_GATE_TYPE } from "../roll/gate";
import { StackConfig } from "../stacks/schema";
import { loadProvider } from "./dynamicHost";
import { parsedConfig, stackFileConfig } from "./harness";
import { simulateUpdate, Step } from "./rollEngine";
import { RecordedProgram, recordProgram } from "./rollHarness";

const STEPS = ["prepare", "firewall", "admit", "join", "registered", "upgrade"] as const;
/** Day 2's timers on every control plane. */
const TIMERS = ["etcd-snapshots", "certificate-renewal"] as const;
/** Every step on a node's machine, as the engine deletes them (dependents first) and creates them again. */
const chainOf = (node: string, controlPlane: boolean) => [...STEPS, ...(controlPlane ? TIMERS : [])].map((s) => `${node}-${s}`);
const name = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

function prodWith(edit: (config: Record<string, any>) => void): StackConfig {
    const raw = stackFileConfig("prod") as Record<string, any>;
    edit(raw);
    return parsedConfig("prod", raw);
}

const gateInputs = (p: RecordedProgram) => {
    const { __provider: _, ...inputs } = p.engine.find((r) => r.type === ROLLOUT_GATE_TYPE)!.inputs;
    return inputs as any;
};

describe("roll: a node's chain follows its VM (under mocks)", function () {
    this.timeout(120_000);
    let current: RecordedProgram;
    let afterWorker: RecordedProgram;
    let afterControlPlane: RecordedProgram;
    let afterImage: RecordedProgram;
    const prod = parsedConfig("prod", stackFileConfig("prod"));

    before(async () => {
        current = await recordProgram("prod", prod);
        afterWorker = await recordProgram("prod", prodWith((c) => (c["oslo-mesh:nodes"][4].memoryMiB = 32768)));
        afterControlPlane = await recordProgram("prod", prodWith((c) => (c["oslo-mesh:nodes"][1].vcpus = 8)));
        afterImage = await recordProgram(
            "prod",
            prodWith((c) => (c["oslo-mesh:vps"].image = { url: "https://cloud-images.ubuntu.com/releases/focal/release-20240821/ubuntu-20.04-server-cloudimg-amd64.img", sha256: "a".repeat(64), kernelArgs: ["systemd.unified_cgroup_hierarchy=0"] })),
        );
    });

    it("every step on a node carries the node's recipe digest as its trigger, with deleteBeforeReplace", () => {
        const vm = (n: string) => current.byName(`${n}-vm`);
        for (const n of prod.nodes) {
            const all = [...STEPS, ...(n.role === "control-plane" ? TIMERS : [])];
            const steps = n.name === "prod-cp-1" ? all.filter((s) => !["admit", "join", "registered"].includes(s)) : all;
            for (const s of steps) {
                const r = current.byName(`${n.name}-${s}`);
                assert.strictEqual(r.deleteBeforeReplace, true, `${n.name}-${s}`);
                assert.deepStrictEqual(r.replaceOnChanges, ["triggers[*]"], "what @pulumi/command's SDK registers");
                const [trigger] = r.inputs.triggers as Array<{ node: string; recipe: string }>;
                assert.strictEqual(trigger.node, n.name);
                assert.match(trigger.recipe, /^sha256:[0-9a-f]{64}$/);
                assert.strictEqual(trigger.recipe, gateInputs(current).nodes[n.name].recipe, "the digest the gate records");
                assert.ok(r.propertyDependencies.triggers.includes(vm(n.name).urn), `${n.name}-${s}'s trigger depends on its VM`);
            }
        }
        // The step before it on the node, so kubeadm's order holds whichever is replaced first.
        const deps = (s: string) => current.byName(`prod-worker-1-${s}`).propertyDependencies.triggers.map(name).sort();
        assert.deepStrictEqual(deps("join"), ["prod-worker-1-admit", "prod-worker-1-firewall", "prod-worker-1-prepare", "prod-worker-1-vm"]);
        assert.deepStrictEqual(deps("registered"), ["prod-worker-1-join", "prod-worker-1-vm"]);
        assert.deepStrictEqual(deps("upgrade"), ["prod-worker-1-registered", "prod-worker-1-vm"]);
        assert.deepStrictEqual(current.byName("prod-cp-2-etcd-snapshots").propertyDependencies.triggers.map(name).sort(), ["prod-cp-2-upgrade", "prod-cp-2-vm"]);
        // The cluster's own steps on the first control plane are no node's: they carry no trigger.
        for (const s of ["prod-init", "prod-cni", "prod-kubeconfig"]) assert.strictEqual(current.byName(s).inputs.triggers, undefined, s);
    });

    /** The steps of an update, checked for kubeadm's order on `node`, and that nothing else acts. */
    function checkReplacement(steps: Step[], node: string, controlPlane: boolean): string[] {
        const acting = steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${name(s.urn)}`);
        const chain = chainOf(node, controlPlane);
        assert.deepStrictEqual(
            [...acting].sort(),
            ["update rollout-gate", ...[`${node}-vm`, ...chain].flatMap((r) => [`delete-replaced ${r}`, `create-replacement ${r}`])].sort(),
            "the node's VM and every step on it are replaced, the gate records it, nothing else acts",
        );
        const at = (a: string) => acting.indexOf(a);
        const inOrder = (...xs: string[]) => xs.slice(1).forEach((x, k) => assert.ok(at(xs[k]) < at(x), `${xs[k]} before ${x}`));
        // The removal half: what runs on the old node goes first, then drain, reset, forget, then the VM.
        const del = (s: string) => `delete-replaced ${node}-${s}`;
        const add = (s: string) => `create-replacement ${node}-${s}`;
        for (const t of controlPlane ? TIMERS : []) inOrder(del(t), del("upgrade"));
        inOrder(del("upgrade"), del("registered"), del("join"), del("admit"), del("vm"));
        inOrder(del("firewall"), del("vm"));
        inOrder(del("prepare"), del("vm"));
        // Then the new machine, in the order of a first creation.
        inOrder(del("vm"), add("vm"), add("prepare"), add("join"));
        inOrder(add("firewall"), add("join"));
        inOrder(add("admit"), add("join"), add("registered"), add("upgrade"));
        for (const t of controlPlane ? TIMERS : []) inOrder(add("upgrade"), add(t));
        return acting;
    }

    it("a change of one worker's VM replaces its VM and its chain, deleting the old node first in kubeadm's order, and touches no other node", () => {
        const { steps } = simulateUpdate(current.engine, afterWorker.engine);
        checkReplacement(steps, "prod-worker-2", false);
        // The removal half runs the removal scripts: drain on the first control plane, kubeadm reset
        // on the node, then the Node deleted (test/kubernetes.lifecycle.test.ts runs them).
        const cmd = (n: string) => String(steps.find((s) => s.op === "delete-replaced" && name(s.urn) === n)?.command);
        assert.match(cmd("prod-worker-2-registered"), /readonly ACTION='drain'/);
        assert.match(cmd("prod-worker-2-join"), /kubeadm reset --force/);
        assert.match(cmd("prod-worker-2-admit"), /readonly ACTION='forget'/);
        assert.match(cmd("prod-worker-2-vm"), /libvirt|virsh/);
    });

    it("a control plane's replacement removes its timers, then its etcd member the way removal does, and leaves the next control plane alone", () => {
        const { steps } = simulateUpdate(current.engine, afterControlPlane.engine);
        checkReplacement(steps, "prod-cp-2", true);
        const cmd = (n: string) => String(steps.find((s) => s.op === "delete-replaced" && name(s.urn) === n)?.command);
        assert.match(cmd("prod-cp-2-admit"), /readonly CONTROL_PLANE='true'/, "forget checks etcd's member list and removes the member if reset could not");
        assert.match(cmd("prod-cp-2-etcd-snapshots"), /remove/);
    });

    it("an image change replaces every node's chain (and the gate refuses it at preview); a first creation is not held back by the gate", async () => {
        const { steps } = simulateUpdate(current.engine, afterImage.engine);
        const replaced = new Set(steps.filter((s) => s.op === "create-replacement").map((s) => name(s.urn).replace(/-(vm|prepare|firewall|admit|join|registered|upgrade|etcd-snapshots|certificate-renewal)$/, "")));
        assert.deepStrictEqual([...replaced].sort(), prod.nodes.map((n) => n.name).sort());
        const provider = loadProvider(current.engine.find((r) => r.type === ROLLOUT_GATE_TYPE)!.inputs.__provider);
        const refused = await provider.check!(gateInputs(current), gateInputs(afterImage));
        const reasons = (refused.failures ?? []).map((f) => f.reason);
        assert.ok(reasons.some((r) => /prod-cp-1, the first control plane/.test(r)), reasons.join("\n"));
        assert.ok(reasons.some((r) => /control planes prod-cp-2 and prod-cp-3 at once.*npm run roll -- --stack prod/.test(r)));
        assert.ok((refused.failures ?? []).every((f) => f.property === ""), "printed as the resource's problem, not a property's");
        assert.strictEqual((await provider.check!({}, gateInputs(afterImage))).failures, undefined, "first creation");
        assert.strictEqual((await provider.check!(gateInputs(current), gateInputs(afterWorker))).failures, undefined, "one worker");
        assert.strictEqual((await provider.check!(gateInputs(current), gateInputs(afterControlPlane))).failures, undefined, "one control plane of three");
    });

    it("every VM waits for the gate, which waits for nothing: a first creation still runs every node in parallel", () => {
        const gate = current.engine.find((r) => r.type === ROLLOUT_GATE_TYPE)!;
        assert.deepStrictEqual(gate.dependencies, []);
        assert.deepStrictEqual(Object.values(gate.propertyDependencies).flat(), []);
        for (const n of prod.nodes) assert.ok(current.byName(`${n.name}-vm`).dependencies.includes(gate.urn), `${n.name}-vm waits for the gate`);
        // Nothing of one node waits for another node's step (the control planes' join order aside).
        for (const n of prod.nodes.filter((x) => x.role === "worker")) {
            for (const s of STEPS) {
                const r = current.byName(`${n.name}-${s}`);
                const others = [...r.dependencies, ...Object.values(r.propertyDependencies).flat()].map(name).filter((d) => /prod-(worker|cp)-\d/.test(d) && !d.startsWith(`${n.name}-`) && !d.startsWith("prod-cp-1-"));
                assert.deepStrictEqual(others, [], `${n.name}-${s}`);
            }
        }
    });

    it("a roll's targeted wave replaces only the wave's machines; the untargeted rest keeps its state", () => {
        const targets = new Set([current.engine.find((r) => r.type === ROLLOUT_GATE_TYPE)!.urn, ...["vm", ...STEPS].map((s) => current.byName(`prod-worker-1-${s}`).urn)]);
        const { steps, state } = simulateUpdate(current.engine, afterImage.engine, { targets });
        const acting = steps.filter((s) => s.op !== "same").map((s) => name(s.urn));
        assert.ok(acting.every((n) => n === "rollout-gate" || n.startsWith("prod-worker-1-")), acting.join(", "));
        assert.strictEqual(acting.filter((n) => n.startsWith("prod-worker-1-")).length, 14, "seven deletes, seven creates");
        const trigger = (urn: string) => JSON.stringify(state.find((r) => r.urn === urn)!.inputs.triggers);
        assert.notStrictEqual(trigger(current.byName("prod-worker-1-join").urn), JSON.stringify(current.byName("prod-worker-1-join").inputs.triggers));
        assert.strictEqual(trigger(current.byName("prod-worker-2-join").urn), JSON.stringify(current.byName("prod-worker-2-join").inputs.triggers));
    });
});
