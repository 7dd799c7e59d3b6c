// Is the cluster healthy enough for the next wave? Asked of the Kubernetes API server with the
// stack's kubeconfig output (kubeadm's admin.conf), which is held in memory only:
// - GET /api/v1/nodes: every node registered, its `Ready` condition "True" (core/v1 NodeReady,
//   ConditionTrue), and `spec.unschedulable` unset for the nodes a wave brought back (the
//   `registered` step uncordons them);
// - GET /healthz/etcd: "ok". kube-apiserver's etcd check reads `<prefix>/health` from etcd with a
//   2 s timeout (k8s.io/apiserver storagebackend/factory/etcd3.go, newETCD3HealthCheck, in the
//   1.13-1.16 sources), a read that needs etcd's quorum; a failed check answers HTTP 500
//   "internal server error: …" (healthz.go, adaptCheckToHandler);
// - GET /api/v1/namespaces/kube-system/pods/etcd-<node> for every control plane: kubeadm's static
//   etcd pod, whose mirror pod the kubelet names `<pod>-<node>` (pkg/kubelet/config/common.go,
//   generatePodName), Running with its `Ready` condition "True".
// The member's own health (etcdctl inside the pod) is what the control plane's join step checks
// before the wave's `pulumi up` returns (components/kubernetes/cluster-state.sh).
import * as http from "http";
import * as https from "https";
import { ApiServer } from "../canary/prometheus";

export interface NodeStatus {
    readonly name: string;
    readonly ready: boolean;
    readonly schedulable: boolean;
}

export interface ClusterStatus {
    /** Undefined when the API server did not answer (with why in `unreachable`). */
    readonly nodes?: ReadonlyArray<NodeStatus>;
    /** `/healthz/etcd`'s answer: "ok", or what it said instead. */
    readonly etcd?: string;
    /** Per control plane, whether its etcd pod runs and is Ready (absent: no such pod). */
    readonly etcdPods?: Readonly<Record<string, boolean>>;
    readonly unreachable?: string;
}

export interface HealthExpectation {
    /** Nodes that must be registered and Ready. */
    readonly ready: ReadonlyArray<string>;
    /** Nodes that must also be schedulable. */
    readonly schedulable: ReadonlyArray<string>;
    /** Control planes whose etcd pod must run; etcd is checked when there is any. */
    readonly controlPlanes: ReadonlyArray<string>;
}

/** What keeps the cluster from being healthy; empty when it is. */
export function healthProblems(s: ClusterStatus, want: HealthExpectation): string[] {
    if (s.unreachable !== undefined) return [`the API server did not answer: ${s.unreachable}`];
    const problems: string[] = [];
    const byName = new Map((s.nodes ?? []).map((n) => [n.name, n]));
    for (const name of want.ready) {
        const n = byName.get(name);
        if (!n) problems.push(`node ${name} is not registered`);
        else if (!n.ready) problems.push(`node ${name} is not Ready`);
        else if (want.schedulable.includes(name) && !n.schedulable) problems.push(`node ${name} is cordoned`);
    }
    if (want.controlPlanes.length > 0) {
        if (s.etcd !== "ok") problems.push(`etcd is not healthy: /healthz/etcd answered ${JSON.stringify(s.etcd ?? "nothing")}`);
        for (const cp of want.controlPlanes) {
            const pod = s.etcdPods?.[cp];
            if (pod === undefined) problems.push(`control plane ${cp} runs no etcd pod (etcd-${cp})`);
            else if (!pod) problems.push(`the etcd pod etcd-${cp} is not running and Ready`);
        }
    }
    return problems;
}

interface Answer {
    readonly status: number;
    readonly body: string;
}

function get(api: ApiServer, path: string, timeoutMs: number): Promise<Answer> {
    const url = new URL(`${api.server}${path}`);
    const lib = url.protocol === "https:" ? https : http;
    const headers: Record<string, string> = { Accept: "application/json" };
    if (api.bearerToken) headers.Authorization = `Bearer ${api.bearerToken}`;
    return new Promise((resolve, reject) => {
        const req = lib.get(url, { headers, timeout: timeoutMs, ...(url.protocol === "https:" ? { ...api.tls, agent: false } : {}) }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("error", reject);
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        });
        req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs / 1000}s`)));
        req.on("error", reject);
    });
}

interface KubeCondition {
    type?: string;
    status?: string;
}

function conditionTrue(conditions: ReadonlyArray<KubeCondition> | undefined, type: string): boolean {
    return (conditions ?? []).some((c) => c.type === type && c.status === "True");
}

/** The cluster as the API server reports it, for the given control planes. */
export async function readCluster(api: ApiServer, controlPlanes: ReadonlyArray<string>, timeoutMs = 10_000): Promise<ClusterStatus> {
    try {
        const nodesAnswer = await get(api, "/api/v1/nodes", timeoutMs);
        if (nodesAnswer.status !== 200) return { unreachable: `GET /api/v1/nodes answered HTTP ${nodesAnswer.status}` };
        const list = JSON.parse(nodesAnswer.body) as { items?: Array<{ metadata?: { name?: string }; spec?: { unschedulable?: boolean }; status?: { conditions?: KubeCondition[] } }> };
        const nodes = (list.items ?? []).map((n) => ({ name: n.metadata?.name ?? "", ready: conditionTrue(n.status?.conditions, "Ready"), schedulable: n.spec?.unschedulable !== true }));
        if (controlPlanes.length === 0) return { nodes };
        const healthz = await get(api, "/healthz/etcd", timeoutMs);
        const etcd = healthz.status === 200 ? healthz.body.trim() : `HTTP ${healthz.status}: ${healthz.body.trim().slice(0, 200)}`;
        const etcdPods: Record<string, boolean> = {};
        for (const cp of controlPlanes) {
            const pod = await get(api, `/api/v1/namespaces/kube-system/pods/etcd-${cp}`, timeoutMs);
            if (pod.status === 404) continue;
            if (pod.status !== 200) return { unreachable: `GET the pod etcd-${cp} answered HTTP ${pod.status}` };
            const p = JSON.parse(pod.body) as { status?: { phase?: string; conditions?: KubeCondition[] } };
            etcdPods[cp] = p.status?.phase === "Running" && conditionTrue(p.status?.conditions, "Ready");
        }
        return { nodes, etcd, etcdPods };
    } catch (e) {
        return { unreachable: (e as Error).message };
    }
}

export interface WaitOptions {
    readonly timeoutMs: number;
    readonly pollMs: number;
    readonly sleep?: (ms: number) => Promise<void>;
    readonly now?: () => number;
}

/** Polls until healthy; the problems of the last look when the time is up. */
export async function waitUntilHealthy(read: () => Promise<ClusterStatus>, want: HealthExpectation, opts: WaitOptions): Promise<string[]> {
    const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const now = opts.now ?? Date.now;
    const deadline = now() + opts.timeoutMs;
    for (;;) {
        const problems = healthProblems(await read(), want);
        if (problems.length === 0 || now() >= deadline) return problems;
        await sleep(opts.pollMs);
    }
}
