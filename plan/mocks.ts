// The one mock runtime that the offline plan, the benchmark and the tests share.
// It runs the real program against Pulumi's mock monitor and records every
// registration: type, name, parent, dependencies and inputs (secrets kept marked).
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as jsyaml from "js-yaml";
import { valuesAt } from "./propertyPaths";

/** What Pulumi's RPC layer marks special values with. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";

export interface RecordedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly parent: string | null;
    readonly custom: boolean;
    /** URNs of what this resource waits for: explicit dependsOn and the sources of its inputs. */
    readonly dependsOn: string[];
    /** Inputs as the engine would receive them; secrets are `{SIG_KEY: SECRET_SIG, value}` objects. */
    readonly inputs: Record<string, unknown>;
    /** The `replaceOnChanges` resource option: input paths whose change replaces the resource. */
    readonly replaceOnChanges: string[];
    /** The `deleteBeforeReplace` resource option: a replacement deletes the old one first. */
    readonly deleteBeforeReplace: boolean;
    /** The `additionalSecretOutputs` resource option (the policy rules read it). */
    readonly additionalSecretOutputs?: string[];
}

/** A message the program or a library logged through `pulumi.log` (what `pulumi preview` lists under Diagnostics). */
export interface Diagnostic {
    readonly severity: "debug" | "info" | "warning" | "error";
    readonly message: string;
    /** The resource it is about, when the caller named one. */
    urn?: string;
}

export interface RecordedInvoke {
    readonly token: string;
    readonly args: Record<string, unknown>;
}

/** Answers `kubernetes:helm:template`: the objects the chart would render for these options. */
export type HelmRenderer = (opts: HelmTemplateOptions) => object[];
export interface HelmTemplateOptions {
    readonly chart: string;
    readonly version?: string;
    readonly namespace?: string;
    readonly values: Record<string, unknown>;
    readonly [key: string]: unknown;
}

export interface MockRuntimeOptions {
    readonly project?: string;
    readonly stack: string;
    /** True runs like `pulumi preview`: outputs not known from inputs stay unknown. */
    readonly preview: boolean;
    readonly config?: { values: Record<string, string>; secretKeys: string[] };
    readonly helm?: HelmRenderer;
    /** Extra outputs for a resource (e.g. a command's stdout) when not in preview. */
    readonly outputs?: (r: { type: string; name: string; inputs: Record<string, unknown> }) => Record<string, unknown> | undefined;
}

export class MockRecorder {
    readonly resources: RecordedResource[] = [];
    readonly invokes: RecordedInvoke[] = [];
    /** Invokes that no mock answers; each one also failed where it was made. */
    readonly unexpectedInvokes: string[] = [];
    /** Everything logged through `pulumi.log`, in the order it was logged. Nothing is printed. */
    readonly diagnostics: Diagnostic[] = [];
    byType(type: string): RecordedResource[] {
        return this.resources.filter((r) => r.type === type);
    }
    byName(name: string): RecordedResource {
        const found = this.resources.filter((r) => r.name === name);
        if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}`);
        return found[0];
    }
}

/** Waits until every outstanding registration and invoke has finished. */
export async function settled(): Promise<void> {
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> };
    await settings.waitForRPCs();
}

/**
 * Installs the mock runtime with the given config. Call before importing any module
 * that creates resources, and import the program afterwards.
 */
export async function startMockRuntime(opts: MockRuntimeOptions): Promise<MockRecorder> {
    const recorder = new MockRecorder();
    if (opts.config) pulumi.runtime.setAllConfig(opts.config.values, opts.config.secretKeys);
    delete process.env.KUBECONFIG; // a Provider without kubeconfig would otherwise read the developer's cluster
    captureLog(recorder);

    const mocks: pulumi.runtime.Mocks = {
        call(args) {
            recorder.invokes.push({ token: args.token, args: args.inputs });
            switch (args.token) {
                case "kubernetes:yaml:decode":
                    return { result: jsyaml.loadAll(String(args.inputs.text)) };
                case "kubernetes:helm:template": {
                    if (!opts.helm) throw new Error("unexpected invoke kubernetes:helm:template: no chart renderer given");
                    const helmOpts = JSON.parse(String(args.inputs.jsonOpts)) as HelmTemplateOptions;
                    return { result: opts.helm({ ...helmOpts, values: helmOpts.values ?? {} }) };
                }
                default:
                    recorder.unexpectedInvokes.push(args.token);
                    throw new Error(`unexpected invoke ${args.token}(${JSON.stringify(args.inputs)})`);
            }
        },
        newResource(args) {
            const extra = opts.preview ? undefined : opts.outputs?.({ type: args.type, name: args.name, inputs: args.inputs });
            return { id: args.custom ? `${args.name}-id` : undefined, state: { ...args.inputs, ...extra } };
        },
    };
    await pulumi.runtime.setMocks(mocks, opts.project ?? "oslo-mesh", opts.stack, opts.preview);

    // Mocks.newResource sees neither parent nor dependencies: read them off the request.
    const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor: () => unknown };
    const monitor = settings.getMonitor() as MockMonitorInternals;
    const register = opts.preview ? previewRegister(monitor) : monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) =>
        register(req, (err, resp) => {
            if (!err && resp) {
                const deps = new Set<string>(req.getDependenciesList());
                // A resource also waits for its explicit provider (a reference "urn::id"), e.g. the
                // cluster's Kubernetes provider, which waits for the kubeconfig.
                const provider = req.getProvider();
                const providerUrn = provider ? provider.slice(0, provider.lastIndexOf("::")) : "";
                if (providerUrn && !/::default(_[\w]+)?$/.test(providerUrn)) deps.add(providerUrn);
                req.getPropertydependenciesMap().forEach((v) => v.getUrnsList().forEach((u) => deps.add(u)));
                recorder.resources.push({
                    urn: resp.getUrn(),
                    type: req.getType(),
                    name: req.getName(),
                    parent: req.getParent() || null,
                    custom: req.getCustom(),
                    dependsOn: [...deps].sort(),
                    inputs: (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
                    replaceOnChanges: req.getReplaceonchangesList(),
                    deleteBeforeReplace: req.getDeletebeforereplace(),
                    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                });
            }
            cb(err, resp);
        });
    return recorder;
}

interface MockMonitorInternals {
    registerResource(req: RegisterRequest, cb: (err: unknown, resp?: { getUrn(): string }) => void): Promise<void>;
    newUrn(parent: string, type: string, name: string): string;
    resources: Map<string, { urn: string; id: string | null; state: unknown }>;
}

/**
 * In a preview the mocks answer every registration with its own inputs as the state (see
 * `newResource` above). Pulumi's MockMonitor gets there by deserializing the request's inputs,
 * serializing them again and building a new protobuf Struct of them; handing back the
 * request's Struct is the same answer for a fraction of the CPU (secrets and unknowns keep
 * their RPC form both ways), and registration is most of a plan's own time.
 */
function previewRegister(monitor: MockMonitorInternals): MockMonitorInternals["registerResource"] {
    const resproto = require("@pulumi/pulumi/proto/resource_pb") as { RegisterResourceResponse: new () => RegisterResponse };
    const structproto = require("google-protobuf/google/protobuf/struct_pb") as { Struct: new () => unknown };
    return async (req, cb) => {
        const urn = monitor.newUrn(req.getParent(), req.getType(), req.getName());
        const id = req.getCustom() ? previewId(req) : "";
        monitor.resources.set(urn, { urn, id: id || null, state: {} });
        const resp = new resproto.RegisterResourceResponse();
        resp.setUrn(urn);
        resp.setId(id);
        resp.setObject(req.getObject() ?? new structproto.Struct());
        cb(null, resp);
    };
}

/**
 * The ID a resource gets in the plan. The engine gives a replaced resource a new ID, so that
 * whatever reads its ID changes with it; an update in place keeps the ID. The plan's ID is
 * therefore made from exactly what replaces the resource: a command's `triggers` and the inputs
 * named in `replaceOnChanges`, so that a plan diff shows what a replacement carries along.
 */
function previewId(req: RegisterRequest): string {
    const replacedBy = [...(req.getType().startsWith("command:") ? ["triggers"] : []), ...req.getReplaceonchangesList()];
    if (replacedBy.length === 0) return `${req.getName()}-id`;
    const inputs = (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
    const picked = replacedBy.map((p) => [p, valuesAt(inputs, p)]);
    if (picked.every(([, v]) => (v as unknown[]).length === 0)) return `${req.getName()}-id`;
    return `${req.getName()}-${crypto.createHash("sha256").update(JSON.stringify(picked)).digest("hex").slice(0, 12)}`;
}

interface RegisterResponse {
    setUrn(urn: string): void;
    setId(id: string): void;
    setObject(o: unknown): void;
    getUrn(): string;
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getProvider(): string;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(f: (v: { getUrnsList(): string[] }) => void): void };
    getObject(): { toJavaScript(): unknown } | undefined;
    getReplaceonchangesList(): string[];
    getDeletebeforereplace(): boolean;
    getAdditionalsecretoutputsList(): string[];
}

/**
 * Without an engine, `pulumi.log` prints to the console, `info` on standard output (e.g.
 * @pulumi/kubernetes's "[Can't preview] all chart values must be known ahead of time"), where
 * it would break `npm run plan -- --json`. Under the mock runtime every message is recorded
 * instead, and whoever shows the plan decides where it goes.
 */
function captureLog(recorder: MockRecorder): void {
    const log = pulumi.log as unknown as Record<string, unknown>;
    const record = (severity: Diagnostic["severity"]) => (message: string, resource?: pulumi.Resource) => {
        const d: Diagnostic = { severity, message };
        recorder.diagnostics.push(d);
        if (resource && pulumi.Resource.isInstance(resource)) resource.urn.apply((urn) => (d.urn = urn));
        return Promise.resolve();
    };
    log.debug = record("debug");
    log.info = record("info");
    log.warn = record("warning");
    log.error = record("error");
}

/**
 * Replaces secrets by "[secret]" and unknowns by "[unknown]", recursively. With `digest`
 * (the plan diff only), a secret becomes "[secret:<digest>]", so that two plans can tell a
 * changed secret from an unchanged one without either showing it.
 */
export function redact(value: unknown, digest?: (secret: unknown) => string): unknown {
    if (value === UNKNOWN) return "[unknown]";
    if (Array.isArray(value)) return value.map((v) => redact(v, digest));
    if (typeof value === "object" && value !== null) {
        const o = value as Record<string, unknown>;
        if (o[SIG_KEY] === SECRET_SIG) return digest ? `[secret:${digest(o.value)}]` : "[secret]";
        if (o[SIG_KEY] === RESOURCE_SIG) return o.urn;
        return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, redact(v, digest)]));
    }
    return value;
}
