// The program's nodes, gate and cluster under Pulumi's mocks, recorded the way the engine keeps
// them in the state: per resource its explicit dependencies, its property dependencies per input,
// deleteBeforeReplace and replaceOnChanges (read off the register request), in registration order.
import * as pulumi from "@pulumi/pulumi";
import { KubeadmCluster, nodeCidrs } from "../components/kubernetes";
import { createNodes } from "../components/vps";
import { RecordedResource, settled, startMockRuntime } from "../plan/mocks";
import { gatedNodes } from "../roll/gate";
import { StackConfig } from "../stacks/schema";
import { valueOf } from "./harness";
import { EngineResource } from "./rollEngine";

const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nroll-mock-key\n-----END OPENSSH PRIVATE KEY-----\n";

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(f: (v: { getUrnsList(): string[] }, k: string) => void): void };
    getDeletebeforereplace(): boolean;
    getReplaceonchangesList(): string[];
}

export interface RecordedProgram {
    readonly resources: ReadonlyArray<RecordedResource>;
    /** The same, as the engine sees them (test/rollEngine.ts). */
    readonly engine: ReadonlyArray<EngineResource>;
    byName(name: string): EngineResource;
}

/** Registers the nodes behind the rollout gate and the cluster, as index.ts does, and records them. */
export async function recordProgram(stack: string, cfg: StackConfig, env: Record<string, string> = {}): Promise<RecordedProgram> {
    const recorder = await startMockRuntime({
        stack,
        preview: false,
        outputs: ({ type, name }) => {
            if (type === "random:index/randomPassword:RandomPassword") return { result: name.endsWith("certificate-key") ? "f".repeat(64) : name.endsWith("token-id") ? "abc123" : "0123456789abcdef" };
            if (name === `${stack}-init`) return { stdout: `caCertHash=sha256:${"d".repeat(64)}\n` };
            if (name === `${stack}-kubeconfig`) return { stdout: "apiVersion: v1\nkind: Config\n" };
            return undefined;
        },
    });
    const extra = new Map<string, { dependencies: string[]; propertyDependencies: Record<string, string[]>; deleteBeforeReplace: boolean; replaceOnChanges: string[] }>();
    const order: string[] = [];
    const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor: () => { registerResource: (req: RegisterRequest, cb: (err: unknown, resp?: { getUrn(): string }) => void) => Promise<void> } };
    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) =>
        register(req, (err, resp) => {
            if (!err && resp) {
                const propertyDependencies: Record<string, string[]> = {};
                req.getPropertydependenciesMap().forEach((v, k) => (propertyDependencies[k] = v.getUrnsList()));
                extra.set(resp.getUrn(), { dependencies: req.getDependenciesList(), propertyDependencies, deleteBeforeReplace: req.getDeletebeforereplace(), replaceOnChanges: req.getReplaceonchangesList() });
                order.push(resp.getUrn());
            }
            cb(err, resp);
        });
    const config = { ...cfg, stack, ssh: { ...cfg.ssh, privateKey: pulumi.secret(PRIVATE_KEY) } };
    const { nodes } = gatedNodes({ stack, maxUnavailable: cfg.rollout.maxUnavailable, env }, (opts) => createNodes(config, opts));
    const cluster = new KubeadmCluster(stack, { nodes, kubernetes: cfg.kubernetes, clusterName: `oslo-mesh-${stack}`, nodeCidrs: nodeCidrs(cfg), publicPorts: ["30000:32767"] });
    await valueOf(cluster.kubeconfig);
    await settled();
    const byUrn = new Map(recorder.resources.map((r) => [r.urn, r]));
    const engine = order.map((urn): EngineResource => {
        const r = byUrn.get(urn)!;
        const e = extra.get(urn)!;
        return { urn, type: r.type, custom: r.custom, parent: r.parent, inputs: r.inputs, ...e };
    });
    return {
        resources: recorder.resources,
        engine,
        byName: (name) => {
            const found = engine.filter((r) => r.urn.endsWith(`::${name}`));
            if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}`);
            return found[0];
        },
    };
}
