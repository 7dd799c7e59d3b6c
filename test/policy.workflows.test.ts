// The release flow runs the policy pack: previews of pull requests for staging and prod, and
// every `pulumi up`, through pulumi/actions' `policyPacks` input (action.yml of pulumi/actions
// at v6.6.1: "Run one or more policy packs as part of this update"), after installing the pack.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { PROJECT_DIR } from "./harness";

const workflow = (name: string) => jsyaml.load(fs.readFileSync(path.join(PROJECT_DIR, ".github", "workflows", name), "utf8")) as Record<string, any>;

function pulumiSteps(job: any): Array<{ index: number; with: Record<string, unknown> }> {
    return job.steps.map((s: any, index: number) => ({ index, uses: String(s.uses ?? ""), with: s.with ?? {} })).filter((s: any) => s.uses.startsWith("pulumi/actions@"));
}

function assertPolicyRunsIn(job: any, command: string): void {
    const steps = pulumiSteps(job);
    assert.strictEqual(steps.length, 1);
    assert.strictEqual(steps[0].with.command, command);
    assert.strictEqual(steps[0].with.policyPacks, "policy");
    const install = job.steps.findIndex((s: any) => /^npm ci --prefix policy\b/.test(String(s.run ?? "")));
    assert.ok(install >= 0 && install < steps[0].index, "the pack's dependencies are installed before Pulumi runs it");
}

describe("policy pack in the release flow", () => {
    it("pull requests: the preview of staging and of prod runs the pack", () => {
        const preview = workflow("pull-request.yml").jobs.preview;
        assert.deepStrictEqual(preview.strategy.matrix.stack, ["staging", "prod"]);
        assertPolicyRunsIn(preview, "preview");
    });

    it("merges: every pulumi up enforces it", () => {
        const release = workflow("release.yml");
        for (const job of ["staging", "prod"]) assertPolicyRunsIn(release.jobs[job], "up");
    });

    it("`npm ci --prefix policy` can install the pack: its lock file matches its package.json", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "policy", "package.json"), "utf8"));
        const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "policy", "package-lock.json"), "utf8"));
        assert.deepStrictEqual(lock.packages[""].dependencies, pkg.dependencies);
        assert.deepStrictEqual(lock.packages[""].devDependencies, pkg.devDependencies);
        // The pack's SDK is the program's: @pulumi/pulumi 3.249+ needs Node 22.
        const root = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8"));
        assert.strictEqual(pkg.dependencies["@pulumi/pulumi"], root.dependencies["@pulumi/pulumi"]);
        assert.strictEqual(pkg.dependencies["@pulumi/policy"], root.devDependencies["@pulumi/policy"]);
        assert.strictEqual(lock.packages["node_modules/@pulumi/pulumi"].version.startsWith("3.248."), true);
    });
});
