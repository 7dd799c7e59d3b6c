// oslo-mesh: KVM NVMe VPS nodes -> kubeadm Kubernetes -> Istio 1.3.3 -> mesh policy.
// An async program: the Istio chart is fetched and verified (once, then cached) before any
// resource is declared, so that Helm gets a local chart and nothing is half-created.
import * as pulumi from "@pulumi/pulumi";
import { IstioControlPlane, ingressPorts } from "./components/istio";
import { capacityTable, meshCapacity } from "./components/istio/capacity";
import { chartSourceOptions, prepareIstioChart, recordedChartPath } from "./components/istio/chart";
import { workerStaticIps } from "./components/istio/values";
import { KubeadmCluster, nodeCidrs } from "./components/kubernetes";
import { renderNodeImageInstall } from "./components/kubernetes/render";
import { CanaryRoute, IngressRoute, MeshMtls, MeshPrerequisites } from "./components/mesh";
import { canaryName, INGRESS_NAME, MESH_MTLS_NAME } from "./components/mesh/names";
import { createNodes } from "./components/vps";
import { checkExampleKey } from "./stacks/exampleKey";
import { gatedNodes } from "./roll/gate";
import { loadStackConfig } from "./stacks/load";

export = async () => {
    // Every configuration problem is reported here, before any resource is registered.
    const config = loadStackConfig();
    // The committed example SSH key: a warning in a preview, refused by `pulumi up`.
    checkExampleKey(config.ssh);

    // Undersized is an error in prod (stacks/validators.ts); elsewhere a warning with the numbers.
    const capacity = meshCapacity(config);
    if (!capacity.fits) pulumi.log.warn(`the workers cannot carry the mesh at the expected load (oslo-mesh:load):\n${capacityTable(capacity)}`);

    const chartSource = chartSourceOptions(config.istio.chartRepository);
    const chart = await prepareIstioChart(chartSource);
    if (!chart.available) pulumi.log.warn(`the Istio chart is not at hand, so Helm has nothing to render: ${chart.reason}`);

    // Every VM waits for the rollout gate, which refuses at preview a change that would replace
    // more than one wave of nodes at once (roll/): `npm run roll` applies those wave by wave.
    // Every libvirt node is cloned from its hypervisor's node image, on which the node preparation ran once.
    const nodeImage = { install: renderNodeImageInstall(config.kubernetes) };
    const { nodes } = gatedNodes({ stack: config.stack, maxUnavailable: config.rollout.maxUnavailable }, (opts) => createNodes(config, opts, nodeImage));
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
        chart: { path: chart.path, recordedPath: recordedChartPath(chart, chartSource.cacheDir) },
        workerIps: workerStaticIps(config.nodes),
        clusterDomain: config.kubernetes.clusterDomain,
        kubernetesVersion: config.kubernetes.version,
        workersReady: cluster.workersReady,
    });

    const mesh: MeshPrerequisites = { provider: cluster.provider, crds: istio.crds, namespaces: istio.namespaces };
    new MeshMtls(MESH_MTLS_NAME, { ...mesh, mtls: config.mesh.mtls, clusterDomain: config.kubernetes.clusterDomain });
    for (const canary of config.canaries) new CanaryRoute(canaryName(canary), { ...mesh, canary, mtls: config.mesh.mtls });
    if (config.mesh.ingress) new IngressRoute(INGRESS_NAME, { ...mesh, ingress: config.mesh.ingress });

    return {
        environment: config.environment,
        // The policy pack reads these two: which rules apply, and which hosts the mesh covers.
        clusterDomain: config.kubernetes.clusterDomain,
        nodeAddresses: Object.fromEntries(nodes.map((n) => [n.nodeName, n.publicIp])),
        apiServer: cluster.endpoint,
        kubeconfig: cluster.kubeconfig,
        etcdBackupKeys: cluster.day2.etcdBackupKeys,
        istioCrds: istio.crds.size,
        meshCapacityNeeded: { vcpu: round(capacity.need.cpu), memoryMiB: Math.round(capacity.need.memoryMiB) },
        workerCapacity: { vcpu: round(capacity.allocatable.cpu), memoryMiB: Math.round(capacity.allocatable.memoryMiB) },
    };
};

function round(x: number): number {
    return Math.round(x * 100) / 100;
}
