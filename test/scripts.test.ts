// Every script the program ships, as the plan writes it for each committed stack, passes shellcheck.
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderScript } from "../components/shared/script";
import { CliResult, PROJECT_DIR, runInBackground, sharedPlan } from "./harness";
import { requireOrSkip, run } from "./libvirt";

const STACKS = ["dev", "staging", "prod"];
const NO_SHELLCHECK = run("sh", ["-c", "command -v shellcheck"]).status === 0 ? undefined : "shellcheck is not installed (apt-get install shellcheck)";

function writeTemp(text: string): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-shape-")), "s.sh");
    fs.writeFileSync(file, text);
    return file;
}

/** The bash script inside a command's heredoc wrapper (see components/shared/script.ts). */
function innerScript(command: string): string | undefined {
    const m = /<<'OSLO_MESH_SCRIPT'\n([\s\S]*?)\nOSLO_MESH_SCRIPT\n/.exec(command);
    return m ? m[1] + "\n" : undefined;
}

interface Checked {
    /** Per stack: its command files (name → the file shellcheck read for the command and for the script inside). */
    readonly stacks: Map<string, Array<{ name: string; command: string; outer: string; inner?: string }>>;
    /** shellcheck's findings (gcc format: `file:line:col: severity: message [SCnnnn]`), by the file it read. */
    readonly findings: Map<string, string[]>;
}

/**
 * The script with every parameter's value left out: scripts that differ only in the values of
 * their `readonly NAME=...` lines read the same to shellcheck, since components/shared/script.ts
 * puts each value in single quotes (test/config.render.test.ts reads them back with bash), and
 * marks a `$` inside one for shellcheck with a line of its own, which stays in the key.
 */
export function scriptShape(text: string): string {
    return text.replace(/^(readonly [A-Z][A-Z0-9_]*=)('(?:[^']|'\\'')*'|\((?:[^)']|'(?:[^']|'\\'')*')*\))$/gm, "$1…");
}

/**
 * Every command of every stack, each distinct shape checked once, on the first command that has
 * it (a command's `create` and `update` are the same script, and nodes of a role share theirs):
 * the wrappers as sh, the scripts inside as bash, in background processes beside the other tests.
 */
async function checkAll(): Promise<Checked> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-shellcheck-"));
    const written = new Map<string, string>();
    const save = (kind: string, stack: string, name: string, text: string) => {
        const key = `${kind}:${crypto.createHash("sha256").update(scriptShape(text)).digest("hex")}`;
        if (!written.has(key)) {
            const file = path.join(dir, kind, stack, name);
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(file, text);
            written.set(key, file);
        }
        return written.get(key)!;
    };
    const stacks: Checked["stacks"] = new Map();
    for (const stack of STACKS) {
        const commands = path.join((await sharedPlan(stack)).outDir, "commands");
        const files = fs.readdirSync(commands).filter((f) => f.endsWith(".sh")).sort();
        stacks.set(
            stack,
            files.map((name) => {
                const command = fs.readFileSync(path.join(commands, name), "utf8");
                const script = innerScript(command);
                return { name, command, outer: save("outer", stack, name, command), inner: script === undefined ? undefined : save("inner", stack, name, script) };
            }),
        );
    }
    const files = (kind: string) => [...written.entries()].filter(([k]) => k.startsWith(`${kind}:`)).map(([, f]) => f);
    const inner = files("inner");
    const half = Math.ceil(inner.length / 2);
    const runs: Array<Promise<CliResult>> = [
        runInBackground("shellcheck", ["-f", "gcc", "-s", "sh", ...files("outer")]),
        runInBackground("shellcheck", ["-f", "gcc", ...inner.slice(0, half)]),
        runInBackground("shellcheck", ["-f", "gcc", ...inner.slice(half)]),
    ];
    const findings = new Map<string, string[]>();
    for (const r of await Promise.all(runs)) {
        for (const line of r.stdout.split("\n").filter(Boolean)) {
            const file = line.slice(0, line.indexOf(":"));
            findings.set(file, [...(findings.get(file) ?? []), line]);
        }
        if (r.status !== 0 && r.stdout.trim() === "") throw new Error(`shellcheck failed: ${r.stderr}`);
    }
    return { stacks, findings };
}

describe("scripts: shellcheck on everything the plan ships", function () {
    this.timeout(180000);
    let checked: Promise<Checked> | undefined;
    before(() => {
        if (!NO_SHELLCHECK) checked = checkAll();
        checked?.catch(() => undefined);
    });

    it("scripts that differ only in their parameters' values have one shape; anything else tells them apart", () => {
        const script = (params: Record<string, string | string[]>, body = "echo hi") =>
            renderScript(writeTemp("#!/usr/bin/env bash\nset -euo pipefail\n" + body + "\n"), params);
        const a = script({ NODE_NAME: "prod-worker-1", USER_DATA: "#cloud-config\nhostname: it's\n", SUMS: ["a", "b"] });
        const b = script({ NODE_NAME: "prod-worker-2", USER_DATA: "#cloud-config\nhostname: other\nmore: lines\n", SUMS: ["c", "d", "e"] });
        assert.notStrictEqual(a, b);
        assert.strictEqual(scriptShape(a), scriptShape(b));
        assert.notStrictEqual(scriptShape(a), scriptShape(script({ NODE_NAME: "x", USER_DATA: "y", SUMS: [] }, "echo $HOME")));
        // A value with a `$` gets shellcheck's disable line, so it is a shape of its own.
        assert.notStrictEqual(scriptShape(a), scriptShape(script({ NODE_NAME: "$x", USER_DATA: "y", SUMS: ["a"] })));
    });

    it("CI's own script and the tests' fake commands are shellcheck-clean too", function () {
        requireOrSkip(this, NO_SHELLCHECK);
        const r = run("shellcheck", [path.join(PROJECT_DIR, ".ci", "run"), path.join(PROJECT_DIR, "test", "fixtures", "fakebin", "fake")]);
        assert.strictEqual(r.status, 0, r.stdout);
    });
    for (const stack of STACKS) {
        it(`${stack}: every command and the script inside it are shellcheck-clean`, async function () {
            requireOrSkip(this, NO_SHELLCHECK);
            const { stacks, findings } = await checked!;
            const commands = stacks.get(stack)!;
            assert.ok(commands.length > 0);
            const found: string[] = [];
            for (const c of commands) {
                assert.ok(c.inner, `${c.name} runs its script through the heredoc wrapper`);
                const script = fs.readFileSync(c.inner, "utf8");
                assert.ok(script.startsWith("#!/usr/bin/env bash\n") && script.includes("\nset -euo pipefail\n"), `${c.name}: bash with set -euo pipefail`);
                found.push(...(findings.get(c.outer) ?? []), ...(findings.get(c.inner) ?? []));
            }
            assert.deepStrictEqual([...new Set(found)], []);
        });
    }
});
