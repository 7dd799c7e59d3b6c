// A fake `pulumi` for the tests of the commands that drive the Pulumi CLI (npm run canary,
// npm run roll). It keeps a stack's state in a JSON file and answers in the real CLI's formats
// (pulumi/pulumi v3.248.0):
// - `stack export --stack S`: the UntypedDeployment {"version": 3, "deployment": {...}} as JSON,
//   4-space indent, trailing newline (pkg/cmd/pulumi/stack/stack_export.go: json.Encoder with
//   SetIndent("", "    ")); resources as apitype.ResourceV3 (sdk/go/common/apitype/core.go).
// - `stack output kubeconfig --show-secrets --json --stack S`: the value as JSON, 2-space indent,
//   trailing newline (stack_output.go → ui.FprintJSON → MakeJSONString); without --show-secrets a
//   secret prints as "[secret]" (display.MassageSecrets).
// - `up --stack S [--target URN...] --yes`: fails without --yes when not interactive
//   (backenderr.go: "--yes or --skip-preview or --preview-only must be passed in to proceed when
//   running in non-interactive mode"); a failed update exits 1 (pkg/cmd/pulumi/cmd/exit_codes.go:
//   a bail is ExitCodeError).
//   * Canary mode (no FAKE_PULUMI_PROGRAM): an unknown target fails the update (diag 2010 "Target
//     '%v' could not be found in the stack.", deploy/deployment_executor.go checkTargets); a
//     targeted VirtualService whose spec changes gets `modified` = now, one that does not change
//     keeps it (deploy/step.go UpdateStep.Apply). What the program renders for the route is
//     components/mesh/render.ts renderCanary: only subsets with a weight above 0, and a weight only
//     when more than one remains.
//   * Engine mode (FAKE_PULUMI_PROGRAM: the program's registrations as test/rollEngine.ts
//     resources, recorded under mocks): the steps come from test/rollEngine.ts, the model of the
//     engine's ordering. A target must be in the state or the program (checkTargets looks at both
//     in v3.248.0). A dynamic resource the run includes is checked first, as the engine does before
//     any step: its serialized provider (`__provider`) runs check(olds = the state's inputs, news);
//     a failure prints "error: <type> resource '<name>' has a problem: <reason>"
//     (sdk/go/common/diag/errors.go, code 2002) and nothing changes. The program reads
//     OSLO_MESH_ROLL_WAVE into the rollout gate's inputs (roll/gate.ts), so the fake adds it to
//     the gate's recorded inputs. Each step is appended to FAKE_PULUMI_STEPS; the fake cluster
//     (FAKE_CLUSTER, served by test/rollProject.ts) loses a node whose `registered` step was
//     deleted and gets it back Ready once that step is created again (it waits for Ready), unless
//     FAKE_CLUSTER_BROKEN names it.
// Environment: FAKE_PULUMI_STATE (state file), FAKE_PULUMI_LOG (one JSON line per call),
// FAKE_PULUMI_KUBECONFIG (the kubeconfig output's text), FAKE_PULUMI_UP_EXIT (make `up` fail).
import * as fs from "fs";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { EngineResource, simulateUpdate } from "./rollEngine";

interface Resource {
    urn: string;
    type: string;
    parent?: string;
    inputs?: Record<string, any>;
    outputs?: Record<string, any>;
    modified?: string;
}

const argv = process.argv.slice(2);
const env = (k: string) => process.env[k] ?? "";
fs.appendFileSync(env("FAKE_PULUMI_LOG"), `${JSON.stringify({ argv, cwd: process.cwd(), wave: process.env.OSLO_MESH_ROLL_WAVE })}\n`);

function flag(name: string): string | undefined {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
}

function fail(message: string, code = 1): never {
    process.stderr.write(`error: ${message}\n`);
    process.exit(code);
}

/** Go's time.Time JSON form: RFC 3339 with nanoseconds, in UTC. */
function goTime(ms: number): string {
    return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, (_, frac) => `.${frac}${String(process.hrtime()[1] % 1_000_000).padStart(6, "0")}Z`);
}

const state = () => JSON.parse(fs.readFileSync(env("FAKE_PULUMI_STATE"), "utf8")) as { version: number; deployment: { resources: Resource[] } };

function canaryUp(stack: string, targets: string[]): void {
    const s = state();
    const missing = targets.filter((t) => !s.deployment.resources.some((r) => r.urn === t));
    if (missing.length > 0) {
        for (const t of missing) process.stderr.write(`error: Target '${t}' could not be found in the stack.\n`);
        fail("one or more targets could not be found in the stack");
    }
    if (env("FAKE_PULUMI_UP_EXIT")) fail("update failed", Number(env("FAKE_PULUMI_UP_EXIT")));
    const config = (jsyaml.load(fs.readFileSync(path.join(process.cwd(), `Pulumi.${stack.split("/").pop()}.yaml`), "utf8")) as any).config;
    let updated = 0;
    for (const r of s.deployment.resources) {
        if (!targets.includes(r.urn) || !r.type.endsWith(":VirtualService")) continue;
        const meta = r.outputs!.metadata;
        const canary = (config["oslo-mesh:canaries"] as any[]).find((c) => c.namespace === meta.namespace && c.service === meta.name);
        const weighted = (canary.subsets as Array<{ name: string }>).filter((sub) => (canary.weights[sub.name] ?? 0) > 0);
        const route = weighted.map((sub) => ({ destination: { host: canary.service, subset: sub.name }, ...(weighted.length > 1 ? { weight: canary.weights[sub.name] } : {}) }));
        const http = r.outputs!.spec.http as Array<{ match?: unknown; route: unknown }>;
        const split = http[http.length - 1];
        if (JSON.stringify(split.route) === JSON.stringify(route)) continue;
        split.route = route;
        r.inputs!.spec = JSON.parse(JSON.stringify(r.outputs!.spec));
        r.modified = goTime(Date.now());
        updated++;
    }
    fs.writeFileSync(env("FAKE_PULUMI_STATE"), JSON.stringify(s, null, 4));
    process.stdout.write(`Updating (${stack})\n\nResources:\n    ~ ${updated} updated\n    ${targets.length - updated} unchanged\n\nDuration: 1s\n`);
}

/**
 * The provider a dynamic resource's `__provider` holds, loaded as Pulumi's dynamic provider host
 * loads it (sdk/nodejs/cmd/dynamic-provider/index.ts at v3.248.0: require-from-string, then handler()).
 */
function dynamicProvider(text: string): { check?: (olds: unknown, news: unknown) => Promise<{ inputs?: Record<string, unknown>; failures?: Array<{ property: string; reason: string }> }> } {
    const requireFromString = require("require-from-string") as (code: string) => { handler(): ReturnType<typeof dynamicProvider> };
    return requireFromString(text).handler();
}

async function engineUp(stack: string, targets: string[]): Promise<void> {
    const s = state() as unknown as { version: number; deployment: { resources: EngineResource[] } };
    const program = JSON.parse(fs.readFileSync(env("FAKE_PULUMI_PROGRAM"), "utf8")) as EngineResource[];
    const olds = s.deployment.resources;
    const missing = targets.filter((t) => !olds.some((r) => r.urn === t) && !program.some((r) => r.urn === t));
    if (missing.length > 0) {
        for (const t of missing) process.stderr.write(`error: Target '${t}' could not be found in the stack.\n`);
        fail("one or more targets could not be found in the stack");
    }
    if (env("FAKE_PULUMI_UP_EXIT")) fail("update failed", Number(env("FAKE_PULUMI_UP_EXIT")));
    const news: EngineResource[] = [];
    for (const r of program) {
        if (!r.type.startsWith("pulumi-nodejs:dynamic/") || (targets.length > 0 && !targets.includes(r.urn))) {
            news.push(r);
            continue;
        }
        const wave = process.env.OSLO_MESH_ROLL_WAVE?.split(",").filter(Boolean);
        const inputs = { ...r.inputs, ...(r.type.endsWith(":RolloutGate") && wave ? { wave } : {}) };
        const old = olds.find((o) => o.urn === r.urn);
        const checked = await dynamicProvider(String(r.inputs.__provider)).check!(old?.inputs ?? {}, inputs);
        if (checked.failures && checked.failures.length > 0) {
            for (const f of checked.failures) process.stderr.write(`error: ${r.type} resource '${r.urn.split("::").pop()}' has a problem: ${f.reason}\n`);
            fail("preview failed");
        }
        news.push({ ...r, inputs: { ...checked.inputs, __provider: r.inputs.__provider } });
    }
    const result = simulateUpdate(olds, news, targets.length > 0 ? { targets: new Set(targets) } : {});
    for (const step of result.steps) fs.appendFileSync(env("FAKE_PULUMI_STEPS"), `${JSON.stringify({ wave: process.env.OSLO_MESH_ROLL_WAVE ?? null, ...step, command: undefined })}\n`);
    s.deployment.resources = result.state;
    fs.writeFileSync(env("FAKE_PULUMI_STATE"), JSON.stringify(s, null, 4));

    if (env("FAKE_CLUSTER")) {
        const cluster = JSON.parse(fs.readFileSync(env("FAKE_CLUSTER"), "utf8")) as { nodes: Record<string, { ready: boolean; unschedulable: boolean }>; controlPlanes: string[]; etcdPods: Record<string, boolean> };
        const broken = env("FAKE_CLUSTER_BROKEN").split(",").filter(Boolean);
        for (const step of result.steps) {
            const m = /::([^:]+)-registered$/.exec(step.urn);
            if (!m) continue;
            const node = m[1];
            if (step.op === "delete-replaced" || step.op === "delete") {
                delete cluster.nodes[node];
                if (node in cluster.etcdPods) delete cluster.etcdPods[node];
            } else if (step.op === "create" || step.op === "create-replacement") {
                cluster.nodes[node] = { ready: !broken.includes(node), unschedulable: false };
                if (cluster.controlPlanes.includes(node)) cluster.etcdPods[node] = !broken.includes(node);
            }
        }
        fs.writeFileSync(env("FAKE_CLUSTER"), JSON.stringify(cluster, null, 2));
    }
    const count = (op: string) => result.steps.filter((x) => x.op === op).length;
    process.stdout.write(`Updating (${stack})\n\nResources:\n    +- ${count("create-replacement")} replaced\n    + ${count("create")} created\n    ~ ${count("update")} updated\n    ${count("same")} unchanged\n\nDuration: 1s\n`);
}

async function main(): Promise<void> {
    if (argv[0] === "stack" && argv[1] === "export") {
        process.stdout.write(`${JSON.stringify(state(), null, 4)}\n`);
    } else if (argv[0] === "stack" && argv[1] === "output" && argv[2] === "kubeconfig") {
        const value = argv.includes("--show-secrets") ? fs.readFileSync(env("FAKE_PULUMI_KUBECONFIG"), "utf8") : "[secret]";
        process.stdout.write(argv.includes("--json") ? `${JSON.stringify(value, null, 2)}\n` : `${value}\n`);
    } else if (argv[0] === "up") {
        if (!argv.includes("--yes")) fail("--yes or --skip-preview or --preview-only must be passed in to proceed when running in non-interactive mode");
        const stack = flag("--stack") ?? fail("no stack selected");
        const targets = argv.flatMap((a, i) => (a === "--target" ? [argv[i + 1]] : []));
        if (env("FAKE_PULUMI_PROGRAM")) await engineUp(stack, targets);
        else canaryUp(stack, targets);
    } else {
        fail(`the fake pulumi does not know \`pulumi ${argv.join(" ")}\``, 2);
    }
}

void main();
