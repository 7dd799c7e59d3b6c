// The offline plan, run as users run it: `npm run plan -- --stack <name> ...`.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { MANIFEST, prepareOutDir } from "../plan/artifacts";
import { transpiledRevision } from "../plan/baseline";
import { offlineChartEnv } from "../plan/run";
import { parseArgs } from "../plan/args";
import { settled, startMockRuntime } from "../plan/mocks";
import { readStackFile } from "../plan/stackFile";
import { checkExampleKey, EXAMPLE_KEY_MATERIAL } from "../stacks/exampleKey";
import { compiledDir, PROJECT_DIR, problemsOf, runInBackground, runPlanCli, sharedPlan, sharedTree, stackFileConfig, valueOf, workingTreeCommit, writeStackFile } from "./harness";

const STACKS = ["dev", "staging", "prod"];
const SECRET_KEY_MATERIAL = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ-plan-test-secret\n-----END OPENSSH PRIVATE KEY-----\n";
const EXAMPLE_KEY_WARNING = /^warning: oslo-mesh:ssh\.publicKey: is the example key committed with this project, not one of yours, and pulumi up will refuse it/m;

// Started now, while mocha loads the other files: they run beside the tests that do not need them.
for (const stack of STACKS) void sharedPlan(stack);
void sharedTree("staging");
// The program from its TypeScript sources, transpiled file by file as ts-node does for `pulumi up`
// (Pulumi.yaml), not from bin/: the tree `--diff` runs for a revision, here the working tree's.
const fromTypeScript = runInBackground(process.execPath, [path.join(transpiledRevision(workingTreeCommit()), "plan", "cli.js"), "--stack", "prod", "--json"], { env: offlineChartEnv() });

describe("plan: npm run plan", function () {
    this.timeout(180000);

    for (const stack of STACKS) {
        it(`${stack} --json: standard output is one JSON document with every field of every resource`, async () => {
            const { plan, stdout, stderr } = await sharedPlan(stack);
            assert.deepStrictEqual(JSON.parse(stdout), plan);
            assert.strictEqual(plan.stack, stack);
            assert.deepStrictEqual(Object.keys(plan), ["stack", "resources", "outputs", "diagnostics"]);
            const urns = new Set(plan.resources.map((r) => r.urn));
            for (const r of plan.resources) {
                assert.deepStrictEqual(Object.keys(r), ["urn", "type", "name", "parent", "custom", "dependsOn", "inputs", "replaceOnChanges", "deleteBeforeReplace"]);
                assert.ok(r.urn.startsWith(`urn:pulumi:${stack}::oslo-mesh::`), r.urn);
                assert.ok(r.parent === null || urns.has(r.parent), `${r.name}'s parent ${r.parent} is in the plan`);
                for (const d of r.dependsOn) assert.ok(urns.has(d), `${r.name} depends on ${d}, which is in the plan`);
            }
            // What the program logs goes to stderr (and into the document), never before or after it on stdout.
            assert.match(stderr, EXAMPLE_KEY_WARNING);
            assert.ok(plan.diagnostics.some((d) => d.severity === "warning" && d.message.startsWith("oslo-mesh:ssh.publicKey: is the example key")));
        });

        it(`${stack} --out: the artifacts, and plan.json equal to the --json document`, async () => {
            const { stdout, outDir } = await sharedPlan(stack);
            assert.strictEqual(fs.readFileSync(path.join(outDir, "plan.json"), "utf8"), stdout);
            const manifest = JSON.parse(fs.readFileSync(path.join(outDir, MANIFEST), "utf8")) as { stack: string; files: string[] };
            assert.strictEqual(manifest.stack, stack);
            assert.deepStrictEqual(listFiles(outDir).filter((f) => f !== MANIFEST), manifest.files);
            assert.ok(manifest.files.some((f) => /^commands\/.*-vm\.create\.sh$/.test(f)), "every stack creates its VMs");
        });
    }

    it("the compiled plan and the program transpiled from its TypeScript sources give byte-identical plans", async () => {
        const [compiled, typescript] = await Promise.all([sharedPlan("prod"), fromTypeScript]);
        assert.strictEqual(typescript.status, 0, typescript.stderr);
        assert.strictEqual(typescript.stdout, compiled.stdout);
    });

    it("--out writes scripts, cloud-init, kubeadm configs, Helm values and Kubernetes objects as files", async () => {
        const { outDir: out } = await sharedPlan("prod");
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

    it("the tree reads like a preview: the stack at the root, children under their parent in the order they wait, one line of details", async () => {
        const r = await sharedTree("staging");
        assert.strictEqual(r.status, 0, r.stderr);
        const lines = r.stdout.split("\n");
        const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\/$]/g, "\\$&");
        const row = (name: string, type = "[^ ]+") => {
            const i = lines.findIndex((l) => l.startsWith(" +   ") && new RegExp(`[─ ] ${type}\\s+${esc(name)}(  |$)`).test(l));
            assert.ok(i >= 0, `a row for ${name} in\n${r.stdout}`);
            return { i, line: lines[i], depth: lines[i].slice(5).search(/[a-z]/) / 3 };
        };
        assert.match(lines.find((l) => l.startsWith(" +   "))!, /^ \+   pulumi:pulumi:Stack\s+oslo-mesh-staging$/);
        const plan = (await sharedPlan("staging")).plan;
        const rowOf = (res: { name: string; type: string }) => row(res.name, esc(res.type));
        for (const res of plan.resources) {
            const { depth } = rowOf(res);
            const expected = res.parent ? rowOf(plan.resources.find((p) => p.urn === res.parent)!).depth + 1 : 1;
            assert.strictEqual(depth, expected, `${res.name} sits under its parent`);
        }
        // Siblings in the order they wait for each other: the nodes, then the cluster, then Istio, then the mesh.
        const istio = row("istio", "oslo-mesh:istio:IstioControlPlane");
        assert.ok(row("stg-worker-2").i < row("staging").i && row("staging").i < istio.i && istio.i < row("canary-bookinfo-reviews").i);
        assert.ok(row("stg-cp-1-prepare").i < row("staging-init").i && row("staging-init").i < row("staging-cni").i && row("staging-cni").i < row("staging-kubeconfig").i);
        // What a reviewer looks for: sizes and addresses, versions, weights and matches.
        assert.match(row("stg-worker-1-vm").line, /stg-worker-1-vm\s+4 vCPU · 8192 MiB · 80 GiB disk · 203\.0\.113\.20 · bridge br0 · pool nvme/);
        assert.match(row("stg-cp-1-prepare").line, /Kubernetes 1\.15\.12/);
        assert.match(row("canary-bookinfo-reviews-virtualservice").line, /hosts reviews · end-user=jason → v2 · v1 90%, v2 10% · timeout 10s · retries 3×2s/);
        assert.match(istio.line, /^ \+   ├─ oslo-mesh:istio:IstioControlPlane\s+istio$/);
        // After the tree: the warnings, then the stack outputs (secrets hidden), then the counts.
        const last = Math.max(...plan.resources.map((res) => rowOf(res).i));
        const diagnostics = lines.indexOf("Diagnostics:");
        const outputs = lines.indexOf("Outputs:");
        assert.ok(last < diagnostics && diagnostics < outputs && outputs < lines.indexOf("Resources:"), r.stdout);
        assert.match(lines.slice(diagnostics, outputs).join("\n"), /warning: oslo-mesh:ssh\.publicKey: is the example key/);
        assert.match(lines.slice(outputs).join("\n"), /^ {4}kubeconfig\s+: \[secret\]$/m);
        assert.match(lines.slice(outputs).join("\n"), /^ {8}stg-worker-1: "203\.0\.113\.20"$/m);
        assert.match(r.stdout, new RegExp(`^ {4}\\+ ${plan.resources.length + 1} to create`, "m"));
        assert.match(r.stdout, /^Resources per type:$/m);
    });

    it("a key set without --path (oslo-mesh:ssh.publicKey) is one problem that says to use --path", () => {
        const config = stackFileConfig("staging");
        const key = (config["oslo-mesh:ssh"] as Record<string, string>).publicKey;
        delete config["oslo-mesh:ssh"];
        assert.deepStrictEqual(problemsOf("staging", { ...config, "oslo-mesh:ssh.publicKey": key }), [
            `oslo-mesh:ssh.publicKey: set as one flat key named "ssh.publicKey"; set it with --path: pulumi config rm 'oslo-mesh:ssh.publicKey' && pulumi config set --path 'oslo-mesh:ssh.publicKey' ...`,
        ]);
        // Deeper, and with a value that is wrong where it belongs: both are said, at the same path.
        assert.deepStrictEqual(problemsOf("staging", { ...stackFileConfig("staging"), "oslo-mesh:mesh.mtls.mode": "STRIKT" }), [
            `oslo-mesh:mesh.mtls.mode: set as one flat key named "mesh.mtls.mode"; set it with --path: pulumi config rm 'oslo-mesh:mesh.mtls.mode' && pulumi config set --path 'oslo-mesh:mesh.mtls.mode' ...`,
            'oslo-mesh:mesh.mtls.mode: expected one of "STRICT", "PERMISSIVE", "DISABLE", got "STRIKT"',
        ]);
    });

    it("a YAML syntax error names the file and the line", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-yaml-"));
        const file = path.join(dir, "Pulumi.broken.yaml");
        fs.writeFileSync(file, "config:\n  oslo-mesh:istio:\n    injectNamespaces: [bookinfo\n  oslo-mesh:mesh: {}\n");
        assert.throws(() => readStackFile(file), (e: Error & { lines?: string[] }) => {
            assert.match(e.lines?.[0] ?? "", /^Pulumi\.broken\.yaml: not valid YAML at line 4, column \d+: /);
            return true;
        });
    });

    it("a broken stack exits 1 with every problem on stderr, one per line, and nothing on stdout", () => {
        const config = stackFileConfig("prod");
        (config["oslo-mesh:nodes"] as Array<Record<string, unknown>>)[0].vcpus = 1;
        (config["oslo-mesh:mesh"] as Record<string, unknown>).mtls = { mode: "DISABLE" };
        config["oslo-mesh:mehs"] = { mtls: { mode: "STRICT" } };
        const r = runPlanCli(["--stack", "prod", "--config-file", writeStackFile(config)]);
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stdout, "");
        const lines = r.stderr.trim().split("\n").sort();
        assert.strictEqual(lines.length, 3, r.stderr);
        assert.strictEqual(lines[0], "oslo-mesh:mehs: unknown key; expected one of: " + lines[0].split("expected one of: ")[1]);
        assert.deepStrictEqual(lines.slice(1), [
            "oslo-mesh:mesh.mtls.mode: prod requires STRICT mTLS, got DISABLE",
            "oslo-mesh:nodes[0].vcpus: a control-plane node needs at least 2 vCPUs (kubeadm preflight), got 1",
        ]);
    });

    it("a broken stack fails before the SDKs load, with the very lines the program throws under pulumi up, as a RunError", () => {
        const config = stackFileConfig("prod");
        (config["oslo-mesh:nodes"] as Array<Record<string, unknown>>)[0].vcpus = 1;
        (config["oslo-mesh:kubernetes"] as Record<string, unknown>).adminCidrs = ["0.0.0.0/0"];
        const file = writeStackFile(config);
        // The program as pulumi up runs it: what it throws, and whether Pulumi takes it for a RunError.
        const program = programUp("prod", file);
        assert.strictEqual(program.result.runError, true, program.stderr);
        assert.strictEqual(program.result.lines.length, 2, program.stdout);
        // npm run plan: the same lines, and not one of the SDKs loaded.
        const plan = nodeScript(`
            let err = ""; process.stderr.write = (t) => ((err += t), true); process.stdout.write = () => true;
            const exit = process.exit;
            process.exit = (code) => { require("fs").writeSync(1, JSON.stringify({ code, err, sdks: Object.keys(require.cache).filter((f) => /node_modules\\/@pulumi\\/[a-z]+\\/index\\.js$/.test(f)).length }) + "\\n"); exit(0); };
            require(${JSON.stringify(path.join(compiledDir(), "plan", "cli.js"))}).main(["--stack", "prod", "--config-file", ${JSON.stringify(file)}]);`);
        assert.strictEqual(plan.result.code, 1, plan.stderr);
        assert.strictEqual(plan.result.sdks, 0, "no SDK is loaded");
        assert.deepStrictEqual(plan.result.err.trim().split("\n"), program.result.lines);
    });

    it("--out refuses a directory that holds something else, or another stack's plan, before writing anything", () => {
        const foreign = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-out-"));
        fs.writeFileSync(path.join(foreign, "notes.txt"), "mine\n");
        const r = runPlanCli(["--stack", "prod", "--out", foreign]);
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stdout, "");
        assert.match(r.stderr, /--out .*: is not empty and holds no plan; give a new or empty directory, or the directory of an earlier plan of stack prod/);
        assert.deepStrictEqual(fs.readdirSync(foreign), ["notes.txt"]);

        const other = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-out-"));
        fs.writeFileSync(path.join(other, MANIFEST), JSON.stringify({ stack: "staging", files: [] }));
        assert.throws(() => prepareOutDir(other, "prod"), /holds the plan of stack staging/);
        const mixed = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-out-"));
        fs.writeFileSync(path.join(mixed, MANIFEST), JSON.stringify({ stack: "prod", files: ["plan.json"] }));
        fs.writeFileSync(path.join(mixed, "plan.json"), "{}");
        fs.writeFileSync(path.join(mixed, "notes.txt"), "mine\n");
        assert.throws(() => prepareOutDir(mixed, "prod"), /holds files that are not part of the earlier plan \(notes\.txt\)/);
        assert.deepStrictEqual(fs.readdirSync(other), [MANIFEST]);
        assert.deepStrictEqual(fs.readdirSync(mixed).sort(), [MANIFEST, "notes.txt", "plan.json"]);
    });

    it("--out replaces an earlier plan of the same stack, and keeps secret config values out of the plan and the artifacts", () => {
        const config = stackFileConfig("prod");
        // A value in the file marked secret the way a `secure:` entry is: the plan must not show it.
        const file = writeStackFile({ ...config, "oslo-mesh:ssh": { ...(config["oslo-mesh:ssh"] as object), privateKey: { secure: "v1:ZmFrZQ==" } } });
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-out-"));
        fs.mkdirSync(path.join(out, "commands"));
        fs.writeFileSync(path.join(out, "commands", "prod-gone.create.sh"), "# from an earlier plan\n");
        fs.writeFileSync(path.join(out, MANIFEST), JSON.stringify({ stack: "prod", files: ["commands/prod-gone.create.sh"] }));
        const r = runPlanCli(["--stack", "prod", "--json", "--config-file", file, "--out", out]);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.ok(!fs.existsSync(path.join(out, "commands", "prod-gone.create.sh")), "the earlier plan's files are gone");
        assert.ok(!r.stdout.includes("ZmFrZQ==") && !r.stdout.includes(SECRET_KEY_MATERIAL), "ciphertext is not shown");
        assert.ok(!r.stdout.includes("[secret placeholder"), "the placeholder is treated as a secret");
        for (const f of listFiles(out)) assert.ok(!fs.readFileSync(path.join(out, f), "utf8").includes("[secret placeholder"), `${f} holds no secret`);
    });

    it("--help, --stack=NAME, and unknown or stray arguments", () => {
        const help = runPlanCli(["--help"]);
        assert.strictEqual(help.status, 0);
        assert.match(help.stdout, /^usage: npm run plan -- --stack <name> /);
        assert.match(help.stdout, /--out DIR .*\n.*\n.*earlier --out of the same stack/);
        assert.deepStrictEqual(parseArgs(["--stack=prod", "--json", "--out=x"], {}), { json: true, policy: false, stack: "prod", out: "x" });
        assert.deepStrictEqual(parseArgs(["--stack", "prod", "--policy"], {}), { json: false, policy: true, stack: "prod" });
        assert.match(help.stdout, /--policy .*policy pack/);
        const r = runPlanCli(["--stack", "prod", "--jsn"]);
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /^unknown argument --jsn\nusage: npm run plan/);
        assert.throws(() => parseArgs(["--stack", "prod", "json"], {}), /unexpected argument json/);
    });

    it("without -- after `npm run plan`, npm keeps the flags: the plan says to add --", function () {
        const npm = spawnSync("npm", ["run", "--silent", "plan", "--stack", "prod", "--json"], { cwd: PROJECT_DIR, encoding: "utf8", env: { ...process.env, KUBECONFIG: "" } });
        if (npm.error) return this.skip(); // no npm on PATH
        assert.strictEqual(npm.status, 1);
        assert.match(npm.stderr, /^npm kept --stack, --json for itself: put -- between `npm run plan` and the plan's flags, e\.g\.\n {2}npm run plan -- --stack prod --json$/m);
        const eq = spawnSync("npm", ["run", "--silent", "plan", "--stack=prod"], { cwd: PROJECT_DIR, encoding: "utf8", env: { ...process.env, KUBECONFIG: "" } });
        assert.strictEqual(eq.status, 1);
        assert.match(eq.stderr, /^npm kept --stack for itself: .*\n {2}npm run plan -- --stack prod$/m);
    });
});

describe("plan: the mock runtime and the example key", () => {
    it("under the mock runtime, what the program logs through pulumi.log is recorded, never printed", async () => {
        const recorder = await startMockRuntime({ stack: "dev", preview: true });
        const printed: string[] = [];
        const [out, err] = [process.stdout.write, process.stderr.write];
        process.stdout.write = process.stderr.write = ((chunk: string) => printed.push(String(chunk)) > 0) as typeof process.stdout.write;
        try {
            await pulumi.log.info("[Can't preview] all chart values must be known ahead of time");
            await pulumi.log.warn("the workers cannot carry the mesh");
        } finally {
            [process.stdout.write, process.stderr.write] = [out, err];
        }
        assert.deepStrictEqual(printed, []);
        assert.deepStrictEqual(recorder.diagnostics, [
            { severity: "info", message: "[Can't preview] all chart values must be known ahead of time" },
            { severity: "warning", message: "the workers cannot carry the mesh" },
        ]);
    });

    it("in a preview a command's ID follows what replaces it (its triggers), not what updates it in place", async () => {
        const idOf = async (create: string, trigger: string) => {
            await startMockRuntime({ stack: "dev", preview: true });
            const vm = new command.local.Command("x-vm", { create, triggers: [trigger] });
            const id = await valueOf(vm.id);
            await settled();
            return id;
        };
        const first = await idOf("create v1", "size 2");
        assert.match(first, /^x-vm-[0-9a-f]{12}$/);
        assert.strictEqual(await idOf("create v2", "size 2"), first, "a changed script is an update: same ID");
        assert.notStrictEqual(await idOf("create v1", "size 4"), first, "a changed trigger is a replacement: a new ID");
    });

    it("the committed example key: a warning in a preview, refused by pulumi up unless the stack says it is the team's", async () => {
        const example = `ssh-ed25519 ${EXAMPLE_KEY_MATERIAL} someone@else`;
        const recorder = await startMockRuntime({ stack: "dev", preview: true });
        checkExampleKey({ publicKey: example }, true);
        assert.match(recorder.diagnostics[0].message, /^oslo-mesh:ssh\.publicKey: is the example key committed with this project, not one of yours, and pulumi up will refuse it: put your own with pulumi config set --path 'oslo-mesh:ssh\.publicKey'/);
        assert.throws(() => checkExampleKey({ publicKey: example }, false), (e: Error & { lines?: string[] }) => {
            assert.strictEqual(e.name, "ConfigError");
            assert.match(e.lines![0], /^oslo-mesh:ssh\.publicKey: is the example key committed with this project, not one of yours: .*pulumi config set --path 'oslo-mesh:ssh\.exampleKeyIsOurs' true$/);
            return true;
        });
        checkExampleKey({ publicKey: example, exampleKeyIsOurs: true }, false);
        checkExampleKey({ publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyMaterialOfTheUserXXXXXXXXXXXXXXXXXXX me@laptop" }, false);
        assert.strictEqual(recorder.diagnostics.length, 1);
    });

    it("pulumi up (no preview) on a committed stack stops at the example key before anything is registered", () => {
        const { result, stderr } = programUp("dev", path.join(PROJECT_DIR, "Pulumi.dev.yaml"));
        assert.strictEqual(result.name, "ConfigError", stderr);
        assert.strictEqual(result.lines.length, 1);
        assert.match(result.lines[0], /^oslo-mesh:ssh\.publicKey: is the example key committed with this project/);
        assert.strictEqual(result.registered, 0);
    });
});

/**
 * A script in a Node.js process of its own (Pulumi's runtime is global, and the SDK's stand-ins
 * only work before it is first loaded), from the project directory: its last line of stdout, parsed.
 */
function nodeScript(script: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string; result: any } {
    const r = spawnSync(process.execPath, ["-e", script], { cwd: opts.cwd ?? PROJECT_DIR, encoding: "utf8", env: { ...process.env, KUBECONFIG: "", ...opts.env } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, result: JSON.parse(r.stdout.trim().split("\n").pop() || "null") };
}

/**
 * The compiled program run as `pulumi up` runs it (no preview) under the mocks, with a stack
 * file: what it throws (name, problem lines, whether Pulumi takes it for a RunError) and how
 * many resources it registered by then; `{}` when it throws nothing.
 */
function programUp(stack: string, stackFile: string) {
    const bin = compiledDir();
    return nodeScript(
        `const { startMockRuntime } = require(${JSON.stringify(path.join(bin, "plan", "mocks.js"))});
        const { readStackFile } = require(${JSON.stringify(path.join(bin, "plan", "stackFile.js"))});
        startMockRuntime({ stack: ${JSON.stringify(stack)}, preview: false, config: readStackFile(${JSON.stringify(stackFile)}) }).then(async (recorder) => {
            try {
                const program = require(${JSON.stringify(path.join(bin, "index.js"))});
                await (typeof program === "function" ? program() : program);
                console.log("{}");
            } catch (e) {
                console.log(JSON.stringify({ name: e.name, lines: e.lines, runError: require("@pulumi/pulumi").RunError.isInstance(e), registered: recorder.resources.length }));
            }
        });`,
        { env: { OSLO_MESH_OFFLINE: "1" } },
    );
}

/** Every file under dir, relative to it, sorted. */
function listFiles(dir: string, rel = ""): string[] {
    return fs
        .readdirSync(path.join(dir, rel), { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? listFiles(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]))
        .sort();
}

describe("plan: the SDK modules the plan does not use are not loaded (plan/lazySdk.ts)", function () {
    this.timeout(120_000);
    // A child Node.js process each: the stand-ins only work before @pulumi/pulumi is first loaded.
    const node = (script: string, cwd = PROJECT_DIR) => {
        const r = nodeScript(script, { cwd });
        assert.strictEqual(r.status, 0, r.stderr);
        return r.result;
    };
    const lazy = JSON.stringify(path.join(compiledDir(), "plan", "lazySdk.js"));
    const sdk = JSON.stringify(require.resolve("@pulumi/pulumi"));
    /** Which of the deferred modules' code is loaded (the stand-ins themselves are not their code). */
    const loaded = `(() => { const files = Object.keys(require.cache);
        return { typescript: files.some((f) => f.endsWith("/typescript/lib/typescript.js")), arborist: files.some((f) => f.includes("/@npmcli/arborist/")),
                 automation: files.some((f) => f.endsWith("/@pulumi/pulumi/automation/cmd.js")) }; })()`;
    const none = { typescript: false, arborist: false, automation: false };
    // A closure the serializer can only handle by parsing it with TypeScript: a class with super.
    const serialize = `class A { f() { return 1; } } class B extends A { f() { return super.f() + 1; } } const b = new B();
        require(${sdk}).runtime.serializeFunction(() => b.f()).then((sf) => console.log(JSON.stringify({ text: sf.text, after: ${loaded} })));`;

    it("a whole plan of the dev stack runs without TypeScript, npm's arborist or the Automation API", () => {
        const cli = path.join(compiledDir(), "plan", "cli.js");
        const r = node(`process.stdout.write = () => true;
            process.on("exit", () => require("fs").writeSync(1, JSON.stringify({ loaded: ${loaded}, code: process.exitCode ?? 0 }) + "\\n"));
            require(${JSON.stringify(cli)}).main(["--stack", "dev", "--json"]);`);
        assert.deepStrictEqual(r, { loaded: none, code: 0 });
    });

    it("a closure serialized after the stand-ins still gets the real TypeScript, and the same text as without them", () => {
        const withStandIn = node(`require(${lazy}); require(${sdk}); const before = ${loaded}; ${serialize.replace("console.log(JSON.stringify({", "console.log(JSON.stringify({ before,")}`);
        const without = node(serialize);
        assert.deepStrictEqual(withStandIn.before, none, "loading @pulumi/pulumi after the stand-ins loads none of them");
        assert.strictEqual(withStandIn.after.typescript, true);
        assert.strictEqual(withStandIn.text, without.text);
        assert.match(without.text, /super/);
    });

    it("computeCodePaths and the Automation API answer (and take writes) after the stand-ins as without them", () => {
        // A program directory of its own, with one file to include: computeCodePaths walks the
        // dependencies in its package.json (none here) and adds the paths it is given.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-codepaths-"));
        fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "codepaths", dependencies: {} }));
        fs.writeFileSync(path.join(dir, "handler.js"), "exports.handler = () => 1;\n");
        const probe = `const pulumi = require(${sdk});
            pulumi.runtime.computeCodePaths({ extraIncludePaths: ["handler.js"] }).then((paths) => console.log(JSON.stringify({
                paths: [...paths].map(([p, a]) => [p, a.constructor.name]),
                stackName: pulumi.automation.fullyQualifiedStackName("oslo", "oslo-mesh", "prod"),
                automation: Object.keys(pulumi.automation).sort(),
                written: ((pulumi.automation.probe = 7), require(${JSON.stringify(path.join(path.dirname(require.resolve("@pulumi/pulumi")), "automation"))}).probe),
                after: ${loaded} })));`;
        try {
            const withStandIns = node(`require(${lazy}); ${probe}`, dir);
            const without = node(probe, dir);
            assert.deepStrictEqual(withStandIns.paths, [["handler.js", "FileAsset"]]);
            assert.strictEqual(withStandIns.stackName, "oslo/oslo-mesh/prod");
            assert.strictEqual(withStandIns.written, 7, "a property set through pulumi.automation is set on the real module");
            assert.ok(withStandIns.automation.includes("LocalWorkspace"), withStandIns.automation.join(", "));
            assert.deepStrictEqual({ ...withStandIns, after: undefined }, { ...without, after: undefined });
            assert.deepStrictEqual(withStandIns.after, { typescript: false, arborist: true, automation: true }, "used, they are the real modules");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
