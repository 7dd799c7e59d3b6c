// Runs the real index.ts under the mock runtime and returns what `pulumi preview` would register.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Diagnostic, HelmRenderer, MockRecorder, RecordedResource, redact, settled, startMockRuntime } from "./mocks";
import { PROJECT_DIR } from "./project";
import { stackFileOf } from "./preflight";
import { readStackFile } from "./stackFile";

export { PROJECT_DIR };
/** The Istio chart at its git tag, where a checkout has ../shared beside it (components/istio/chart). */
const TAGGED_ISTIO_CHART = path.resolve(PROJECT_DIR, "..", "shared", "reference", "istio-1.3.3", "istio");

/** A resource as the plan shows it: as recorded, with secrets and unknowns redacted in its inputs. */
export type PlanResource = RecordedResource;

export interface Plan {
    readonly stack: string;
    readonly resources: PlanResource[];
    /** The program's stack outputs, secrets redacted. */
    readonly outputs: Record<string, unknown>;
    /** What the program and its libraries logged (not debug), ordered by resource and message. */
    readonly diagnostics: Diagnostic[];
}

export interface PlanRun {
    readonly plan: Plan;
    readonly recorder: MockRecorder;
    /** Milliseconds to evaluate the program: from importing index.ts until every registration settled. */
    readonly evaluationMs: number;
    /** CPU milliseconds (user + system, every thread) spent in that time: less sensitive to a busy machine. */
    readonly evaluationCpuMs: number;
}

export interface PlanOptions {
    readonly stack: string;
    /** Defaults to Pulumi.<stack>.yaml in the project. */
    readonly configFile?: string;
    /** Renders Helm charts (the tests' fixtures); offline plans have none. */
    readonly helm?: HelmRenderer;
}

/**
 * The environment that makes a plan take the Istio chart offline from where this checkout's plan
 * takes it; also handed to the plan of another revision (`--diff`), whose tree lies elsewhere,
 * so that both plans record the same chart.
 */
export function offlineChartEnv(): Record<string, string> {
    const env: Record<string, string> = { OSLO_MESH_OFFLINE: "1" };
    const tagged = process.env.OSLO_MESH_ISTIO_TAGGED_CHART || (fs.existsSync(path.join(TAGGED_ISTIO_CHART, "Chart.yaml")) ? TAGGED_ISTIO_CHART : "");
    if (tagged) env.OSLO_MESH_ISTIO_TAGGED_CHART = tagged;
    return env;
}

/** Evaluates the program once. Call once per process: Pulumi's runtime state is global. */
export async function runPlan(opts: PlanOptions): Promise<PlanRun> {
    const config = readStackFile(stackFileOf(opts.stack, opts.configFile));
    // Offline: the program takes the Istio chart from the cache (or, beside a checkout with
    // ../shared, from the tagged chart there) and never from the network. Helm charts appear
    // with their values and their chart, but without their objects, which Helm renders at
    // `pulumi up` (the tests may render them with `opts.helm`).
    Object.assign(process.env, offlineChartEnv());
    const recorder = await startMockRuntime({ stack: opts.stack, preview: true, config, helm: opts.helm ?? (() => []) });
    // Imported only now, so that it registers against the mocks. A ConfigError surfaces here.
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    // The program beside this file (index.ts from the source tree, bin/index.js when compiled)
    // exports an async main: Pulumi awaits it and takes its result as the stack's outputs.
    const loaded = require(path.join(__dirname, "..", "index")) as Record<string, unknown> | (() => Promise<Record<string, unknown>>);
    const program = typeof loaded === "function" ? await loaded() : loaded;
    await settled();
    const evaluationMs = Number(process.hrtime.bigint() - started) / 1e6;
    const used = process.cpuUsage(cpu);
    const evaluationCpuMs = (used.user + used.system) / 1e3;
    const outputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(program)) outputs[k] = await resolveOutput(v);
    await settled();
    // Sorted by URN: registration order depends on when outputs resolve, the plan must not.
    const digest = secretDigest();
    const resources = recorder.resources
        .map((r) => ({ ...r, inputs: redact(r.inputs, digest) as Record<string, unknown> }))
        .sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
    const diagnostics = recorder.diagnostics
        .filter((d) => d.severity !== "debug")
        .map((d) => ({ ...d }))
        .sort((a, b) => compare(a.urn ?? "", b.urn ?? "") || compare(a.message, b.message));
    return { plan: { stack: opts.stack, resources, outputs, diagnostics }, recorder, evaluationMs, evaluationCpuMs };
}

function compare(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

/** Set by `--diff` for both plans it compares: a key that lives only as long as that one diff. */
export const SECRET_DIGEST_KEY_ENV = "OSLO_MESH_SECRET_DIGEST_KEY";

function secretDigest(): ((secret: unknown) => string) | undefined {
    const key = process.env[SECRET_DIGEST_KEY_ENV];
    if (!key) return undefined;
    return (secret) => crypto.createHmac("sha256", key).update(JSON.stringify(secret ?? null)).digest("hex").slice(0, 16);
}

/** An output's value as the plan shows it: "[secret]" for secrets, "[unknown]" for values known only after `pulumi up`. */
async function resolveOutput(v: unknown): Promise<unknown> {
    const o = pulumi.output(v) as pulumi.Output<unknown>; // lifts outputs nested in objects
    if (await pulumi.isSecret(o)) return "[secret]";
    // Unknown during preview: apply never calls back. isKnown is internal to the SDK's Output.
    if (!(await (o as unknown as { isKnown: Promise<boolean> }).isKnown)) return "[unknown]";
    return new Promise((resolve) => o.apply((x) => resolve(redact(x))));
}
