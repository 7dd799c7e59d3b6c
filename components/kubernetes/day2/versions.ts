// What each supported Kubernetes minor needs from day-2 operations, from kubeadm itself.
// Imports nothing: it travels in the Pulumi state with the version gate's provider
// (components/shared/previewGate.ts) and runs in the engine's dynamic provider host.

/**
 * The etcd kubeadm runs per Kubernetes minor: `SupportedEtcdVersion` in
 * cmd/kubeadm/app/constants/constants.go (1.13: 3.2.24; 1.14 and 1.15: 3.3.10); the 1.14 and
 * 1.15 upgrade guides show the same (Etcd 3.2.24 → 3.3.10, then 3.3.10 → 3.3.10).
 */
export const KUBEADM_ETCD_VERSION: Readonly<Record<string, string>> = { "1.13": "3.2.24", "1.14": "3.3.10", "1.15": "3.3.10" };

/** The Kubernetes minors this program installs and upgrades between. */
export const SUPPORTED_MINORS = ["1.13", "1.14", "1.15"];

interface Version {
    readonly major: number;
    readonly minor: number;
    readonly patch: number;
}

function parse(v: string): Version | undefined {
    const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(v);
    return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

export function minorOf(version: string): string {
    const v = parse(version);
    if (!v) throw new Error(`not a version: ${version}`);
    return `${v.major}.${v.minor}`;
}

export function etcdVersionFor(k8sVersion: string): string {
    const etcd = KUBEADM_ETCD_VERSION[minorOf(k8sVersion)];
    if (!etcd) throw new Error(`no kubeadm etcd version known for Kubernetes ${k8sVersion}`);
    return etcd;
}

/**
 * Why the cluster cannot go from `deployed` to `wanted`, or undefined when it can: kubeadm
 * upgrades one minor at a time, never down, and this program only knows 1.13 to 1.15.
 * ("Skipping MINOR versions when upgrading is unsupported", the 1.14 and 1.15 upgrade guides.)
 */
export function versionTransitionProblem(deployed: string | undefined, wanted: string): string | undefined {
    const to = parse(wanted);
    if (!to) return `expected a version such as 1.15.12, got ${JSON.stringify(wanted)}`;
    if (!SUPPORTED_MINORS.includes(`${to.major}.${to.minor}`)) return `${wanted} is outside 1.13 to 1.15, the Kubernetes versions this program installs and upgrades`;
    if (deployed === undefined || deployed === wanted) return undefined;
    const from = parse(deployed);
    if (!from) return undefined;
    const order = (v: Version) => v.major * 1e6 + v.minor * 1e3 + v.patch;
    if (order(to) < order(from)) return `${deployed} → ${wanted} is a downgrade; kubeadm upgrades only forwards (set ${deployed} back, or restore the cluster from an etcd snapshot of ${wanted})`;
    if (to.major !== from.major || to.minor > from.minor + 1) {
        return `${deployed} → ${wanted} skips a minor version; kubeadm upgrades one minor at a time: set ${from.major}.${from.minor + 1}.x first, run pulumi up, then ${wanted}`;
    }
    return undefined;
}

export const VERSION_CONFIG_KEY = "oslo-mesh:kubernetes.version";

/** The version gate's inputs. */
export interface VersionGateInputs {
    /** The Kubernetes version the stack asks for. */
    readonly version: string;
}

/** The version gate's decision: a first install, the same version, a patch or the next minor go through. */
export function versionVerdict(olds: Partial<VersionGateInputs> | undefined, news: VersionGateInputs): { inputs: VersionGateInputs; problems: string[] } {
    const problem = versionTransitionProblem(olds?.version, news.version);
    return { inputs: news, problems: problem ? [`${VERSION_CONFIG_KEY}: ${problem}`] : [] };
}

/** The kubeadm commands that upgrade a node to `target`, per the upgrade guide of its minor. */
export function kubeadmUpgradeCommands(target: string): { readonly controlPlane: string[]; readonly worker: string[] } {
    switch (minorOf(target)) {
        // 1.13.x → 1.13.y, 1.13 → 1.14: "kubeadm upgrade node experimental-control-plane" on further
        // control planes, "kubeadm upgrade node config --kubelet-version" on workers (kubeadm-upgrade-1-14.md).
        case "1.13":
        case "1.14":
            return { controlPlane: ["upgrade", "node", "experimental-control-plane"], worker: ["upgrade", "node", "config", "--kubelet-version", `v${target}`] };
        // 1.14 → 1.15: "kubeadm upgrade node" on both (kubeadm-upgrade-1-15.md).
        default:
            return { controlPlane: ["upgrade", "node"], worker: ["upgrade", "node"] };
    }
}

/** The Kubernetes versions Istio 1.3 is tested with ("Istio 1.3 has been tested with Kubernetes 1.13, 1.14, 1.15"). */
export const ISTIO_1_3_KUBERNETES_MINORS = ["1.13", "1.14", "1.15"];

/**
 * A warning when `version` leaves what Istio 1.3 is tested with, or undefined. Today the range
 * this program installs equals Istio 1.3's, so it speaks only if the two ever part.
 */
export function istioSupportWarning(version: string, istioMinors: ReadonlyArray<string> = ISTIO_1_3_KUBERNETES_MINORS): string | undefined {
    const m = /^(\d+\.\d+)\.\d+$/.exec(version);
    if (!m || istioMinors.includes(m[1])) return undefined;
    return `${VERSION_KEY}: Kubernetes ${version} is outside what Istio 1.3 is tested with (${istioMinors.join(", ")}); upgrade Istio first`;
}

const VERSION_KEY = "oslo-mesh:kubernetes.version";
