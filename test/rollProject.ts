// The roll tests' project: Pulumi.yaml and a stack file, the state `pulumi stack export` prints,
// the fake `pulumi` on PATH in engine mode (test/fakePulumi.ts: the program's registrations, the
// engine's ordering), and a fake Kubernetes API server on loopback that serves the cluster the
// fake updates: GET /api/v1/nodes, /healthz/etcd and kube-system's etcd pods, in the shapes of
// Kubernetes 1.15 (core/v1 NodeList and Pod, a Status for a missing pod; healthz answers "ok", or
// HTTP 500 "internal server error: …" as healthz.go's adaptCheckToHandler writes it). Every call
// of either lands in one log, in order.
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { fakePulumiEnv } from "./fakePulumiBin";
import { PROJECT_DIR } from "./harness";
import { EngineResource } from "./rollEngine";

export interface FakeCluster {
    nodes: Record<string, { ready: boolean; unschedulable: boolean }>;
    controlPlanes: string[];
    etcdPods: Record<string, boolean>;
    etcdHealthy: boolean;
}

export interface Event {
    /** A call of the fake pulumi. */
    readonly argv?: string[];
    readonly wave?: string;
    /** A request to the API server. */
    readonly api?: string;
}

export interface RollProject {
    readonly dir: string;
    readonly env: NodeJS.ProcessEnv;
    readonly statePath: string;
    events(): Event[];
    /** The fake engine's steps, each with the OSLO_MESH_ROLL_WAVE of its run. */
    steps(): Array<{ wave: string | null; op: string; urn: string }>;
    state(): EngineResource[];
    cluster(): FakeCluster;
    setCluster(c: FakeCluster): void;
    close(): Promise<void>;
}

export function healthyCluster(nodes: ReadonlyArray<{ name: string; role: string }>): FakeCluster {
    const controlPlanes = nodes.filter((n) => n.role === "control-plane").map((n) => n.name);
    return {
        nodes: Object.fromEntries(nodes.map((n) => [n.name, { ready: true, unschedulable: false }])),
        controlPlanes,
        etcdPods: Object.fromEntries(controlPlanes.map((c) => [c, true])),
        etcdHealthy: true,
    };
}

export async function makeRollProject(opts: {
    readonly stack: string;
    readonly config: Record<string, unknown>;
    readonly state: ReadonlyArray<EngineResource>;
    readonly program: ReadonlyArray<EngineResource>;
    readonly cluster: FakeCluster;
    readonly env?: Record<string, string>;
}): Promise<RollProject> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roll-project-"));
    fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.writeFileSync(path.join(dir, `Pulumi.${opts.stack}.yaml`), jsyaml.dump({ config: opts.config }));
    const file = (name: string, text: string) => {
        fs.writeFileSync(path.join(dir, name), text);
        return path.join(dir, name);
    };
    const statePath = file("fake-state.json", JSON.stringify({ version: 3, deployment: { manifest: { time: "2024-05-01T10:00:00.000000000Z", magic: "", version: "v3.248.0" }, resources: opts.state } }, null, 4));
    const programPath = file("fake-program.json", JSON.stringify(opts.program));
    const logPath = file("fake-pulumi.log", "");
    const stepsPath = file("fake-steps.log", "");
    const clusterPath = file("fake-cluster.json", JSON.stringify(opts.cluster, null, 2));
    const readCluster = () => JSON.parse(fs.readFileSync(clusterPath, "utf8")) as FakeCluster;

    const server = http.createServer((req, res) => {
        const url = req.url ?? "";
        fs.appendFileSync(logPath, `${JSON.stringify({ api: url })}\n`);
        const c = readCluster();
        const json = (status: number, body: unknown) => {
            res.writeHead(status, { "Content-Type": "application/json" });
            res.end(JSON.stringify(body));
        };
        if (url === "/api/v1/nodes") {
            json(200, {
                kind: "NodeList",
                apiVersion: "v1",
                metadata: { resourceVersion: "1" },
                items: Object.entries(c.nodes).map(([name, n]) => ({
                    metadata: { name },
                    spec: n.unschedulable ? { unschedulable: true } : {},
                    status: { conditions: [{ type: "Ready", status: n.ready ? "True" : "False", reason: n.ready ? "KubeletReady" : "KubeletNotReady" }] },
                })),
            });
            return;
        }
        if (url === "/healthz/etcd") {
            res.writeHead(c.etcdHealthy ? 200 : 500, { "Content-Type": "text/plain; charset=utf-8" });
            res.end(c.etcdHealthy ? "ok" : "internal server error: etcd failed: context deadline exceeded\n");
            return;
        }
        const pod = /^\/api\/v1\/namespaces\/kube-system\/pods\/etcd-(.+)$/.exec(url);
        if (pod && pod[1] in c.etcdPods) {
            const ok = c.etcdPods[pod[1]];
            json(200, { kind: "Pod", apiVersion: "v1", metadata: { name: `etcd-${pod[1]}`, namespace: "kube-system" }, status: { phase: ok ? "Running" : "Pending", conditions: [{ type: "Ready", status: ok ? "True" : "False" }] } });
            return;
        }
        json(404, { kind: "Status", apiVersion: "v1", status: "Failure", message: `pods "${url.split("/").pop()}" not found`, reason: "NotFound", code: 404 });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const kubeconfig = file(
        "fake-kubeconfig.yaml",
        jsyaml.dump({
            apiVersion: "v1",
            kind: "Config",
            "current-context": "admin",
            clusters: [{ name: "c", cluster: { server: `http://127.0.0.1:${port}` } }],
            contexts: [{ name: "admin", context: { cluster: "c", user: "admin" } }],
            users: [{ name: "admin", user: {} }],
        }),
    );
    const env = {
        ...fakePulumiEnv(dir, { state: statePath, log: logPath, kubeconfig }),
        FAKE_PULUMI_PROGRAM: programPath,
        FAKE_PULUMI_STEPS: stepsPath,
        FAKE_CLUSTER: clusterPath,
        ...opts.env,
    };
    const lines = (p: string) => fs.readFileSync(p, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    return {
        dir,
        env,
        statePath,
        events: () => lines(logPath),
        steps: () => lines(stepsPath),
        state: () => JSON.parse(fs.readFileSync(statePath, "utf8")).deployment.resources,
        cluster: readCluster,
        setCluster: (c) => fs.writeFileSync(clusterPath, JSON.stringify(c, null, 2)),
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
