// Per-environment defaults. A Pulumi.<stack>.yaml holds only what differs from these.
// Objects merge key by key; arrays and scalars replace the default whole.
import { ISTIO_CHART_REPOSITORY } from "../components/istio/chart/release";
import { Environment } from "./schema";

/** Ubuntu 20.04 boots with cgroup v1 by default; the kernel argument keeps it so on newer kernels too. */
export const UBUNTU_FOCAL_IMAGE = "https://cloud-images.ubuntu.com/releases/focal/release/ubuntu-20.04-server-cloudimg-amd64.img";
/** Ubuntu publishes the sha256 of every image of a release directory in SHA256SUMS beside them. */
export const UBUNTU_FOCAL_SHA256SUMS = "https://cloud-images.ubuntu.com/releases/focal/release/SHA256SUMS";
export const CGROUP_V1_KERNEL_ARGS = ["systemd.unified_cgroup_hierarchy=0"];
/**
 * Calico v3.10.4's Kubernetes-datastore manifest, from its GitHub release archive (the repository's
 * Makefile at v3.10.4, `release-archive`: `release-v3.10.4/k8s-manifests/calico.yaml`, rendered
 * from `_includes/v3.10/charts/calico`). docs.projectcalico.org answers 404 for
 * /v3.10/manifests/calico.yaml (projectcalico/calico#6587), and the repository holds no rendered
 * v3.10 manifest to fetch from raw.githubusercontent.com: `v3.10/manifests/calico.yaml` at the tag
 * is a Jekyll `{% helm %}` stub.
 */
export const CALICO_MANIFEST_URL = "https://github.com/projectcalico/calico/releases/download/v3.10.4/release-v3.10.4.tgz#release-v3.10.4/k8s-manifests/calico.yaml";
/**
 * The sha256 of that release archive (release-v3.10.4.tgz), which Calico publishes no checksum
 * for. Source: the digest Hermit recorded when it downloaded this URL for its calicoctl package
 * (cashapp/hermit-packages, calicoctl.hcl, `sha256sums`; read in the kanwren/hermit-packages copy
 * at 74344801deeb0954615fa9b2338a54f1d940ed87). It could not be recomputed where this was
 * written (no network): cni.sh checks every download against it and applies nothing on a
 * mismatch, printing the sum it got.
 */
export const CALICO_RELEASE_SHA256 = "2052c411bcf17084bc67e9a5ec1d4f9c3a161190adfab9baf65a03b82fff3570";

/** The sha256 the CNI download must have: the stack's pin, or ours for our default URL (never for another URL). */
export function cniManifestSha256(cni: { readonly manifestUrl: string; readonly manifestSha256?: string }): string | undefined {
    return cni.manifestSha256 ?? (cni.manifestUrl === CALICO_MANIFEST_URL ? CALICO_RELEASE_SHA256 : undefined);
}

/**
 * Istio: the 1.3.3 chart's own defaults (values.yaml of the chart and its subcharts);
 * test/istio.values.test.ts compares every value the program sets with them.
 */
export const ISTIO_DEFAULTS = {
    version: "1.3.3",
    mixer: {
        env: { GOMAXPROCS: 6 },
        policy: { enabled: false, replicaCount: 1, autoscaleEnabled: true, autoscaleMin: 1, autoscaleMax: 5, cpu: { targetAverageUtilization: 80 } },
        policyChecks: false,
        policyCheckFailOpen: false,
        telemetry: {
            enabled: true,
            resources: { requests: { cpu: "1000m", memory: "1G" }, limits: { cpu: "4800m", memory: "4G" } },
            reportBatchMaxEntries: 100,
            reportBatchMaxTime: "1s",
            loadshedding: { mode: "enforce", latencyThreshold: "100ms" },
            replicaCount: 1,
            autoscaleEnabled: true,
            autoscaleMin: 1,
            autoscaleMax: 5,
            cpu: { targetAverageUtilization: 80 },
        },
        adapters: { prometheus: { metricsExpiryDuration: "10m" } },
    },
    traceSampling: 1.0,
    tracing: { enabled: false },
    accessLogFile: "",
    proxy: {
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2000m", memory: "1024Mi" } },
        init: { resources: { requests: { cpu: "10m", memory: "10Mi" }, limits: { cpu: "100m", memory: "50Mi" } } },
        concurrency: 2,
        logLevel: "",
        accessLogEncoding: "TEXT",
    },
    ingressGateway: {
        exposure: "NodePort",
        httpNodePort: 31380,
        httpsNodePort: 31390,
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2000m", memory: "1024Mi" } },
        autoscaleMin: 1,
        autoscaleMax: 5,
        cpu: { targetAverageUtilization: 80 },
    },
    injectNamespaces: [],
    chartRepository: ISTIO_CHART_REPOSITORY,
    podDisruptionBudgets: true,
    spreadOverNodes: false,
    pilot: {
        // The chart's requests; the limits are ours (the chart sets none, and every control-plane
        // component must have them: policy/rules/limits.ts).
        resources: { requests: { cpu: "500m", memory: "2048Mi" }, limits: { cpu: "2000m", memory: "4Gi" } },
        env: { PILOT_PUSH_THROTTLE: 100 },
        autoscaleMin: 1,
        autoscaleMax: 5,
        cpu: { targetAverageUtilization: 80 },
    },
    galley: { replicaCount: 1 },
    sidecarInjector: { replicaCount: 1 },
    // The chart gives these containers a CPU request of 10m and nothing else. A memory limit
    // without a memory request would make Kubernetes request the whole limit: request a little.
    defaultResources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "1000m", memory: "2Gi" } },
};

const common = {
    region: "oslo",
    ssh: { user: "ubuntu" },
    vps: {
        driver: "libvirt",
        image: { url: UBUNTU_FOCAL_IMAGE, checksumUrl: UBUNTU_FOCAL_SHA256SUMS, kernelArgs: CGROUP_V1_KERNEL_ARGS },
        hypervisors: [],
    },
    kubernetes: {
        version: "1.15.12",
        podCidr: "10.244.0.0/16",
        serviceCidr: "10.96.0.0/12",
        clusterDomain: "cluster.local",
        downloadBaseUrl: "https://dl.k8s.io",
        githubBaseUrl: "https://github.com",
        // The first cri-tools release that publishes .sha512 files; it still speaks CRI v1alpha2,
        // the API of kubelet 1.15 and containerd 1.3.
        crictlVersion: "1.23.0",
        cniPluginsVersion: "0.7.5",
        // containerd 1.3 is validated with Kubernetes 1.15; this is Ubuntu 20.04's own build of it.
        containerdVersion: "1.3.3-0ubuntu2",
        // k8s.gcr.io is frozen and only redirects here; a mirror of registry.k8s.io can stand in.
        imageRepository: "registry.k8s.io",
        cni: { manifestUrl: CALICO_MANIFEST_URL },
        // Day 2 (components/kubernetes/day2/): one worker at a time; a snapshot every 6 hours,
        // a week of them; certificates checked daily, renewed with 30 days to go.
        upgrade: { maxParallelWorkers: 1, drainTimeout: "10m" },
        etcdSnapshots: { schedule: "*-*-* 00/6:00:00", keep: 28 },
        certificates: { schedule: "daily", renewBeforeDays: 30 },
    },
    istio: ISTIO_DEFAULTS,

    mesh: { mtls: { mode: "PERMISSIVE", exceptions: [] } },
    canaries: [],
    // One worker out of service at a time while a fleet change rolls (roll/).
    rollout: { maxUnavailable: 1 },
    load: { services: [] },
};

/**
 * dev runs on 2 GiB workers with tainted control planes: every control-plane pod must fit on one
 * worker (components/istio/capacity.ts). The chart's pilot (500m/2048Mi plus its sidecar) and
 * telemetry (1000m/1G) requests do not; a three-VM laptop cluster needs a fraction of them.
 * One replica each, so no PodDisruptionBudget (minAvailable 1) may block a drain: budgets off.
 */
const DEV_ISTIO = {
    podDisruptionBudgets: false,
    pilot: { resources: { requests: { cpu: "200m", memory: "512Mi" }, limits: { cpu: "1000m", memory: "1Gi" } } },
    mixer: { telemetry: { resources: { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "1000m", memory: "1G" } } } },
};

/**
 * staging and prod: two replicas of everything the chart guards with a PodDisruptionBudget
 * (minAvailable 1), preferably on different nodes, so `kubectl drain` can always evict one.
 */
const HIGHLY_AVAILABLE_ISTIO = {
    spreadOverNodes: true,
    pilot: { autoscaleMin: 2 },
    galley: { replicaCount: 2 },
    sidecarInjector: { replicaCount: 2 },
    ingressGateway: { autoscaleMin: 2 },
    mixer: { policy: { autoscaleMin: 2, replicaCount: 2 }, telemetry: { autoscaleMin: 2, replicaCount: 2 } },
};

const perEnvironment: Record<Environment, object> = {
    // Three small VMs on the laptop's own libvirt, addressed by libvirt's default network.
    dev: {
        vps: {
            hypervisors: [{ name: "local", user: "root", port: 22, pool: "default", network: "default", nameservers: [] }],
        },
        nodes: [
            { name: "dev-cp-1", role: "control-plane", vcpus: 2, memoryMiB: 2048, diskGiB: 20 },
            { name: "dev-worker-1", role: "worker", vcpus: 2, memoryMiB: 2048, diskGiB: 20 },
            { name: "dev-worker-2", role: "worker", vcpus: 2, memoryMiB: 2048, diskGiB: 20 },
        ],
        kubernetes: { adminCidrs: ["192.168.122.0/24"] },
        istio: DEV_ISTIO,
    },
    staging: { istio: HIGHLY_AVAILABLE_ISTIO },
    prod: {
        mesh: { mtls: { mode: "STRICT" } },
        istio: HIGHLY_AVAILABLE_ISTIO,
    },
};

export function defaultsFor(environment: Environment): Record<string, unknown> {
    return deepMerge(common, perEnvironment[environment]) as Record<string, unknown>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Objects merge key by key; anything else in `over` replaces what is in `base`. Only own keys
 * are read and keys are defined, never assigned, so a key such as `__proto__` or `constructor`
 * can neither read nor set a prototype (the loader also refuses them before merging).
 */
export function deepMerge(base: unknown, over: unknown): unknown {
    if (over === undefined) return base;
    if (!isPlainObject(base) || !isPlainObject(over)) return over;
    const out: Record<string, unknown> = {};
    const define = (k: string, v: unknown) => Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    for (const k of Object.keys(base)) define(k, base[k]);
    for (const k of Object.keys(over)) define(k, deepMerge(Object.hasOwn(base, k) ? base[k] : undefined, over[k]));
    return out;
}
