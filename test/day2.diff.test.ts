// The plan diff of a version bump reads as an upgrade: which nodes, in which order.
import * as assert from "assert";
import { diffPlans, renderDiff } from "../plan/diff";
import { Plan } from "../plan/run";
import { parsedConfig, planInBackground, sharedPlan, stackFileConfig, writeStackFile } from "./harness";

/**
 * The plan of a stack with its Kubernetes version set, as `npm run plan -- --json` prints it: the
 * stack's shared plan when that is the version it runs already (the same config), else a run of
 * its own with the version set, in the background.
 */
async function plan(stack: string, version: string): Promise<Plan> {
    const config = stackFileConfig(stack);
    if (parsedConfig(stack, config).kubernetes.version === version) return (await sharedPlan(stack)).plan as unknown as Plan;
    const kubernetes = (config["oslo-mesh:kubernetes"] ?? {}) as Record<string, unknown>;
    const file = writeStackFile({ ...config, "oslo-mesh:kubernetes": { ...kubernetes, version } });
    const r = await planInBackground(["--stack", stack, "--config-file", file, "--json"]);
    assert.strictEqual(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Plan; // stdout carries the document alone; log lines go to stderr
}

describe("day2: the plan diff of a version bump", function () {
    this.timeout(180_000);

    it("dev 1.14.10 → 1.15.12: the upgrade in order, the VMs untouched, the steps pointing at it", async () => {
        const d = diffPlans(...(await Promise.all([plan("dev", "1.14.10"), plan("dev", "1.15.12")])));
        const text = renderDiff(d, "diff");
        assert.match(
            text,
            /Kubernetes upgrade 1\.14\.10 → 1\.15\.12, in place, in this order \(each step waits for the one before\):\n {2}1\. dev-cp-1: kubeadm upgrade plan \+ apply v1\.15\.12 \(first control plane\)\n {2}2\. dev-worker-1: drain, kubeadm upgrade node, new kubelet and kubectl, uncordon \(worker\)\n {2}3\. dev-worker-2: drain/,
        );
        assert.match(text, /~ command:remote:Command {2}dev-worker-1-upgrade {2}\(upgrade to 1\.15\.12, see above\)/);
        assert.deepStrictEqual(d.added.concat(d.removed).map((r) => r.name), [], "nothing created or destroyed");
        // No VM is replaced. Each VM's create script names the node image a new VM would be cloned
        // from (made for the new version); that line alone changes, and re-running the create on an
        // existing domain does nothing to it.
        for (const c of d.changed.filter((x) => x.resource.name.endsWith("-vm"))) {
            assert.deepStrictEqual(c.replacedBy, [], `${c.resource.name} is not replaced`);
            assert.deepStrictEqual(c.fields.map((f) => f.path), ["inputs.create"], c.resource.name);
            const lines = (v: unknown) => String(v).split("\n");
            const [before, after] = [lines(c.fields[0].before), lines(c.fields[0].after)];
            const differing = before.map((l, i) => (l === after[i] ? null : [l, after[i]])).filter((x) => x !== null);
            assert.strictEqual(before.length, after.length, c.resource.name);
            assert.deepStrictEqual(differing.map(([b, a]) => [b!.replace(/[0-9a-f]{32}/, "X"), a!.replace(/[0-9a-f]{32}/, "X")]), [["readonly NODE_IMAGE='oslo-mesh-node-X'", "readonly NODE_IMAGE='oslo-mesh-node-X'"]], c.resource.name);
        }
        for (const c of d.changed.filter((x) => x.resource.name.endsWith("-join"))) {
            assert.deepStrictEqual([...new Set(c.fields.map((f) => f.path.split(".").slice(0, 2).join(".")))].sort(), ["inputs.create", "inputs.update"], `${c.resource.name} changes only its script (in place)`);
        }
    });

    it("prod 1.15.11 → 1.15.12: three control planes one at a time, then the workers one at a time", async () => {
        const text = renderDiff(diffPlans(...(await Promise.all([plan("prod", "1.15.11"), plan("prod", "1.15.12")]))), "diff");
        const steps = text.split("\n").filter((l) => /^ {2}\d\. /.test(l));
        assert.deepStrictEqual(
            steps.map((l) => l.replace(/:.*/, "")),
            ["  1. prod-cp-1", "  2. prod-cp-2", "  3. prod-cp-3", "  4. prod-worker-1", "  5. prod-worker-2", "  6. prod-worker-3"],
        );
    });
});
