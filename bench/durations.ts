// What each step of `pulumi up` costs in the model (bench/model.ts), every figure with its
// source: "measured:" (how, where), "upstream:" (a log or a message in an upstream project),
// or "assumption:" (and why). Downloads are megabytes through a link that the steps using it
// at the same time share; everything else is seconds. The figures are for KVM on NVMe in Oslo
// and compare shapes of the graph, not promise wall-clock times.

/** A figure and where it comes from. */
export interface Figure {
    readonly value: number;
    readonly source: string;
}

const f = (value: number, source: string): Figure => ({ value, source });

/** The links downloads go through, in MB/s. */
export const LINKS = {
    /** A hypervisor's uplink, which it shares with every VM on it (the VMs bridge onto it). */
    hypervisorMBps: f(125, "assumption: 1 Gbit/s per hypervisor in the Oslo data centre, shared by the host and its VMs"),
    /** What one download gets at most, however idle the link (mirrors and CDNs cap a single stream). */
    perDownloadMBps: f(40, "assumption: one HTTP stream from a public mirror or registry to Oslo (cloud-images.ubuntu.com, dl.k8s.io, registry.k8s.io, Docker Hub)"),
    /** An inventory VPS has its own uplink. */
    inventoryMBps: f(125, "assumption: 1 Gbit/s per existing VPS"),
};

/** Download sizes, MB as transferred. */
export const SIZES = {
    baseImage: f(600, "assumption: the Ubuntu 20.04 cloud image (focal-server-cloudimg-amd64.img) is about 600 MB"),
    aptPackages: f(80, "assumption: apt lists of focal and focal-updates plus containerd, runc and six host tools"),
    kubeBinaries: f(236, "assumption: kubelet 120 + kubeadm 39 + kubectl 43 MB (v1.15, linux/amd64), crictl 1.23 17 MB and CNI plugins 0.7.5 17 MB"),
    kubeadmImages: f(330, "upstream: kubernetes/kubeadm#1479 lists the v1.14 images at 210 (apiserver) + 158 (controller-manager) + 82 (scheduler) + 82 (proxy) + 40 (coredns) MB unpacked; with etcd (assumption: 258 MB) about 830 MB unpacked, 40% of that compressed (assumption)"),
    nodeImages: f(35, "upstream: kube-proxy 82 MB unpacked (kubernetes/kubeadm#1479) and pause; 40% compressed (assumption)"),
    calicoArchive: f(150, "assumption: Calico's release-v3.10.4.tgz, which carries the release's image tarballs beside the manifests"),
    calicoImages: f(150, "assumption: calico/node, calico/cni and pod2daemon-flexvol v3.10 (about 380 MB unpacked), compressed"),
    istioDeploymentImages: f(120, "assumption: one Istio 1.3.3 Deployment's images (e.g. pilot + proxyv2, mixer + proxyv2), compressed"),
};

/** Fixed times, in seconds. */
export const SECONDS = {
    baseImageStore: f(18, "measured: libvirt-create.sh storing a 600 MB qcow2 from a local file (sha256 of the download, vol-upload, sha256 of the volume): 26-34 s on this 2-core shared machine (load 8), of which a later create's own share was 8-16 s; taken as 18 s"),
    baseImageVerify: f(8, "measured: `virsh vol-download | sha256sum` of a 600 MB volume, as every later create does under the pool lock: 7.7, 8.4, 9.5 s on this machine (load 8)"),
    diskCreate: f(0.5, "measured: qemu-img create of a backed qcow2 through virsh vol-create-as: well under a second"),
    nodeImageCheck: f(0.5, "assumption: listing the pool to find the node image complete (no hashing: it was built in this pool)"),
    domainDefineStart: f(2, "measured: seed ISO, virt-install --print-xml, virsh define and start: about 2 s of each create here (7.4 s total with an 8 s verification overlapping)"),
    bootToSsh: f(20, "assumption: Ubuntu 20.04 under KVM answers SSH about 20 s after the domain starts"),
    cloudInitDone: f(20, "upstream: canonical/cloud-init#3167's `cloud-init analyze show` reaches modules-final 25 s after boot; assumption: done 20 s after SSH answers"),
    aptInstall: f(20, "assumption: unpacking and configuring containerd and the host tools"),
    install: f(5, "assumption: installing the verified binaries, the kubelet unit and drop-in"),
    configureOnly: f(5, "assumption: prepare-node.sh on a node cloned from the node image: every phase finds its work done (proven in test/kubernetes.scripts.test.ts)"),
    imageExtract: f(20, "assumption: containerd unpacking the kubeadm images (about 830 MB)"),
    kubeadmInit: f(50, "upstream: kubernetes/kubernetes#117984, logs of kubeadm init with the images present: 43-55 s from start to done ('All control plane components are healthy after 24-28 seconds')"),
    cniApply: f(3, "assumption: kubectl apply of Calico's manifest"),
    admit: f(5, "assumption: kubeadm token create over SSH; a control plane also uploads the certificates"),
    joinWorker: f(15, "assumption: kubeadm join of a worker with its images present: discovery, TLS bootstrap, the node registered"),
    joinControlPlane: f(40, "assumption: kubeadm join --control-plane with its images present: certificates, etcd member added and healthy, static pods up"),
    nodeImagesExtract: f(5, "assumption: containerd unpacking kube-proxy and pause"),
    calicoExtract: f(10, "assumption: containerd unpacking Calico's images"),
    nodeReady: f(20, "assumption: calico-node starting on the node until the kubelet reports Ready"),
    kubeconfig: f(2, "assumption: cat of admin.conf over SSH"),
    crdEstablished: f(3, "assumption: one CustomResourceDefinition created and Established"),
    namespace: f(1, "assumption: one Namespace created"),
    chartObject: f(1, "assumption: one object of the chart created through the API server"),
    deploymentReady: f(45, "assumption: an Istio 1.3.3 Deployment's pods started and Ready, images present (pilot, galley, injector readiness)"),
    customResource: f(1, "assumption: one Istio custom resource created"),
    randomValue: f(0.1, "assumption: @pulumi/random makes the value locally, in no time worth counting"),
    nodeImageBuild: f(15, "assumption: the builder's disk and seed created, the builder defined and started, and after power-off its disk kept as the image"),
    builderPowerOff: f(10, "assumption: cloud-init clean and power-off of the builder"),
    day2Check: f(2, "assumption: a day-2 step on a node already at its version (components/kubernetes/day2: upgrade, drain, uncordon each check first): an SSH session and a version check"),
    day2Install: f(3, "assumption: a day-2 installer (etcd snapshots, certificate renewal): an SSH session writing a systemd timer and its script"),
    nodeImagePresent: f(1, "assumption: SSH to the hypervisor, the build lock and a pool listing that finds the node image complete (test/vps.nodeimage.test.ts: a second run builds nothing)"),
};

/** The Istio chart, which offline has no objects: what Helm renders at `pulumi up`. */
export const ISTIO_CHART = {
    objects: f(70, "measured: osloistio render of the 1.3.3 istio chart with prod's values: 70 objects"),
    deployments: f(7, "measured: of them 7 Deployments (pilot, citadel, galley, sidecar injector, ingress gateway, telemetry, prometheus)"),
};

/** Pulumi's default parallelism on the runner, when neither --parallel nor PULUMI_PARALLEL is set. */
export const DEFAULT_PARALLEL = {
    /** 4 × the CPUs of the machine running `pulumi up`. */
    perCpu: f(4, "upstream: pulumi/pulumi v3.248.0 pkg/cmd/pulumi/operations/up.go defaultParallel(): runtime.GOMAXPROCS(0) * 4 unless PULUMI_PARALLEL is set (PR #15016, #18782)"),
    runnerCpus: f(2, "assumption: nothing in the repository fixes the size of the self-hosted runner in Oslo; 2 CPUs, the smallest that runs `pulumi up`"),
};
