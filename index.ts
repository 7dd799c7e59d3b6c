// oslo-mesh: KVM NVMe VPS nodes -> kubeadm Kubernetes -> Istio 1.3.3 -> mesh policy.
import * as pulumi from "@pulumi/pulumi";
import { IstioControlPlane, ingressPorts } from "./components/istio";
import { capacityTable, meshCapacity } from "./components/istio/capacity";
import { KubeadmCluster, nodeCidrs } from "./components/kubernetes";
import { renderNodeImageInstall } from "./components/kubernetes/render";
import { CanaryRoute, IngressRoute, MeshMtls, MeshPrerequisites } from "./components/mesh";
import { createNodes } from "./components/vps";
import { loadStackConfig } from "./stacks/load";

// Every configuration problem is reported here, before any resource is registered.
const config = loadStackConfig();

// Undersized is an error in prod (stacks/validators.ts); elsewhere a warning with the numbers.
const capacity = meshCapacity(config);
if (!capacity.fits) pulumi.log.warn(`the workers cannot carry the mesh at the expected load (oslo-mesh:load):\n${capacityTable(capacity)}`);

// Every libvirt node is cloned from its hypervisor's node image, on which the node preparation ran once.
const nodes = createNodes(config, undefined, { install: renderNodeImageInstall(config.kubernetes) });
const cluster = new KubeadmCluster(config.stack, {
    nodes,
    kubernetes: config.kubernetes,
    clusterName: `oslo-mesh-${config.stack}`,
    nodeCidrs: nodeCidrs(config),
    publicPorts: ingressPorts(config.istio),
});
const istio = new IstioControlPlane("istio", {
    provider: cluster.provider,
    istio: config.istio,
    mtlsMode: config.mesh.mtls.mode,
    externalIps: nodes.filter((n) => n.role === "worker").map((n) => n.publicIp),
    clusterDomain: config.kubernetes.clusterDomain,
    kubernetesVersion: config.kubernetes.version,
    workersReady: cluster.workersReady,
});

const mesh: MeshPrerequisites = { provider: cluster.provider, crds: istio.crds, namespaces: istio.namespaces };
new MeshMtls("mesh-mtls", { ...mesh, mtls: config.mesh.mtls, clusterDomain: config.kubernetes.clusterDomain });
for (const canary of config.canaries) {
    new CanaryRoute(`canary-${canary.namespace}-${canary.service}`, { ...mesh, canary, mtlsMode: config.mesh.mtls.mode });
}
if (config.mesh.ingress) new IngressRoute("ingress", { ...mesh, ingress: config.mesh.ingress });

export const environment = config.environment;
export const nodeAddresses = Object.fromEntries(nodes.map((n) => [n.nodeName, n.publicIp]));
export const apiServer = cluster.endpoint;
export const kubeconfig = cluster.kubeconfig;
export const istioCrds = istio.crds.size;
export const meshCapacityNeeded = { vcpu: round(capacity.need.cpu), memoryMiB: Math.round(capacity.need.memoryMiB) };
export const workerCapacity = { vcpu: round(capacity.allocatable.cpu), memoryMiB: Math.round(capacity.allocatable.memoryMiB) };

function round(x: number): number {
    return Math.round(x * 100) / 100;
}
