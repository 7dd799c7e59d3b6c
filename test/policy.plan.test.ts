// `npm run plan -- --policy`: the pack's rules in-process against the plan, as a user runs it.
// The committed stacks pass; a prod config whose exception has lapsed, and a change to the
// program that weakens prod's MeshPolicy, fail with the rule named.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR, runPlanCli, sharedPlan, sharedTree, stackFileConfig, writeStackFile } from "./harness";

/**
 * A copy of the compiled project (bin/, node_modules linked) with one file changed, as a pull
 * request would change it: `change` applies to the file's source and to its compiled code alike.
 */
function projectWith(file: string, change: (text: string) => string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-project-"));
    const skip = new Set(["node_modules", ".git", "plan-out", "scratch", ".oslo-mesh"]);
    fs.cpSync(PROJECT_DIR, dir, { recursive: true, filter: (src) => !skip.has(path.basename(src)) || path.dirname(src) !== PROJECT_DIR });
    fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(dir, "node_modules"));
    for (const target of [path.join(dir, file), path.join(dir, "bin", file.replace(/\.ts$/, ".js"))]) {
        const before = fs.readFileSync(target, "utf8");
        const after = change(before);
        assert.notStrictEqual(after, before, `the change to ${path.relative(dir, target)} applies`);
        fs.writeFileSync(target, after);
    }
    return dir;
}

/** `npm run plan` in that copy, compiled as `npm run plan` runs it. */
function planIn(dir: string, args: string[]) {
    return spawnSync(process.execPath, [path.join(dir, "bin", "plan", "cli.js"), ...args], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, KUBECONFIG: "" },
    });
}

describe("policy in the offline plan: npm run plan -- --policy", function () {
    this.timeout(180000);

    // The committed stacks' runs are the ones every test of `npm test` shares (test/harness.ts):
    // the JSON plans ran with --policy, and staging's tree with it too.
    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: the committed stack passes`, async () => {
            const r = await sharedPlan(stack);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.match(r.stderr, /^Policy \(11 rules\): 0 mandatory/m);
        });
    }

    it("staging: the report follows the tree", async () => {
        const r = await sharedTree("staging");
        assert.strictEqual(r.status, 0, r.stdout + r.stderr);
        const [stackLine, resources, report] = ["Stack staging:", "\nResources:", "Policy (11 rules): 0 mandatory"].map((t) => r.stdout.indexOf(t));
        assert.ok(stackLine >= 0 && resources > stackLine && report > resources, r.stdout);
    });

    it("prod with a lapsed plaintext exception fails, naming the rule, the resource and the owner", () => {
        const config = stackFileConfig("prod");
        config["oslo-mesh:mesh"] = { ...(config["oslo-mesh:mesh"] as object), mtls: { exceptions: [{ namespace: "legacy", owner: "payments-team", expires: "2020-01-31" }] } };
        const r = runPlanCli(["--stack", "prod", "--config-file", writeStackFile(config), "--policy"]);
        assert.strictEqual(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stdout, /mandatory {2}mtls-exceptions-declared {2}DestinationRule mesh-mtls-destinationrule-istio-system-mtls-exception-legacy\n\s+DestinationRule istio-system\/mtls-exception-legacy lets plaintext through \(host \*\.legacy\.svc\.cluster\.local\): the exception owned by payments-team lapsed after 2020-01-31/);
    });

    it("prod after a change that weakens the MeshPolicy fails, naming prod-strict-mtls", () => {
        const dir = projectWith("components/mesh/render.ts", (t) => t.replace('mtls.mode === "STRICT" ? {} : { mode: "PERMISSIVE" }', '{ mode: "PERMISSIVE" }'));
        const r = planIn(dir, ["--stack", "prod", "--policy"]);
        assert.strictEqual(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stdout, /mandatory {2}prod-strict-mtls {2}MeshPolicy mesh-mtls-meshpolicy-cluster-default\n\s+the MeshPolicy `default` is not STRICT/);
    });

    it("--json stays one JSON document on stdout; the report goes to stderr", async () => {
        const r = await sharedPlan("prod");
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(JSON.parse(r.stdout).stack, "prod");
        assert.ok(!r.stdout.includes("Policy (11 rules)"));
        assert.match(r.stderr, /Policy \(11 rules\): 0 mandatory/);
    });
});
