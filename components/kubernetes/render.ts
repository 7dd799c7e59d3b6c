// Pure renders for the kubeadm bootstrap: download list, kubeadm configs and every script.
import * as path from "path";
import * as jsyaml from "js-yaml";
import * as semver from "semver";
import { StackConfig } from "../../stacks/schema";
import { cniManifestSha256 } from "../../stacks/defaults";
import { renderScript } from "../shared/script";
import { splitEndpoint } from "./validate";

export type KubernetesConfig = StackConfig["kubernetes"];

export const CRI_SOCKET = "/run/containerd/containerd.sock";
/** Placeholders the scripts replace with the secrets they read on standard input. */
export const TOKEN_PLACEHOLDER = "__BOOTSTRAP_TOKEN__";
export const CERTIFICATE_KEY_PLACEHOLDER = "__CERTIFICATE_KEY__";
/** The CA hash arrives on standard input too, so the join script is known at preview. */
export const CA_CERT_HASH_PLACEHOLDER = "__CA_CERT_HASH__";
/** Packages kubeadm's preflight and kube-proxy need on the host. */
export const HOST_PACKAGES = ["conntrack", "ebtables", "ethtool", "ipset", "iptables", "socat"];

const script = (name: string) => path.join(__dirname, name);

/** kubeadm's config API: v1beta1 for 1.13 and 1.14, v1beta2 from 1.15. */
export function kubeadmApiVersion(version: string): string {
    return semver.gte(version, "1.15.0") ? "kubeadm.k8s.io/v1beta2" : "kubeadm.k8s.io/v1beta1";
}

export interface Artifact {
    readonly name: string;
    readonly url: string;
    /** The checksum file its project publishes beside it, or "" when the sum is pinned in `sum`. */
    readonly sumUrl: string;
    /** A pinned checksum, or "" when it comes from `sumUrl`. */
    readonly sum: string;
    readonly sumTool: "sha512sum" | "sha256sum";
}

function crictlArtifact(url: string, pinnedSha256: string | undefined): Artifact {
    if (pinnedSha256) return { name: "crictl", url, sumUrl: "", sum: pinnedSha256, sumTool: "sha256sum" };
    return { name: "crictl", url, sumUrl: `${url}.sha512`, sum: "", sumTool: "sha512sum" };
}

/** cri-tools publishes .sha256/.sha512 files beside its tarballs from v1.23.0 on (hack/release.sh); before, only in its release notes. */
export const CRICTL_SUM_FILES_SINCE = "1.23.0";

/** What prepare-node.sh downloads, each with the checksum file its project publishes. */
export function artifacts(k: Pick<KubernetesConfig, "version" | "downloadBaseUrl" | "githubBaseUrl" | "crictlVersion" | "crictlSha256" | "cniPluginsVersion">): Artifact[] {
    const base = k.downloadBaseUrl.replace(/\/$/, "");
    const gh = k.githubBaseUrl.replace(/\/$/, "");
    // Kubernetes 1.13-1.15 publish .sha512 (and .sha1) beside each binary; .sha256 starts with 1.16.
    const kube = ["kubeadm", "kubelet", "kubectl"].map((name) => {
        const url = `${base}/release/v${k.version}/bin/linux/amd64/${name}`;
        return { name, url, sumUrl: `${url}.sha512`, sum: "", sumTool: "sha512sum" as const };
    });
    const crictl = `${gh}/kubernetes-sigs/cri-tools/releases/download/v${k.crictlVersion}/crictl-v${k.crictlVersion}-linux-amd64.tar.gz`;
    const cni = `${gh}/containernetworking/plugins/releases/download/v${k.cniPluginsVersion}/cni-plugins-amd64-v${k.cniPluginsVersion}.tgz`;
    // containernetworking/plugins v0.7.x publishes .sha1, .sha256 and .sha512 files (scripts/release.sh).
    return [
        ...kube,
        crictlArtifact(crictl, k.crictlSha256),
        { name: "cni-plugins", url: cni, sumUrl: `${cni}.sha512`, sum: "", sumTool: "sha512sum" },
    ];
}

const KUBELET_UNIT = `[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/home/
Wants=network-online.target
After=network-online.target containerd.service

[Service]
ExecStart=/usr/local/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target`;

// kubeadm's drop-in as the Kubernetes packages ship it, with the binary where we install it.
const KUBEADM_DROPIN = `[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS`;

/** kubeadm 1.13–1.15's pause image (cmd/kubeadm/app/constants PauseVersion). With containerd, kubeadm
 *  passes no --pod-infra-container-image to the kubelet (phases/kubelet/flags.go): containerd's
 *  sandbox_image decides it, so it must come from the same repository as kubeadm's images. */
export const PAUSE_VERSION = "3.1";

function containerdConfig(imageRepository: string): string {
    return `# oslo-mesh: containerd's defaults, with the CRI plugin on (the kubelet talks to ${CRI_SOCKET}).
[plugins.cri]
  sandbox_image = "${imageRepository}/pause:${PAUSE_VERSION}"`;
}

/** How long node preparation waits for apt's locks, which first-boot unattended-upgrades may hold. */
export const APT_LOCK_SECONDS = 900;

/** Sandboxing for tests: ROOT prefixes every path the scripts write. Empty on nodes. */
export interface ScriptEnv {
    readonly root?: string;
    /** How long a script waits for the cluster to reach the state it checks; tests shorten it. */
    readonly waitSeconds?: number;
}

/** How long init and join wait for the end state of kubeadm, and a node to become Ready. */
export const WAIT_SECONDS = { kubeadm: 300, ready: 600 };
/** How long a removal waits for the node's pods to be evicted before it fails and names the holdouts. */
export const DRAIN_SECONDS = 300;

/**
 * Node preparation: the runtime, the verified tools and the kubelet unit; with `pullImages`, also
 * kubeadm's control-plane images (a control plane, and the node image every node is cloned from).
 * On a node that has it all (a clone of the node image) every phase finds its work done.
 */
export function renderPrepareScript(nodeName: string, k: KubernetesConfig, env: ScriptEnv = {}, opts: { pullImages?: boolean } = {}): string {
    const list = artifacts(k);
    return renderScript(script("prepare-node.sh"), {
        ROOT: env.root ?? "",
        NODE_NAME: nodeName,
        K8S_VERSION: k.version,
        PULL_IMAGES: opts.pullImages ?? false,
        IMAGE_REPOSITORY: k.imageRepository,
        HOST_PACKAGES,
        CONTAINERD_VERSION: k.containerdVersion,
        APT_LOCK_SECONDS: APT_LOCK_SECONDS,
        CONTAINERD_CONFIG: containerdConfig(k.imageRepository),
        ARTIFACT_NAMES: list.map((a) => a.name),
        ARTIFACT_URLS: list.map((a) => a.url),
        ARTIFACT_SUM_URLS: list.map((a) => a.sumUrl),
        ARTIFACT_SUMS: list.map((a) => a.sum),
        ARTIFACT_SUM_TOOLS: list.map((a) => a.sumTool),
        KUBELET_UNIT,
        KUBEADM_DROPIN,
        CRI_SOCKET,
    });
}

export interface ClusterShape {
    readonly k: KubernetesConfig;
    /** The stack name, for the cluster's name. */
    readonly clusterName: string;
    /** host:port every node and kubeconfig uses for the API server. */
    readonly endpoint: string;
    /** Whether several control planes share the certificates (upload-certs). */
    readonly ha: boolean;
}

export interface NodeIdentity {
    readonly name: string;
    /** The address the node's kubelet and API server advertise. */
    readonly ip: string;
}

function dump(docs: object[]): string {
    return docs.map((d) => jsyaml.dump(d, { lineWidth: -1, noRefs: true })).join("---\n");
}

/** The kubeadm config of the first control plane (InitConfiguration + ClusterConfiguration), secrets as placeholders. */
export function renderInitConfig(shape: ClusterShape, node: NodeIdentity, extraSans: ReadonlyArray<string>): string {
    const apiVersion = kubeadmApiVersion(shape.k.version);
    const { host, port } = splitEndpoint(shape.endpoint);
    const init: Record<string, unknown> = {
        apiVersion,
        kind: "InitConfiguration",
        bootstrapTokens: [{ token: TOKEN_PLACEHOLDER, ttl: "24h0m0s", description: "oslo-mesh node bootstrap", groups: ["system:bootstrappers:kubeadm:default-node-token"], usages: ["signing", "authentication"] }],
        localAPIEndpoint: { advertiseAddress: node.ip, bindPort: port },
        nodeRegistration: { name: node.name, criSocket: CRI_SOCKET, kubeletExtraArgs: { "node-ip": node.ip } },
    };
    if (shape.ha) init.certificateKey = CERTIFICATE_KEY_PLACEHOLDER;
    const cluster = {
        apiVersion,
        kind: "ClusterConfiguration",
        clusterName: shape.clusterName,
        kubernetesVersion: `v${shape.k.version}`,
        imageRepository: shape.k.imageRepository,
        controlPlaneEndpoint: shape.endpoint,
        networking: { podSubnet: shape.k.podCidr, serviceSubnet: shape.k.serviceCidr, dnsDomain: shape.k.clusterDomain },
        apiServer: { certSANs: [...new Set([host, ...extraSans])] },
    };
    return dump([init, cluster]);
}

/** The kubeadm JoinConfiguration of a worker or of a further control plane. */
export function renderJoinConfig(shape: ClusterShape, node: NodeIdentity, controlPlane: boolean): string {
    const { port } = splitEndpoint(shape.endpoint);
    const join: Record<string, unknown> = {
        apiVersion: kubeadmApiVersion(shape.k.version),
        kind: "JoinConfiguration",
        discovery: { bootstrapToken: { apiServerEndpoint: shape.endpoint, token: TOKEN_PLACEHOLDER, caCertHashes: [CA_CERT_HASH_PLACEHOLDER] } },
        nodeRegistration: { name: node.name, criSocket: CRI_SOCKET, kubeletExtraArgs: { "node-ip": node.ip } },
    };
    if (controlPlane) join.controlPlane = { localAPIEndpoint: { advertiseAddress: node.ip, bindPort: port }, certificateKey: CERTIFICATE_KEY_PLACEHOLDER };
    return dump([join]);
}

export function renderInitScript(node: NodeIdentity, k: KubernetesConfig, kubeadmConfig: string, ha: boolean, env: ScriptEnv = {}): string {
    return renderScript(script("init.sh"), {
        ROOT: env.root ?? "",
        NODE_NAME: node.name,
        NODE_IP: node.ip,
        K8S_VERSION: k.version,
        KUBEADM_CONFIG: kubeadmConfig,
        UPLOAD_CERTS: ha,
        WAIT_SECONDS: env.waitSeconds ?? WAIT_SECONDS.kubeadm,
    });
}

/** The first control plane: lifecycle actions run there, and a half-joined control plane removes its etcd member through it. */
export type FirstControlPlane = NodeIdentity;

export function renderJoinScript(node: NodeIdentity, kubeadmConfig: string, controlPlane: boolean, first: FirstControlPlane, env: ScriptEnv = {}): string {
    return renderScript(script("join.sh"), {
        ROOT: env.root ?? "",
        NODE_NAME: node.name,
        NODE_IP: node.ip,
        KUBEADM_CONFIG: kubeadmConfig,
        CONTROL_PLANE: controlPlane,
        FIRST_CONTROL_PLANE: first.name,
        WAIT_SECONDS: env.waitSeconds ?? WAIT_SECONDS.kubeadm,
    });
}

export function renderResetScript(nodeName: string, env: ScriptEnv = {}): string {
    return renderScript(script("reset.sh"), { ROOT: env.root ?? "", NODE_NAME: nodeName });
}

/** A step of a node's life run on the first control plane: admit (before its join), wait (after), drain and forget (its removal, around the reset on the node). */
export type LifecycleAction = "admit" | "wait" | "drain" | "forget";

export function renderLifecycleScript(
    action: LifecycleAction,
    node: NodeIdentity,
    first: FirstControlPlane,
    opts: { admitConfig?: string; controlPlane?: boolean; drainSeconds?: number } & ScriptEnv = {},
): string {
    return renderScript(script("node-lifecycle.sh"), {
        ROOT: opts.root ?? "",
        ACTION: action,
        NODE_NAME: node.name,
        NODE_IP: node.ip,
        FIRST_CONTROL_PLANE: first.name,
        FIRST_CONTROL_PLANE_IP: first.ip,
        ADMIT_CONFIG: opts.admitConfig ?? "",
        CONTROL_PLANE: opts.controlPlane ?? false,
        WAIT_SECONDS: opts.waitSeconds ?? WAIT_SECONDS.ready,
        DRAIN_SECONDS: opts.drainSeconds ?? DRAIN_SECONDS,
    });
}

/** The name the node image's preparation runs under: it has no node identity. */
export const NODE_IMAGE_PREPARE_NAME = "node-image";

/**
 * What the node image's builder runs at its first boot (components/vps/nodeImage.ts): the same
 * preparation as every node, with kubeadm's images pulled, and nothing of any node's identity.
 */
export function renderNodeImageInstall(k: KubernetesConfig, env: ScriptEnv = {}): string {
    return renderPrepareScript(NODE_IMAGE_PREPARE_NAME, k, env, { pullImages: true });
}

/** The config `kubeadm token create` and `upload-certs` read when admitting a node. */
export function renderAdmitConfig(shape: ClusterShape): string {
    const init: Record<string, unknown> = {
        // v1beta1 unless the certificate key needs v1beta2: kubeadm 1.13 to 1.15 all read
        // v1beta1, so an upgrade 1.14 → 1.15 does not hand the old kubeadm a v1beta2 file.
        apiVersion: shape.ha ? kubeadmApiVersion(shape.k.version) : "kubeadm.k8s.io/v1beta1",
        kind: "InitConfiguration",
        bootstrapTokens: [{ token: TOKEN_PLACEHOLDER, ttl: "2h0m0s", description: "oslo-mesh node bootstrap", groups: ["system:bootstrappers:kubeadm:default-node-token"], usages: ["signing", "authentication"] }],
    };
    if (shape.ha) init.certificateKey = CERTIFICATE_KEY_PLACEHOLDER;
    return dump([init]);
}

export function renderCniScript(k: KubernetesConfig, env: ScriptEnv = {}): string {
    return renderScript(script("cni.sh"), { ROOT: env.root ?? "", MANIFEST_URL: k.cni.manifestUrl, MANIFEST_SHA256: cniManifestSha256(k.cni) ?? "", POD_CIDR: k.podCidr });
}

export function renderFirewallScript(
    nodeName: string,
    role: "control-plane" | "worker",
    opts: { adminCidrs: ReadonlyArray<string>; clusterCidrs: ReadonlyArray<string>; podCidr: string; apiPort: number; publicPorts: ReadonlyArray<string> } & ScriptEnv,
): string {
    return renderScript(script("firewall.sh"), {
        ROOT: opts.root ?? "",
        NODE_NAME: nodeName,
        ROLE: role,
        ADMIN_CIDRS: opts.adminCidrs,
        CLUSTER_CIDRS: opts.clusterCidrs,
        POD_CIDR: opts.podCidr,
        API_PORT: opts.apiPort,
        PUBLIC_TCP_PORTS: opts.publicPorts,
    });
}

export function renderKubeconfigScript(env: ScriptEnv = {}): string {
    return renderScript(script("kubeconfig.sh"), { ROOT: env.root ?? "" });
}

/** The secrets the scripts read on standard input. */
export function secretsStdin(token: string, certificateKey: string): string {
    return `token=${token}\ncertificateKey=${certificateKey}\n`;
}

/** What join.sh reads on standard input: the secrets and the CA hash from init. */
export function joinStdin(secrets: string, caCertHash: string): string {
    return `${secrets}caCertHash=${caCertHash}\n`;
}

/** The CA hash init.sh printed last (`caCertHash=sha256:...`). */
export function parseCaCertHash(stdout: string): string {
    const m = /^caCertHash=(sha256:[a-f0-9]{64})$/m.exec(stdout);
    if (!m) throw new Error("kubeadm init printed no CA certificate hash");
    return m[1];
}
