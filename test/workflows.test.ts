// The GitHub workflows pass a real workflow validator (@action-validator/cli) and do what the
// release flow promises.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { PROJECT_DIR } from "./harness";

const WORKFLOWS = path.join(PROJECT_DIR, ".github", "workflows");
const validate = (file: string) => spawnSync(path.join(PROJECT_DIR, "node_modules", ".bin", "action-validator"), [file], { encoding: "utf8" });
const load = (name: string) => jsyaml.load(fs.readFileSync(path.join(WORKFLOWS, name), "utf8")) as Record<string, any>;

describe("workflows", () => {
    for (const file of fs.readdirSync(WORKFLOWS)) {
        it(`${file} passes action-validator`, () => {
            const r = validate(path.join(WORKFLOWS, file));
            assert.strictEqual(r.status, 0, r.stdout + r.stderr);
        });
    }

    it("the validator rejects a broken workflow", () => {
        const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "wf-")), "bad.yml");
        fs.writeFileSync(bad, "on: push\njobs:\n  x:\n    runs-on: ubuntu-22.04\n    stepz: []\n");
        assert.notStrictEqual(validate(bad).status, 0);
    });

    it("pull requests: tests, then a commented preview, the plan artifact and its diff for staging and prod", () => {
        const wf = load("pull-request.yml");
        assert.deepStrictEqual(Object.keys(wf.on), ["pull_request"]);
        assert.ok(wf.jobs.test.steps.some((s: any) => /bash \.ci\/run/.test(s.run ?? "")));
        const preview = wf.jobs.preview;
        assert.strictEqual(preview.needs, "test");
        assert.deepStrictEqual(preview.strategy.matrix.stack, ["staging", "prod"]);
        const pulumi = preview.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
        assert.strictEqual(pulumi.with.command, "preview");
        assert.strictEqual(pulumi.with["comment-on-pr"], true);
        assert.strictEqual(pulumi.env.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
        assert.ok(preview.steps.some((s: any) => String(s.uses).startsWith("actions/upload-artifact@")));
        assert.ok(preview.steps.some((s: any) => /--diff origin\/\$\{\{ github\.base_ref \}\}/.test(s.run ?? "") && /GITHUB_STEP_SUMMARY/.test(s.run)));
    });

    it("every job that talks to the clusters runs on the self-hosted runner in Oslo, inside the admin CIDRs, and never for a fork", () => {
        const jobs = ["pull-request.yml", "release.yml"].flatMap((f) => Object.entries(load(f).jobs).map(([name, job]) => ({ file: f, name, job: job as any })));
        const pulumiJobs = jobs.filter(({ job }) => job.steps.some((s: any) => String(s.uses).startsWith("pulumi/actions@")));
        assert.deepStrictEqual(pulumiJobs.map((j) => `${j.file}:${j.name}`), ["pull-request.yml:preview", "release.yml:staging", "release.yml:prod"]);
        for (const { file, name, job } of pulumiJobs) assert.deepStrictEqual(job["runs-on"], ["self-hosted", "linux", "oslo"], `${file}:${name}`);
        assert.strictEqual(load("pull-request.yml").jobs.preview.if, "github.event.pull_request.head.repo.full_name == github.repository");
        assert.strictEqual(load("pull-request.yml").jobs.test["runs-on"], "ubuntu-22.04", "the tests need no access to the clusters");
        const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
        const flow = readme.slice(readme.indexOf("## From a branch to prod"), readme.indexOf("### Adding an environment"));
        assert.match(flow, /self-hosted runner in Oslo/);
        assert.match(flow, /`self-hosted`, `linux`, `oslo`/);
        assert.match(flow, /oslo-mesh:kubernetes\.adminCidrs/);
    });

    it("merges to main: pulumi up on staging, then prod behind the production environment's approval", () => {
        const wf = load("release.yml");
        assert.deepStrictEqual(wf.on, { push: { branches: ["main"] } });
        const up = (job: any) => job.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@")).with;
        assert.deepStrictEqual(up(wf.jobs.staging), { command: "up", "stack-name": "staging", policyPacks: "policy" });
        assert.deepStrictEqual(up(wf.jobs.prod), { command: "up", "stack-name": "prod", policyPacks: "policy" });
        assert.strictEqual(wf.jobs.prod.needs, "staging");
        assert.strictEqual(wf.jobs.prod.environment, "production");
        const text = fs.readFileSync(path.join(WORKFLOWS, "release.yml"), "utf8") + fs.readFileSync(path.join(WORKFLOWS, "pull-request.yml"), "utf8");
        assert.ok(!/BEGIN [A-Z ]*PRIVATE KEY/.test(text), "no credential in the repository");
    });
});
