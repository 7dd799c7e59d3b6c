// Every script the program ships, as the plan writes it for each committed stack, passes shellcheck.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR, runPlanCli } from "./harness";
import { requireOrSkip, run } from "./libvirt";

/** The bash script inside a command's heredoc wrapper (see components/shared/script.ts). */
function innerScript(command: string): string | undefined {
    const m = /<<'OSLO_MESH_SCRIPT'\n([\s\S]*?)\nOSLO_MESH_SCRIPT\n/.exec(command);
    return m ? m[1] + "\n" : undefined;
}

describe("scripts: shellcheck on everything the plan ships", function () {
    this.timeout(120000);

    it("CI's own script and the tests' fake commands are shellcheck-clean too", function () {
        requireOrSkip(this, run("sh", ["-c", "command -v shellcheck"]).status === 0 ? undefined : "shellcheck is not installed (apt-get install shellcheck)");
        const r = run("shellcheck", [path.join(PROJECT_DIR, ".ci", "run"), path.join(PROJECT_DIR, "test", "fixtures", "fakebin", "fake")]);
        assert.strictEqual(r.status, 0, r.stdout);
    });
    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: every command and the script inside it are shellcheck-clean`, function () {
            requireOrSkip(this, run("sh", ["-c", "command -v shellcheck"]).status === 0 ? undefined : "shellcheck is not installed (apt-get install shellcheck)");
            const out = fs.mkdtempSync(path.join(os.tmpdir(), `oslo-mesh-${stack}-`));
            const r = runPlanCli(["--stack", stack, "--out", out]);
            assert.strictEqual(r.status, 0, r.stderr);
            const dir = path.join(out, "commands");
            const files = fs.readdirSync(dir).filter((f) => f.endsWith(".sh"));
            assert.ok(files.length > 0);
            const inner = path.join(out, "inner");
            fs.mkdirSync(inner);
            for (const f of files) {
                const text = fs.readFileSync(path.join(dir, f), "utf8");
                const script = innerScript(text);
                assert.ok(script, `${f} runs its script through the heredoc wrapper`);
                assert.ok(script.startsWith("#!/usr/bin/env bash\n") && script.includes("\nset -euo pipefail\n"), `${f}: bash with set -euo pipefail`);
                fs.writeFileSync(path.join(inner, f), script);
            }
            const outer = run("shellcheck", ["-s", "sh", ...files.map((f) => path.join(dir, f))]);
            assert.strictEqual(outer.status, 0, outer.stdout);
            const check = run("shellcheck", files.map((f) => path.join(inner, f)));
            assert.strictEqual(check.status, 0, check.stdout);
        });
    }
});
