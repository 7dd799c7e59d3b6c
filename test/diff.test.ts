// `npm run plan -- --diff <git-ref>`: the readable diff of two plans, on two fixed plans.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { diffPlans, renderDiff } from "../plan/diff";
import { Plan } from "../plan/run";
import { runPlanCli } from "./harness";

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", name), "utf8")) as Plan;

describe("plan diff", () => {
    const text = renderDiff(diffPlans(fixture("plan-base.json"), fixture("plan-head.json")), "Plan diff for stack prod: main → working tree");
    const lines = text.split("\n");

    it("names the resources that appear and vanish", () => {
        assert.ok(lines.includes("+ kubernetes:networking.istio.io/v1alpha3:VirtualService  canary-bookinfo-ratings-virtualservice"));
        assert.ok(lines.includes("+ pulumi:providers:kubernetes  prod-provider"));
        assert.ok(lines.includes("- command:remote:Command  prod-worker-3-join"));
        assert.strictEqual(lines[lines.length - 2], "2 to add, 2 to change, 1 to remove");
    });

    it("names each changed field of a changed resource, and what it starts waiting for", () => {
        const at = lines.indexOf("~ kubernetes:networking.istio.io/v1alpha3:VirtualService  canary-bookinfo-reviews-virtualservice");
        assert.ok(at >= 0, text);
        assert.deepStrictEqual(lines.slice(at + 1, at + 4), [
            "      inputs.spec.http[0].route[0].weight: 90 → 80",
            "      inputs.spec.http[0].route[1].weight: 10 → 20",
            "      dependsOn: +prod-provider",
        ]);
    });

    it("shows a changed secret only as changed, leaves an unchanged one out, and shows script lines", () => {
        const at = lines.indexOf("~ command:remote:Command  prod-init");
        assert.deepStrictEqual(lines.slice(at + 1, at + 5), [
            "      inputs.create: changed",
            "        - readonly K8S_VERSION='1.15.11'",
            "        + readonly K8S_VERSION='1.15.12'",
            "      inputs.stdin: [secret] changed",
        ]);
        assert.ok(!text.includes("inputs.connection"), "the connection's secret did not change");
        assert.ok(!/[0-9a-f]{16}/.test(text), "no digest is printed");
    });

    it("runs against a git revision: the same tree has no change", function () {
        this.timeout(60000);
        const r = runPlanCli(["--stack", "staging", "--diff", "HEAD"]);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /^Plan diff for stack staging: HEAD → working tree\n/);
        assert.match(r.stdout, /\d+ to add, \d+ to change, \d+ to remove\n$/);
    });

    it("refuses a revision that does not exist", () => {
        const r = runPlanCli(["--stack", "prod", "--diff", "no-such-branch"]);
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /--diff: no-such-branch is not a commit of this repository/);
        assert.strictEqual(r.stdout, "");
    });
});
