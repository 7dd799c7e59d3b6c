// Generated stack configs for the benchmark: N nodes (3 control planes from 10 nodes on,
// else 1) over three Oslo hypervisors, and C canary routes.
import { committedStackConfig } from "../plan/stackFile";

export function generatedConfig(nodes: number, canaries: number): Record<string, unknown> {
    const base = committedStackConfig("staging");
    const controlPlanes = nodes >= 10 ? 3 : 1;
    const hypervisors = [1, 2, 3].map((i) => ({ name: `osl-hv-${i}`, host: `203.0.113.${i + 1}`, user: "root", port: 22, pool: "nvme", bridge: "br0", subnet: "203.0.113.0/24", gateway: "203.0.113.1", nameservers: ["193.75.75.75"] }));
    const nodeList = Array.from({ length: nodes }, (_, i) => ({
        name: i < controlPlanes ? `bench-cp-${i + 1}` : `bench-worker-${i + 1 - controlPlanes}`,
        role: i < controlPlanes ? "control-plane" : "worker",
        ip: `203.0.113.${10 + i}`,
        vcpus: 4,
        memoryMiB: 8192,
        diskGiB: 40,
    }));
    const canaryList = Array.from({ length: canaries }, (_, i) => ({
        service: `svc-${i + 1}`,
        namespace: "bookinfo",
        subsets: [
            { name: "v1", labels: { version: "v1" } },
            { name: "v2", labels: { version: "v2" } },
        ],
        weights: { v1: 90, v2: 10 },
        timeout: "10s",
        retries: { attempts: 2, perTryTimeout: "3s" },
    }));
    return {
        ...base,
        "oslo-mesh:vps": { hypervisors },
        "oslo-mesh:nodes": nodeList,
        "oslo-mesh:kubernetes": { controlPlaneEndpoint: "api.bench.oslo-mesh.example:6443", adminCidrs: ["198.51.100.0/24"] },
        "oslo-mesh:canaries": canaryList,
        "oslo-mesh:load": { services: [] },
    };
}
