// The one mock runtime that the offline plan, the benchmark and the tests share.
// It runs the real program against Pulumi's mock monitor and records every
// registration: type, name, parent, dependencies and inputs (secrets kept marked).
import * as pulumi from "@pulumi/pulumi";
import * as jsyaml from "js-yaml";

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
    /** The `additionalSecretOutputs` resource option (the policy rules read it). */
    readonly additionalSecretOutputs?: string[];
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
    const monitor = settings.getMonitor() as {
        registerResource: (req: RegisterRequest, cb: (err: unknown, resp?: { getUrn(): string }) => void) => Promise<void>;
    };
    const register = monitor.registerResource.bind(monitor);
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
                    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                });
            }
            cb(err, resp);
        });
    return recorder;
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
    getAdditionalsecretoutputsList(): string[];
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
