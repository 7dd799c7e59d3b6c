// Hostile stack files (issue 14): read within fixed limits by plan/stackFile.ts, and `npm run
// plan` on each exits 1 with every problem's path on stderr, nothing on stdout, no stack trace,
// within a heap of a few hundred MB.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { readStackFile, STACK_FILE_MAX_BYTES } from "../plan/stackFile";
import { ConfigError } from "../stacks/problems";
import { PROJECT_DIR, runPlanCli, stackFileConfig } from "./harness";

function writeText(text: string): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-hostile-")), "Pulumi.temp.yaml");
    fs.writeFileSync(file, text);
    return file;
}

function writeConfig(config: Record<string, unknown>): string {
    return writeText(jsyaml.dump({ config }));
}

/** The problem lines readStackFile throws for a file, or [] when it reads. */
function stackFileProblems(file: string): string[] {
    try {
        readStackFile(file);
        return [];
    } catch (e) {
        assert.ok(e instanceof ConfigError, `a ConfigError, not ${(e as Error).stack}`);
        return (e as ConfigError).lines;
    }
}

/** A billion laughs: 10 levels of 10 aliases each, about 700 bytes that would expand to 10^10 strings. */
const ALIAS_BOMB = [
    "config:",
    "  oslo-mesh:istio:",
    '    l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...Array.from({ length: 9 }, (_, i) => `    l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(",")}]`),
    "",
].join("\n");

const MERGE_BOMB = ["config:", "  oslo-mesh:istio: &a", "    tracing: {enabled: true}", "  oslo-mesh:mesh:", "    <<: [*a, *a]", ""].join("\n");

const CIPHERTEXT = "v1:c2VjcmV0Y2lwaGVydGV4dA==:AAAABBBB";

describe("hostile stack files: read within limits", () => {
    it("a YAML alias bomb is refused at once", () => {
        assert.deepStrictEqual(stackFileProblems(writeText(ALIAS_BOMB)), [
            "Pulumi.temp.yaml: uses a YAML alias (*name); stack files may not use anchors or aliases (an alias can expand a small file into gigabytes, and the Pulumi CLI never writes one)",
        ]);
    });

    it("a merge key of aliases is refused too", () => {
        assert.match(stackFileProblems(writeText(MERGE_BOMB)).join("\n"), /uses a YAML alias/);
    });

    it("a file over the size limit is refused before it is parsed", () => {
        const file = writeText(`# ${"x".repeat(STACK_FILE_MAX_BYTES)}\nconfig: {}\n`);
        assert.deepStrictEqual(stackFileProblems(file), [`Pulumi.temp.yaml: is ${STACK_FILE_MAX_BYTES + 14} bytes; a stack file may have at most ${STACK_FILE_MAX_BYTES}`]);
    });

    it("nesting 100000 levels deep is refused without a crash", () => {
        const problems = stackFileProblems(writeText(`config:\n  oslo-mesh:istio: ${"[".repeat(100000)}${"]".repeat(100000)}\n`));
        assert.strictEqual(problems.length, 1);
        // js-yaml's own limit (maxDepth 100) answers first; ours (64) holds for what it lets through.
        assert.match(problems[0], /^Pulumi\.temp\.yaml: (nested too deeply to read|nested deeper than 64 levels|not valid YAML at line 2, column \d+: nesting exceeded maxDepth)/);
    });

    it("a duplicated key is refused with its line, as the Pulumi CLI's YAML parser refuses it", () => {
        const problems = stackFileProblems(writeText("config:\n  oslo-mesh:region: oslo\n  oslo-mesh:region: bergen\n"));
        assert.deepStrictEqual(problems, ["Pulumi.temp.yaml: not valid YAML at line 3, column 3: duplicated mapping key"]);
    });

    it("a YAML error never quotes the file (it may hold ciphertext or a pasted key)", () => {
        const problems = stackFileProblems(writeText(`config:\n  oslo-mesh:ssh:\n    privateKey: {secure: ${CIPHERTEXT}\n    user: [\n`));
        assert.strictEqual(problems.length, 1);
        assert.match(problems[0], /^Pulumi\.temp\.yaml: not valid YAML at line \d+, column \d+: /);
        assert.ok(!problems[0].includes("c2VjcmV0"), problems[0]);
    });

    it("a tag that would build a JavaScript value is not valid YAML here", () => {
        assert.match(stackFileProblems(writeText("config:\n  oslo-mesh:region: !!js/function 'function () { return 1 }'\n")).join("\n"), /not valid YAML .*unknown tag/);
    });

    it("a secure: map without a ciphertext string is refused, as the Pulumi CLI reserves it", () => {
        const file = writeConfig({ ...stackFileConfig("prod"), "oslo-mesh:region": { secure: 5 } });
        assert.deepStrictEqual(stackFileProblems(file), ['Pulumi.temp.yaml: "oslo-mesh:region": a map whose only key is secure must hold the ciphertext string the Pulumi CLI wrote']);
    });

    it("the same key as ns:key and as ns:config:key is refused (Pulumi would keep one at random)", () => {
        const c = stackFileConfig("prod");
        const file = writeConfig({ ...c, "oslo-mesh:config:ssh": { ...c["oslo-mesh:ssh"] as object, user: "mallory" } });
        assert.deepStrictEqual(stackFileProblems(file), ['Pulumi.temp.yaml: "oslo-mesh:ssh": set twice (as ns:key and as ns:config:key); Pulumi would keep one of them at random']);
    });

    it("a document that is not a mapping is refused", () => {
        assert.deepStrictEqual(stackFileProblems(writeText("- config\n")), ["Pulumi.temp.yaml: expected a mapping with a config: key"]);
        assert.deepStrictEqual(stackFileProblems(writeText("config: [1, 2]\n")), ["Pulumi.temp.yaml: config: must be a mapping of keys to values"]);
    });

    it("keys reach the configuration check under the names the Node SDK gives the program (ns:config:rest → ns:rest)", () => {
        // What the program reads is what the SDK's setAllConfig keeps (runtime/config.js cleanKey),
        // asked of the SDK itself in a process of its own (its configuration is global).
        const keys = ["oslo-mesh:config:mesh:x", "oslo-mesh:config:", "aws:config:region", "oslo-mesh:region", "oslo-mesh:mesh"];
        const config = Object.fromEntries(keys.map((k, i) => [k, String(i)]));
        const sdk = spawnSync(process.execPath, ["-e", `const c = require("@pulumi/pulumi/runtime/config"); c.setAllConfig(${JSON.stringify(config)}); console.log(JSON.stringify(c.allConfig()));`], { cwd: PROJECT_DIR, encoding: "utf8" });
        assert.strictEqual(sdk.status, 0, sdk.stderr);
        assert.deepStrictEqual(readStackFile(writeText(jsyaml.dump({ config }))).values, JSON.parse(sdk.stdout));
    });

    it("a temporary stack file (the bench's, the tests') is read back, and its directory goes when the process exits", () => {
        const script = `const { readStackFile, writeTempStackFile } = require("./plan/stackFile"); const f = writeTempStackFile({ "oslo-mesh:mesh": { mtls: "STRICT" } }); console.log(JSON.stringify({ f, values: readStackFile(f).values }));`;
        const r = spawnSync(process.execPath, ["-r", "./test/compiled.js", "-e", script], { cwd: PROJECT_DIR, encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stderr);
        const { f, values } = JSON.parse(r.stdout) as { f: string; values: Record<string, string> };
        assert.deepStrictEqual(values, { "oslo-mesh:mesh": '{"mtls":"STRICT"}' });
        assert.ok(!fs.existsSync(path.dirname(f)), `${path.dirname(f)} is gone`);
    });

    it("a secure: private key becomes a placeholder and marks oslo-mesh:ssh secret, as the CLI hands it over", () => {
        const c = stackFileConfig("prod");
        (c["oslo-mesh:ssh"] as Record<string, unknown>).privateKey = { secure: CIPHERTEXT };
        const read = readStackFile(writeConfig(c));
        assert.deepStrictEqual(read.secretKeys, ["oslo-mesh:ssh"]);
        assert.strictEqual(JSON.parse(read.values["oslo-mesh:ssh"]).privateKey, "[secret placeholder for oslo-mesh:ssh.privateKey]");
        assert.ok(!JSON.stringify(read).includes(CIPHERTEXT));
    });
});

interface CliRun {
    readonly status: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** `npm run plan` as users run it, with the heap capped at 256 MB: a run that needs more dies instead of passing. */
function plan(stack: string, file: string): CliRun {
    // 120 s: a hang guard, not a speed test: a hostile file fails before the program registers anything.
    const r = runPlanCli(["--stack", stack, "--config-file", file], { NODE_OPTIONS: "--max-old-space-size=256" }, 120_000);
    return { status: r.status, signal: r.signal ?? null, stdout: r.stdout, stderr: r.stderr };
}

function prodWith(edit: (c: Record<string, any>) => void): string {
    const c = stackFileConfig("prod") as Record<string, any>;
    edit(c);
    return writeConfig(c);
}

const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ-cli-hostile-material\n-----END OPENSSH PRIVATE KEY-----\n";

const corpus: Array<{ what: string; file: () => string; paths: string[]; absent?: string[] }> = [
    { what: "a YAML alias bomb", file: () => writeText(ALIAS_BOMB), paths: ["Pulumi.temp.yaml"] },
    { what: "a file over 1 MiB", file: () => writeText(`config:\n  oslo-mesh:region: ${"o".repeat(STACK_FILE_MAX_BYTES)}\n`), paths: ["Pulumi.temp.yaml"] },
    {
        what: "oslo-mesh:__proto__ switching prod to staging, with mTLS DISABLE",
        file: () => writeText((fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8") + "  oslo-mesh:__proto__:\n    environment: staging\n  oslo-mesh:constructor: {prototype: {}}\n").replace(/^(  oslo-mesh:mesh:\n)/m, "$1    mtls: {mode: DISABLE}\n")),
        paths: ["oslo-mesh:__proto__", "oslo-mesh:constructor", "oslo-mesh:mesh.mtls.mode"],
    },
    { what: "a kernel argument that runs a command", file: () => prodWith((c) => (c["oslo-mesh:vps"].image = { kernelArgs: ['x"; touch /tmp/oslo-mesh-pwned; "'] })), paths: ["oslo-mesh:vps.image.kernelArgs[0]"] },
    { what: "a plain-text private key", file: () => prodWith((c) => (c["oslo-mesh:ssh"].privateKey = PRIVATE_KEY)), paths: ["oslo-mesh:ssh.privateKey"], absent: ["cli-hostile-material"] },
    { what: "keys outside the namespace", file: () => prodWith((c) => Object.assign(c, { ssh: { user: "mallory" }, "aws:region": "eu-north-1" })), paths: ['"ssh"', '"aws:region"'] },
    {
        what: "a newline in controlPlaneEndpoint, a bridge with a sub-option and plaintext for istio-system",
        file: () => prodWith((c) => {
            c["oslo-mesh:kubernetes"].controlPlaneEndpoint = "api.example\n:6443";
            c["oslo-mesh:vps"].hypervisors[0].bridge = "br0,mac=52:54:00:00:00:01";
            c["oslo-mesh:mesh"].mtls = { exceptions: [{ namespace: "istio-system" }] };
        }),
        paths: ["oslo-mesh:kubernetes.controlPlaneEndpoint", "oslo-mesh:vps.hypervisors[0].bridge", "oslo-mesh:mesh.mtls.exceptions[0].namespace"],
    },
    { what: "prod open to everyone", file: () => prodWith((c) => (c["oslo-mesh:kubernetes"].adminCidrs = ["0.0.0.0/0"])), paths: ["oslo-mesh:kubernetes.adminCidrs[0]"] },
    { what: "ssh.user set with --secret --path", file: () => prodWith((c) => (c["oslo-mesh:ssh"].user = { secure: CIPHERTEXT })), paths: ["oslo-mesh:ssh.user"], absent: [CIPHERTEXT] },
];

describe("hostile stack files: npm run plan", function () {
    this.timeout(300_000);

    for (const c of corpus) {
        it(`${c.what}: exit 1, every path on stderr, nothing on stdout, no stack trace`, () => {
            const r = plan("prod", c.file());
            assert.strictEqual(r.signal, null, `killed by ${r.signal}`);
            assert.strictEqual(r.status, 1, r.stderr);
            assert.strictEqual(r.stdout, "");
            const lines = r.stderr.trim().split("\n");
            for (const p of c.paths) assert.ok(lines.some((l) => l.startsWith(`${p}: `)), `expected a problem at ${p}, got\n${r.stderr}`);
            for (const l of lines) assert.ok(/^(oslo-mesh|Pulumi\.temp\.yaml|")/.test(l), `every line names where: ${l}`);
            assert.ok(!/^\s+at /m.test(r.stderr), `no stack trace:\n${r.stderr}`);
            for (const a of c.absent ?? []) assert.ok(!r.stderr.includes(a), `stderr does not show ${a}`);
        });
    }

    it("the committed prod stack with a secure: private key plans", () => {
        const r = plan("prod", prodWith((c) => (c["oslo-mesh:ssh"].privateKey = { secure: CIPHERTEXT })));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.ok(!r.stdout.includes(CIPHERTEXT) && !r.stdout.includes("[secret placeholder"));
    });
});
