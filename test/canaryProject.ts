// The canary tests' project: Pulumi.yaml, a stack file, the state `pulumi stack export` prints,
// and the fake `pulumi` (test/fakePulumi.ts) on PATH.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ProgressionConfig } from "../canary/decide";
import { canaryRouteName, routeUrns } from "../canary/state";
import { fakePulumiEnv } from "./fakePulumiBin";
import { PROJECT_DIR, stackFileConfig } from "./harness";

export const STACK = "staging";

export interface Project {
    readonly dir: string;
    readonly stackFile: string;
    readonly statePath: string;
    readonly logPath: string;
    readonly kubeconfigPath: string;
    readonly env: NodeJS.ProcessEnv;
    /** Every call of the fake CLI so far. */
    calls(): Array<{ argv: string[]; cwd: string }>;
    readState(): any;
    /** Moves the VirtualService's `modified` time back, as if that much time had passed. */
    age(namespace: string, service: string, ms: number): void;
}

export interface CanarySetup {
    readonly namespace: string;
    readonly service: string;
    readonly weights: Readonly<Record<string, number>>;
    /** When the route's VirtualService last changed, ms since the epoch. */
    readonly modified: number;
}

function splitRoute(c: CanarySetup): unknown[] {
    const weighted = ["v1", "v2"].filter((s) => (c.weights[s] ?? 0) > 0);
    return weighted.map((s) => ({ destination: { host: c.service, subset: s }, ...(weighted.length > 1 ? { weight: c.weights[s] } : {}) }));
}

/** A stack's state as `pulumi stack export` prints it (see test/fakePulumi.ts), with each canary's route. */
export function exportedState(canaries: ReadonlyArray<CanarySetup>, project = "oslo-mesh"): unknown {
    const stackUrn = `urn:pulumi:${STACK}::${project}::pulumi:pulumi:Stack::${project}-${STACK}`;
    const resources: unknown[] = [{ urn: stackUrn, custom: false, type: "pulumi:pulumi:Stack", created: "2024-05-01T10:00:00.000000000Z", modified: "2024-05-01T10:00:00.000000000Z" }];
    for (const c of canaries) {
        const urns = routeUrns(STACK, project, c.namespace, c.service);
        const name = canaryRouteName(c.namespace, c.service);
        const modified = new Date(c.modified).toISOString();
        resources.push({ urn: urns.route, custom: false, type: "oslo-mesh:mesh:CanaryRoute", parent: stackUrn, outputs: { weights: c.weights }, created: "2024-05-01T10:00:00.000000000Z", modified });
        const dr = {
            apiVersion: "networking.istio.io/v1alpha3",
            kind: "DestinationRule",
            metadata: { name: c.service, namespace: c.namespace },
            spec: { host: c.service, subsets: ["v1", "v2"].map((s) => ({ name: s, labels: { version: s } })) },
        };
        resources.push({ urn: urns.destinationRule, custom: true, id: `${c.namespace}/${c.service}`, type: "kubernetes:networking.istio.io/v1alpha3:DestinationRule", inputs: dr, outputs: dr, parent: urns.route, created: "2024-05-01T10:00:00.000000000Z", modified: "2024-05-01T10:00:00.000000000Z" });
        const vs = {
            apiVersion: "networking.istio.io/v1alpha3",
            kind: "VirtualService",
            metadata: { name: c.service, namespace: c.namespace },
            spec: { hosts: [c.service], http: [{ route: splitRoute(c), timeout: "10s" }] },
        };
        resources.push({ urn: urns.virtualService, custom: true, id: `${c.namespace}/${name}`, type: "kubernetes:networking.istio.io/v1alpha3:VirtualService", inputs: vs, outputs: JSON.parse(JSON.stringify(vs)), parent: urns.route, created: "2024-05-01T10:00:00.000000000Z", modified });
    }
    return { version: 3, deployment: { manifest: { time: "2024-05-01T10:00:00.000000000Z", magic: "", version: "v3.248.0" }, resources } };
}

export function makeProject(stackYaml: string, canaries: ReadonlyArray<CanarySetup>, kubeconfig = ""): Project {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "canary-project-"));
    fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const stackFile = path.join(dir, `Pulumi.${STACK}.yaml`);
    fs.writeFileSync(stackFile, stackYaml);
    const statePath = path.join(dir, "fake-state.json");
    fs.writeFileSync(statePath, JSON.stringify(exportedState(canaries), null, 4));
    const logPath = path.join(dir, "fake-pulumi.log");
    fs.writeFileSync(logPath, "");
    const kubeconfigPath = path.join(dir, "fake-kubeconfig.yaml");
    fs.writeFileSync(kubeconfigPath, kubeconfig);
    const env = fakePulumiEnv(dir, { state: statePath, log: logPath, kubeconfig: kubeconfigPath });
    const readState = () => JSON.parse(fs.readFileSync(statePath, "utf8"));
    return {
        dir,
        stackFile,
        statePath,
        logPath,
        kubeconfigPath,
        env,
        calls: () =>
            fs
                .readFileSync(logPath, "utf8")
                .split("\n")
                .filter(Boolean)
                .map((l) => JSON.parse(l)),
        readState,
        age: (namespace, service, ms) => {
            const s = readState();
            const vs = s.deployment.resources.find((r: any) => r.urn === routeUrns(STACK, "oslo-mesh", namespace, service).virtualService);
            vs.modified = new Date(Date.parse(vs.modified) - ms).toISOString();
            fs.writeFileSync(statePath, JSON.stringify(s, null, 4));
        },
    };
}

export interface CanaryEntry {
    readonly namespace: string;
    readonly service: string;
    readonly weights: { readonly v1: number; readonly v2: number };
    /** Overrides of the progression (steps [10, 25, 50, 100], hold 10m, 99%, 500ms, 100 requests). */
    readonly progression?: string;
}

export const PROGRESSION = "{steps: [10, 25, 50, 100], hold: 10m, minSuccessRate: 99, maxP99: 500ms, minRequests: 100}";

/** A staging stack file (RFC 5737 addresses) with comments, flow and block styles, and these canaries. */
export function stackYaml(entries: ReadonlyArray<CanaryEntry>): string {
    const canaries = entries.map((e) =>
        [
            `    # ${e.namespace}/${e.service}: v2 is the candidate`,
            `    - service: ${e.service}`,
            `      namespace: ${e.namespace}`,
            "      subsets:",
            "        - {name: v1, labels: {version: v1}}",
            "        - {name: v2, labels: {version: v2}}",
            `      weights: {v1: ${e.weights.v1}, v2: ${e.weights.v2}}  # moved by npm run canary`,
            "      timeout: 10s",
            `      progression: ${e.progression ?? PROGRESSION}`,
        ].join("\n"),
    );
    return [
        "# staging for the canary tests. Addresses are documentation ranges (RFC 5737).",
        "config:",
        "  oslo-mesh:ssh:",
        "    publicKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMiEKnALii5TFl8vcRIThHnJLQBpyE2enwH2o/dnYEqq test@oslo-mesh",
        "  oslo-mesh:vps:",
        "    hypervisors:",
        "      - {name: osl-hv-1, host: 203.0.113.2, user: root, port: 22, pool: nvme, bridge: br0, subnet: 203.0.113.0/24, gateway: 203.0.113.1, nameservers: [193.75.75.75]}",
        "  oslo-mesh:nodes:",
        "    - {name: stg-cp-1, role: control-plane, ip: 203.0.113.10}",
        "    - {name: stg-worker-1, role: worker, ip: 203.0.113.20, vcpus: 8, memoryMiB: 16384}",
        "  oslo-mesh:kubernetes:",
        "    adminCidrs: [198.51.100.0/24]",
        "  oslo-mesh:istio:",
        "    injectNamespaces: [bookinfo, shop]",
        "  # Canaries: weights in percent; `npm run canary` moves them along `progression`.",
        "  oslo-mesh:canaries:",
        ...canaries,
        "",
    ].join("\n");
}

export const PROG: ProgressionConfig = { steps: [10, 25, 50, 100], hold: "10m", minSuccessRate: 99, maxP99: "500ms", minRequests: 100 };

/** The committed staging config with one canary, bookinfo/reviews, carrying `progression` (and any overrides). */
export function withProgression(progression: unknown, canary: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        ...stackFileConfig("staging"),
        "oslo-mesh:canaries": [
            {
                service: "reviews",
                namespace: "bookinfo",
                subsets: [
                    { name: "v1", labels: { version: "v1" } },
                    { name: "v2", labels: { version: "v2" } },
                ],
                weights: { v1: 90, v2: 10 },
                progression,
                ...canary,
            },
        ],
        ...extra,
    };
}
