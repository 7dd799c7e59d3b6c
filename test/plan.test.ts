// The offline plan, run as users run it: `npm run plan -- --stack <name> ...`.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { runPlanCli, stackFileConfig, writeStackFile } from "./harness";

interface PlanJson {
    stack: string;
    resources: Array<{ urn: string; type: string; name: string; parent: string | null; custom: boolean; dependsOn: string[]; inputs: Record<string, unknown> }>;
    outputs: Record<string, unknown>;
}

const SECRET_KEY_MATERIAL = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ-plan-test-secret\n-----END OPENSSH PRIVATE KEY-----\n";

describe("plan: npm run plan", function () {
    this.timeout(120000);
    const plans = new Map<string, PlanJson>();

    before(() => {
        for (const stack of ["staging", "prod"]) {
            const r = runPlanCli(["--stack", stack, "--json"]);
            assert.strictEqual(r.status, 0, r.stderr);
            plans.set(stack, JSON.parse(r.stdout) as PlanJson);
        }
    });

    for (const stack of ["staging", "prod"]) {
        it(`--json for ${stack} holds every field for every resource`, () => {
            const plan = plans.get(stack)!;
            assert.strictEqual(plan.stack, stack);
            const urns = new Set(plan.resources.map((r) => r.urn));
            for (const r of plan.resources) {
                assert.deepStrictEqual(Object.keys(r), ["urn", "type", "name", "parent", "custom", "dependsOn", "inputs"]);
                assert.ok(r.urn.startsWith(`urn:pulumi:${stack}::oslo-mesh::`), r.urn);
                assert.ok(r.parent === null || urns.has(r.parent), `${r.name}'s parent ${r.parent} is in the plan`);
                for (const d of r.dependsOn) assert.ok(urns.has(d), `${r.name} depends on ${d}, which is in the plan`);
            }
        });
    }

    it("two evaluations of the same stack give byte-identical plans", () => {
        const again = runPlanCli(["--stack", "prod", "--json"]);
        assert.strictEqual(again.status, 0, again.stderr);
        assert.strictEqual(again.stdout, JSON.stringify(plans.get("prod"), null, 2) + "\n");
        const third = runPlanCli(["--stack", "prod", "--json"]);
        assert.strictEqual(third.stdout, again.stdout);
    });

    it("prints the resource tree and a count per type without --json", () => {
        const r = runPlanCli(["--stack", "staging"]);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /^Stack staging: \d+ resources$/m);
        assert.match(r.stdout, /^Resources per type:$/m);
    });

    it("a stack file with an unknown key exits 1 with the problem on stderr and nothing on stdout", () => {
        const file = writeStackFile({ ...stackFileConfig("staging"), "oslo-mesh:mehs": { mtls: { mode: "STRICT" } } });
        const r = runPlanCli(["--stack", "staging", "--config-file", file]);
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stdout, "");
        assert.match(r.stderr, /^oslo-mesh:mehs: unknown key; expected one of: /m);
    });

    it("lists every problem of a broken stack on stderr, one per line", () => {
        const config = stackFileConfig("prod");
        (config["oslo-mesh:nodes"] as Array<Record<string, unknown>>)[0].vcpus = 1;
        (config["oslo-mesh:mesh"] as Record<string, unknown>).mtls = { mode: "DISABLE" };
        const r = runPlanCli(["--stack", "prod", "--config-file", writeStackFile(config)]);
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stdout, "");
        assert.deepStrictEqual(r.stderr.trim().split("\n").sort(), [
            "oslo-mesh:mesh.mtls.mode: prod requires STRICT mTLS, got DISABLE",
            "oslo-mesh:nodes[0].vcpus: a control-plane node needs at least 2 vCPUs (kubeadm preflight), got 1",
        ]);
    });

    it("--out writes scripts, cloud-init, kubeadm configs, Helm values and Kubernetes objects as files", () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-out-"));
        const r = runPlanCli(["--stack", "prod", "--out", out]);
        assert.strictEqual(r.status, 0, r.stderr);
        const read = (rel: string) => fs.readFileSync(path.join(out, rel), "utf8");
        assert.match(read("commands/prod-worker-1-prepare.create.sh"), /<<'OSLO_MESH_SCRIPT'\n#!\/usr\/bin\/env bash\n/);
        assert.match(read("cloud-init/prod-cp-1-vm/user-data"), /^#cloud-config\nhostname: prod-cp-1\n/);
        assert.match(read("cloud-init/prod-cp-1-vm/network-config"), /- 203\.0\.113\.10\/24/);
        const [init, cluster] = jsyaml.loadAll(read("kubeadm/prod-init.yaml")) as Array<Record<string, any>>;
        assert.strictEqual(init.kind, "InitConfiguration");
        assert.strictEqual(init.bootstrapTokens[0].token, "__BOOTSTRAP_TOKEN__", "the secret stays a placeholder");
        assert.strictEqual(cluster.kubernetesVersion, "v1.15.12");
        const values = jsyaml.load(read("helm/istio.values.yaml")) as Record<string, any>;
        assert.strictEqual(values.global.tag, "1.3.3");
        const vs = jsyaml.load(read("kubernetes/canary-bookinfo-reviews-virtualservice.yaml")) as Record<string, any>;
        assert.strictEqual(vs.kind, "VirtualService");
        assert.strictEqual(fs.readdirSync(path.join(out, "kubernetes")).filter((f) => f.startsWith("istio-") && f.endsWith(".istio.io.yaml")).length, 23);
    });

    it("unknown arguments are refused with the usage", () => {
        const r = runPlanCli(["--stack", "prod", "--jsn"]);
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /unknown argument --jsn\nusage: npm run plan/);
    });

    it("keeps secret config values out of the JSON plan and the artifacts", () => {
        const config = stackFileConfig("prod");
        (config["oslo-mesh:ssh"] as Record<string, unknown>).privateKey = SECRET_KEY_MATERIAL;
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-out-"));
        // A plain value in the file, marked secret the way a `secure:` entry is: the plan must not show it.
        const file = writeStackFile({ ...config, "oslo-mesh:ssh": { ...(config["oslo-mesh:ssh"] as object), privateKey: { secure: "v1:ZmFrZQ==" } } });
        const r = runPlanCli(["--stack", "prod", "--json", "--config-file", file, "--out", out]);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.ok(!r.stdout.includes("ZmFrZQ=="), "ciphertext is not shown");
        assert.ok(!r.stdout.includes("[secret placeholder"), "the placeholder is treated as a secret");
        const files = listFiles(out);
        for (const f of files) assert.ok(!fs.readFileSync(f, "utf8").includes("[secret placeholder"), `${f} holds no secret`);
    });
});

function listFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}
