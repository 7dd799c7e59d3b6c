// The plan diff of an image change on one worker (oslo-mesh:nodes[].image): its VM and every
// step on it change their `triggers` (a replacement for @pulumi/command), the gate records the
// new recipe, and nothing of any other node changes.
import * as assert from "assert";
import { diffPlans, renderDiff } from "../plan/diff";
import { Plan } from "../plan/run";
import { planInBackground, sharedPlan, stackFileConfig, writeStackFile } from "./harness";

/** `npm run plan -- --stack prod --json` with a stack file, in the background. */
async function plan(configFile: string): Promise<Plan> {
    const r = await planInBackground(["--stack", "prod", "--json", "--config-file", configFile]);
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Plan;
}

describe("roll: the plan diff of an image change on one worker", function () {
    this.timeout(180_000);
    let text: string;
    let changed: string[];

    before(async () => {
        const raw = stackFileConfig("prod") as Record<string, any>;
        raw["oslo-mesh:nodes"][4].image = { url: "https://cloud-images.ubuntu.com/releases/focal/release-20240821/ubuntu-20.04-server-cloudimg-amd64.img", sha256: "b".repeat(64) };
        // The committed prod's plan is the one every test shares (npm run plan -- --stack prod --json).
        const [base, head] = await Promise.all([sharedPlan("prod").then((p) => p.plan as unknown as Plan), plan(writeStackFile(raw))]);
        const d = diffPlans(base, head);
        text = renderDiff(d, "Plan diff for stack prod");
        changed = d.changed.map((c) => c.resource.name).sort();
        assert.deepStrictEqual(d.added, []);
        assert.deepStrictEqual(d.removed, []);
    });

    it("changes the worker's VM, prepare, firewall, admit, join, registered and upgrade, and the gate; nothing on other nodes", () => {
        assert.deepStrictEqual(changed, ["prod-worker-2-admit", "prod-worker-2-firewall", "prod-worker-2-join", "prod-worker-2-prepare", "prod-worker-2-registered", "prod-worker-2-upgrade", "prod-worker-2-vm", "rollout-gate"]);
    });

    it("each of them through its triggers: what @pulumi/command replaces on", () => {
        const lines = text.split("\n");
        for (const step of ["prepare", "firewall", "admit", "join", "registered", "upgrade"]) {
            const at = lines.findIndex((l) => l.startsWith(`+- command:remote:Command  prod-worker-2-${step}  (replaced: triggers changed; the old one is deleted first)`));
            assert.ok(at >= 0, text);
            assert.match(lines[at + 1], /^ {6}inputs\.triggers\[0\]\.recipe: "sha256:[0-9a-f]{64}" → "sha256:[0-9a-f]{64}"$/, `${step}:\n${text}`);
        }
        const vm = lines.findIndex((l) => l.startsWith("+- command:remote:Command  prod-worker-2-vm  (replaced: triggers changed; the old one is deleted first)"));
        assert.ok(vm >= 0, text);
        const vmFields = lines.slice(vm + 1, lines.findIndex((l, i) => i > vm && !l.startsWith("  ")));
        // A long string changes as a line diff around the change (plan/diff.ts).
        const url = vmFields.indexOf("      inputs.triggers[0].image.url: changed");
        assert.ok(url >= 0, vmFields.join("\n"));
        assert.deepStrictEqual(vmFields.slice(url + 1, url + 3), [
            "        - https://cloud-images.ubuntu.com/releases/focal/release/ubuntu-20.04-server-cloudimg-amd64.img",
            "        + …ntu.com/releases/focal/release-20240821/ubuntu-20.04-server-cloudimg-…",
        ]);
        assert.ok(vmFields.includes(`      inputs.triggers[0].image.sha256: null → "${"b".repeat(64)}"`), vmFields.join("\n"));
    });
});
