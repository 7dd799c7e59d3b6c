// The preview gates (day 2's version gate, the rollout gate) in Pulumi's own dynamic provider
// host: the provider text each gate of the committed prod plan ships in `__provider` is loaded by
// @pulumi/pulumi's cmd/dynamic-provider (what the engine runs as pulumi-resource-pulumi-nodejs)
// and answers Check, Diff and Create over gRPC as `pulumi preview` and `pulumi up` ask them.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { gateProviderSource } from "../components/shared/previewGate";
import { ROLLOUT_GATE_TYPE } from "../roll/gate";
import { DynamicHost } from "./dynamicHost";
import { PlanJson, sharedPlan } from "./harness";

const VERSION_GATE_TYPE = "pulumi-nodejs:dynamic/kubernetes:VersionGate";
const DIFF_NONE = 1;
const DIFF_SOME = 2;

describe("gates: the providers the prod plan ships, in Pulumi's dynamic provider host", function () {
    this.timeout(120_000);
    let host: DynamicHost;
    let plan: PlanJson;
    const gate = (type: string) => {
        const r = plan.resources.find((x) => x.type === type);
        assert.ok(r, `the prod plan registers ${type}`);
        return r;
    };

    before(async () => {
        [host, plan] = await Promise.all([DynamicHost.start(), sharedPlan("prod").then((p) => p.plan)]);
    });
    after(() => host?.stop());

    it("the version gate refuses a skipped minor at Check, naming oslo-mesh:kubernetes.version and the input; the next minor goes through", async () => {
        const g = gate(VERSION_GATE_TYPE);
        assert.strictEqual(g.inputs.version, "1.15.12");
        const { __provider, ...deployed } = g.inputs;
        const refused = await host.check(g.urn, { ...deployed, version: "1.13.12" }, g.inputs);
        assert.deepStrictEqual(refused.failures.map((f) => f.property), ["version"]);
        assert.match(refused.failures[0].reason, /^oslo-mesh:kubernetes\.version: 1\.13\.12 → 1\.15\.12 skips a minor version/);
        const through = await host.check(g.urn, { ...deployed, version: "1.14.10" }, g.inputs);
        assert.deepStrictEqual(through.failures, []);
        assert.strictEqual(through.inputs.__provider, __provider, "the host keeps the provider with the inputs");
        const created = await host.create(g.urn, through.inputs);
        assert.strictEqual(created.id, "kubernetes-version");
        assert.strictEqual(created.properties.version, "1.15.12");
    });

    it("the rollout gate refuses replacing two workers at once with the roll command, lets one through, and diffs by content, not key order or provider text", async () => {
        const g = gate(ROLLOUT_GATE_TYPE);
        const { __provider, ...inputs } = g.inputs as { __provider: string; maxUnavailable: number; nodes: Record<string, { role: string; recipe: string }> };
        assert.strictEqual(inputs.maxUnavailable, 1);
        const workers = Object.keys(inputs.nodes).filter((n) => inputs.nodes[n].role === "worker");
        const replacing = (names: string[]) => ({
            ...g.inputs,
            nodes: Object.fromEntries(Object.entries(inputs.nodes).map(([n, v]) => [n, names.includes(n) ? { ...v, recipe: `${v.recipe}-next` } : v])),
        });
        const two = await host.check(g.urn, inputs, replacing(workers.slice(0, 2)));
        assert.strictEqual(two.failures.length, 1);
        assert.strictEqual(two.failures[0].property, "");
        assert.match(two.failures[0].reason, /2 workers at once .*oslo-mesh:rollout\.maxUnavailable = 1.*npm run roll -- --stack prod/);
        assert.deepStrictEqual((await host.check(g.urn, inputs, replacing(workers.slice(0, 1)))).failures, []);

        const reordered = Object.fromEntries(Object.entries(inputs).reverse());
        assert.strictEqual((await host.diff(g.urn, "rollout", { ...reordered, __provider: "// an older provider text" }, g.inputs)).changes, DIFF_NONE);
        const changed = await host.diff(g.urn, "rollout", inputs, replacing(workers.slice(0, 1)));
        assert.deepStrictEqual(changed, { changes: DIFF_SOME, replaces: [] });
        assert.notStrictEqual(__provider, gate(VERSION_GATE_TYPE).inputs.__provider, "each gate ships its own decision");
    });

    it("a decision module that imports anything is refused when the program registers the gate, naming the file", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-gate-"));
        const file = path.join(dir, "decide.ts");
        fs.writeFileSync(file, 'import * as fs from "fs";\nexport function decide(olds: unknown, news: unknown) { return { inputs: news, problems: fs.existsSync("/") ? [] : ["no root"] }; }\n');
        assert.throws(() => gateProviderSource({ decisionModule: file, decide: "decide", id: "x" }), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} travels in the Pulumi state with a gate's provider and must import nothing`));
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
