// The config keys the policy pack needs: every plaintext exception in prod names its owner and
// its last day (mesh.mtls.exceptions[].owner, .expires), in the forms Pulumi hands them over.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { readStackFile } from "../plan/stackFile";
import { parsedConfig, problemsOf, stackFileConfig } from "./harness";

const withExceptions = (stack: string, exceptions: object[]) => {
    const c = stackFileConfig(stack);
    c["oslo-mesh:mesh"] = { ...(c["oslo-mesh:mesh"] as object), mtls: { exceptions } };
    return c;
};

describe("policy config: owners and expiry of mTLS exceptions", () => {
    it("prod requires both, with their paths", () => {
        assert.deepStrictEqual(problemsOf("prod", withExceptions("prod", [{ namespace: "legacy" }, { namespace: "shop", service: "pay", owner: "payments" }])), [
            "oslo-mesh:mesh.mtls.exceptions[0].owner: required in prod: the team or person who answers for this plaintext exception",
            "oslo-mesh:mesh.mtls.exceptions[0].expires: required in prod: the last day this plaintext exception may live, YYYY-MM-DD",
            "oslo-mesh:mesh.mtls.exceptions[1].expires: required in prod: the last day this plaintext exception may live, YYYY-MM-DD",
        ]);
    });

    it("staging accepts an exception without them", () => {
        assert.deepStrictEqual(problemsOf("staging", withExceptions("staging", [{ namespace: "legacy" }])), []);
    });

    it("refuses a date that is not YYYY-MM-DD or not on the calendar, and an owner that names nobody", () => {
        assert.deepStrictEqual(problemsOf("prod", withExceptions("prod", [{ namespace: "a", owner: "x", expires: "31.12.2026" }, { namespace: "b", owner: "x", expires: "2026-02-30" }, { namespace: "c", owner: " ", expires: "2026-01-01" }])), [
            'oslo-mesh:mesh.mtls.exceptions[0].expires: must be a date written YYYY-MM-DD, such as 2026-03-31, got "31.12.2026"',
            'oslo-mesh:mesh.mtls.exceptions[1].expires: is not a day of the calendar, got "2026-02-30"',
            'oslo-mesh:mesh.mtls.exceptions[2].owner: must name a team or a person: letters, digits, spaces and . _ @ + -, at most 100, got " "',
        ]);
    });

    it("a lapsed date is valid config: the policy pack, not the config, fails it", () => {
        assert.deepStrictEqual(problemsOf("prod", withExceptions("prod", [{ namespace: "legacy", owner: "payments", expires: "2020-01-01" }])), []);
    });

    it("an unquoted YAML date reads as Pulumi hands it over (yaml.v3 timestamp, time.Time.String()) and means the day", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "policy-config-")), "Pulumi.prod.yaml");
        const config = withExceptions("prod", []);
        const text = jsyaml.dump({ config }).replace("exceptions: []", "exceptions:\n        - namespace: legacy\n          owner: payments\n          expires: 2026-12-31");
        fs.writeFileSync(file, text);
        assert.match(text, /expires: 2026-12-31\n/, "unquoted in the file");
        const { values } = readStackFile(file);
        assert.match(values["oslo-mesh:mesh"], /"expires":"2026-12-31 00:00:00 \+0000 UTC"/);
        const parsed = parsedConfig("prod", Object.fromEntries(Object.entries(values).map(([k, v]) => [k, k === "oslo-mesh:mesh" ? JSON.parse(v) : v])));
        assert.strictEqual(parsed.mesh.mtls.exceptions[0].expires, "2026-12-31");
    });
});
