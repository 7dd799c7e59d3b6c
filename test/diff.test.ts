// `npm run plan -- --diff <git-ref>`: the readable diff of two plans, on fixed plans and against git.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseOlderPlan } from "../plan/baseline";
import { diffPlans, renderDiff } from "../plan/diff";
import { coveredBy, valuesAt } from "../plan/propertyPaths";
import { Plan, PlanResource } from "../plan/run";
import { CliResult, planInBackground, runPlanCli, stackFileConfig, workingTreeCommit, writeStackFile } from "./harness";

const fixture = (name: string) => parseOlderPlan(fs.readFileSync(path.join(__dirname, "fixtures", name), "utf8"), "prod");

const resource = (name: string, type: string, inputs: Record<string, unknown>, opts: Partial<PlanResource> = {}): PlanResource => ({
    urn: `urn:pulumi:dev::oslo-mesh::${type}::${name}`,
    type,
    name,
    parent: null,
    custom: true,
    dependsOn: [],
    inputs,
    replaceOnChanges: [],
    deleteBeforeReplace: false,
    ...opts,
});
const plan = (...resources: PlanResource[]): Plan => ({ stack: "dev", resources, outputs: {}, diagnostics: [] });
const script = (version: string, sums: string) =>
    `f=$(mktemp) && cat >"$f" <<'OSLO_MESH_SCRIPT'\n#!/usr/bin/env bash\nset -euo pipefail\nreadonly ARTIFACT_SUMS=(${sums})\nreadonly K8S_VERSION='${version}'\nkubeadm init\nOSLO_MESH_SCRIPT\n`;

// Started while mocha loads the other files; each diff evaluates two plans.
const snapshot = workingTreeCommit();
const stagingChange = stackFileConfig("staging");
(stagingChange["oslo-mesh:canaries"] as Array<Record<string, unknown>>)[0].weights = { v1: 80, v2: 20 };
// What a VM is made from changes: the contract with the VPS component is that this replaces it.
(stagingChange["oslo-mesh:nodes"] as Array<Record<string, unknown>>)[1].memoryMiB = 12288;
const diffs: Record<string, Promise<CliResult>> = {
    dev: planInBackground(["--stack", "dev", "--diff", snapshot]),
    prod: planInBackground(["--stack=prod", `--diff=${snapshot}`]),
    staging: planInBackground(["--stack", "staging", "--diff", snapshot, "--config-file", writeStackFile(stagingChange)]),
};
for (const p of Object.values(diffs)) p.catch(() => undefined);

describe("plan diff", () => {
    const text = renderDiff(diffPlans(fixture("plan-base.json"), fixture("plan-head.json")), "Plan diff for stack prod: main → working tree");
    const lines = text.split("\n");

    it("names the resources that appear and vanish", () => {
        assert.ok(lines.includes("+ kubernetes:networking.istio.io/v1alpha3:VirtualService  canary-bookinfo-ratings-virtualservice"));
        assert.ok(lines.includes("+ pulumi:providers:kubernetes  prod-provider"));
        assert.ok(lines.includes("- command:remote:Command  prod-worker-3-join"));
        assert.strictEqual(lines[lines.length - 2], "2 to add, 2 to change, 0 to replace, 1 to remove");
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

    it("shows a script that is both create and update once, and a long changed line cut to its change", () => {
        const sums = (last: string) => [1, 2, 3, 4].map((i) => `'${String(i).repeat(64)}'`).concat(`'${last}'`).join(" ");
        const before = script("1.15.11", sums("a".repeat(64)));
        const after = script("1.15.12", sums("b".repeat(64)));
        const d = renderDiff(
            diffPlans(plan(resource("dev-init", "command:remote:Command", { create: before, update: before })), plan(resource("dev-init", "command:remote:Command", { create: after, update: after }))),
            "t",
        ).split("\n");
        assert.deepStrictEqual(d.slice(1, -2), [
            "~ command:remote:Command  dev-init",
            "      inputs.create, inputs.update: changed",
            `        - …${"4".repeat(27)}' '${"a".repeat(64)}')`,
            "        - readonly K8S_VERSION='1.15.11'",
            `        + …${"4".repeat(27)}' '${"b".repeat(64)}')`,
            "        + readonly K8S_VERSION='1.15.12'",
        ]);
        assert.strictEqual(d[d.length - 2], "0 to add, 1 to change, 0 to replace, 0 to remove");
    });

    it("a changed command trigger, or a field named in replaceOnChanges, is a replacement (+-)", () => {
        const vm = (disk: number, trigger: string) =>
            resource("dev-cp-1-vm", "command:local:Command", { create: `create ${disk}`, triggers: [trigger] }, { deleteBeforeReplace: true });
        const vs = (weight: number, label: string) =>
            resource("reviews-vs", "kubernetes:networking.istio.io/v1alpha3:VirtualService", { metadata: { labels: { team: label } }, spec: { http: [{ weight }] } }, { replaceOnChanges: ["spec.http[*].weight"] });
        const d = renderDiff(diffPlans(plan(vm(20, "sha-1"), vs(90, "a")), plan(vm(40, "sha-2"), vs(80, "a"))), "t").split("\n");
        assert.ok(d.includes("+- command:local:Command  dev-cp-1-vm  (replaced: triggers changed; the old one is deleted first)"), d.join("\n"));
        assert.ok(d.includes("+- kubernetes:networking.istio.io/v1alpha3:VirtualService  reviews-vs  (replaced: spec.http[*].weight changed)"), d.join("\n"));
        assert.strictEqual(d[d.length - 2], "0 to add, 0 to change, 2 to replace, 0 to remove");
        // A change outside those fields is an update in place.
        const u = renderDiff(diffPlans(plan(vm(20, "sha-1"), vs(90, "a")), plan(vm(40, "sha-1"), vs(90, "b"))), "t").split("\n");
        assert.ok(u.includes("~ command:local:Command  dev-cp-1-vm") && u.includes("~ kubernetes:networking.istio.io/v1alpha3:VirtualService  reviews-vs"), u.join("\n"));
        assert.strictEqual(u[u.length - 2], "0 to add, 2 to change, 0 to replace, 0 to remove");
    });

    it("matches replaceOnChanges property paths as Pulumi writes them", () => {
        assert.ok(coveredBy("*", "create"));
        assert.ok(coveredBy("triggers", "triggers[0]"));
        assert.ok(coveredBy("spec.http[*].route", "spec.http[2].route[0].weight"));
        assert.ok(!coveredBy("spec.http[*].route", "spec.hosts[0]"));
        assert.ok(!coveredBy("create", "update"));
        assert.deepStrictEqual(valuesAt({ triggers: [{ a: 1 }, { a: 2 }] }, "triggers[*].a"), [1, 2]);
        assert.deepStrictEqual(valuesAt({ create: "x" }, "triggers[*]"), []);
    });

    it("reads a plan printed by an older revision: library log lines before it, no resource options", () => {
        const old = parseOlderPlan(`info: [runtime] [Can't preview] all chart values must be known\n{"stack": "dev", "resources": [{"urn": "u", "type": "t", "name": "n", "parent": null, "custom": true, "dependsOn": [], "inputs": {}}], "outputs": {}}\n`, "dev");
        assert.deepStrictEqual(old.resources[0].replaceOnChanges, []);
        assert.strictEqual(old.resources[0].deleteBeforeReplace, false);
        assert.deepStrictEqual(old.diagnostics, []);
    });

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: --diff against a commit of the working tree (HEAD, on a clean checkout) finds nothing to change`, async function () {
            this.timeout(180000);
            const r = await diffs[stack];
            assert.strictEqual(r.status, 0, r.stderr);
            assert.strictEqual(r.stdout, `Plan diff for stack ${stack}: ${snapshot} → working tree\n0 to add, 0 to change, 0 to replace, 0 to remove\n`);
            assert.match(r.stderr, /^warning: oslo-mesh:ssh\.publicKey: is the example key/m, "the program's warnings go to stderr");
        });
    }

    it("staging: --diff shows exactly the config changes: a weight in place, a VM's size as a replacement", async function () {
        this.timeout(180000);
        const r = await diffs.staging;
        assert.strictEqual(r.status, 0, r.stderr);
        const lines = r.stdout.split("\n");
        const vs = lines.indexOf("~ kubernetes:networking.istio.io/v1alpha3:VirtualService  canary-bookinfo-reviews-virtualservice");
        assert.ok(vs > 0, r.stdout);
        assert.deepStrictEqual(lines.slice(vs + 1, vs + 3), ["      inputs.spec.http[1].route[0].weight: 90 → 80", "      inputs.spec.http[1].route[1].weight: 10 → 20"]);
        assert.ok(lines.includes("+- command:remote:Command  stg-worker-1-vm  (replaced: triggers changed; the old one is deleted first)"), r.stdout);
        assert.ok(lines.some((l) => /^ {8}\+ readonly MEMORY_MIB='12288'$/.test(l)), r.stdout);
        // The VM's replacement takes the steps on that machine with it (roll/), and the rollout gate sees the new recipe; nothing else changes.
        const changed = lines.map((l) => /^(?:\+|-|~|\+-) \S+ {2}(\S+)/.exec(l)?.[1]).filter((n) => n !== undefined);
        const chain = ["admit", "firewall", "join", "prepare", "registered", "upgrade", "vm"].map((s) => `stg-worker-1-${s}`);
        assert.deepStrictEqual(changed.sort(), ["canary-bookinfo-reviews-virtualservice", "rollout-gate", ...chain].sort(), "nothing else changes");
        for (const step of chain.filter((s) => !s.endsWith("-vm"))) assert.ok(lines.includes(`+- command:remote:Command  ${step}  (replaced: triggers changed; the old one is deleted first)`), r.stdout);
        assert.strictEqual(lines[lines.length - 2], "0 to add, 2 to change, 7 to replace, 0 to remove");
    });

    it("refuses a revision that does not exist", () => {
        const r = runPlanCli(["--stack", "prod", "--diff", "no-such-branch"]);
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /--diff: no-such-branch is not a commit of this repository/);
        assert.strictEqual(r.stdout, "");
    });
});
