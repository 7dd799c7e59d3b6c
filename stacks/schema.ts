// The shape of the stack configuration under the `oslo-mesh:` namespace.
// Structure and types live here (zod); rules that relate several keys live in
// each component's validate.ts, so every rule sits next to the code that relies on it.
import { z } from "zod";
import { onCalendarProblem } from "../components/kubernetes/day2/schedule";
import { durationProblem, goDurationProblem } from "../components/shared/duration";
import {
    canonicalCidrV4,
    debianVersion,
    dnsLabel,
    dnsName,
    downloadUrl,
    endpoint,
    interfaceName,
    ipv4,
    kernelArg,
    libvirtName,
    posixUser,
    releaseVersion,
    sshHost,
} from "./grammar";

/** What a VM may be given: q35's max_cpus in QEMU 2.8 to 8.0 (hw/i386/pc_q35.c), 1 TiB of memory, a 64 TiB disk. */
export const NODE_LIMITS = { vcpus: 288, memoryMiB: 1024 * 1024, diskGiB: 64 * 1024 } as const;

/** One of Istio's string matches (exact, prefix or regex). */
const stringMatch = z.union([z.strictObject({ exact: z.string() }), z.strictObject({ prefix: z.string() }), z.strictObject({ regex: z.string() })]);

/** Durations as Go parses them (time.ParseDuration, within an int64 of nanoseconds): 500ms, 2s, 1.5m, 1h. */
export const duration = z.string().superRefine((text, ctx) => {
    const problem = goDurationProblem(text);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** Durations that reach Istio 1.3 or Mixer: also at least 1ms, in whole milliseconds (Istio's ValidateDuration). */
export const istioDuration = z.string().superRefine((text, ctx) => {
    const problem = durationProblem(text);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** A Kubernetes resource quantity (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/). */
export const quantity = z
    .string()
    .regex(/^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/, "must be a non-negative Kubernetes quantity such as 100m, 0.5, 128Mi or 2Gi");

const cpuAndMemory = z.strictObject({ cpu: quantity, memory: quantity });
/** Requests and limits, both required (every sidecar gets limits). */
const resources = z.strictObject({ requests: cpuAndMemory, limits: cpuAndMemory });
/** Requests, and limits where the chart sets none by default. */
const requestsAndOptionalLimits = z.strictObject({ requests: cpuAndMemory, limits: cpuAndMemory.optional() });

/** A horizontal pod autoscaler of the chart: its bounds and CPU target (autoscaling beyond the minimum needs metrics-server). */
const autoscaled = {
    autoscaleMin: z.number().int().min(1),
    autoscaleMax: z.number().int().min(1),
    cpu: z.strictObject({ targetAverageUtilization: z.number().int().min(1).max(100) }),
};
/** Mixer's deployments can also run without an autoscaler, at replicaCount. */
const mixerScaling = { ...autoscaled, autoscaleEnabled: z.boolean(), replicaCount: z.number().int().min(1) };

/** A systemd OnCalendar expression (components/kubernetes/day2/schedule.ts says which forms). */
const onCalendar = z.string().superRefine((v, ctx) => {
    const problem = onCalendarProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** Day-2 operations of the cluster (components/kubernetes/day2/). */
const day2 = {
    /** How a change of kubernetes.version upgrades the nodes. */
    upgrade: z.strictObject({
        /** Workers upgraded (drained) at the same time. */
        maxParallelWorkers: z.number().int().min(1).max(50),
        /** How long a worker's drain may take. */
        drainTimeout: z.string().regex(/^\d+(s|m|h)$/, "must be a duration such as 300s, 10m or 1h"),
    }),
    /** etcd snapshots on every control plane. */
    etcdSnapshots: z.strictObject({
        schedule: onCalendar,
        /** Snapshots kept on each control plane. */
        keep: z.number().int().min(1).max(1000),
        /** A host each snapshot is copied to over SSH, with the node's own key (output etcdBackupKeys). */
        copyTo: z
            .strictObject({
                host: sshHost,
                port: z.number().int().min(1).max(65535).default(22),
                user: posixUser,
                path: z.string().regex(/^\/[A-Za-z0-9._\/-]*$/, "must be an absolute path of letters, digits and . _ / -"),
                /** The backup host's public host key, e.g. `ssh-ed25519 AAAA...` (ssh-keyscan), pinned in known_hosts. */
                hostKey: z.string().regex(/^(ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa) [A-Za-z0-9+/]+={0,3}$/, "must be a public host key such as 'ssh-ed25519 AAAA...' (ssh-keyscan -t ed25519 HOST)"),
            })
            .optional(),
    }),
    /** Renewal of the kubeadm certificates on every control plane. */
    certificates: z.strictObject({
        schedule: onCalendar,
        /** Renew when a certificate has fewer days left (kubeadm's last a year). */
        renewBeforeDays: z.number().int().min(7).max(300),
    }),
};

export const environments = ["dev", "staging", "prod"] as const;
export type Environment = (typeof environments)[number];

export const sections = {
    /** Which environment's defaults and rules apply; defaults to the stack name when it is one of them. */
    environment: z.enum(environments),
    /** Where the nodes live. Only Oslo is offered. */
    region: z.enum(["oslo"]),
    /** The admin account on every node and hypervisor. */
    ssh: z.strictObject({
        /** Created by cloud-init on every node; not root, whose SSH login cloud-init's disable_root turns off. */
        user: posixUser.refine((u) => u !== "root", "must not be root: cloud-init's disable_root refuses SSH logins as root; name the admin account"),
        /** One OpenSSH public key line (checked in components/vps/validate.ts). */
        publicKey: z.string().min(1),
        /** Secret. Without it the SSH agent ($SSH_AUTH_SOCK) is used. */
        privateKey: z.string().min(1).optional(),
    }),
    /** How nodes come to exist. */
    vps: z.strictObject({
        driver: z.enum(["libvirt", "inventory"]),
        image: z.strictObject({
            url: downloadUrl,
            /** The image's sha256, pinned; without it the sha256 comes from checksumUrl. */
            sha256: z.string().regex(/^[a-f0-9]{64}$/, "must be a sha256 in lowercase hex").optional(),
            /** The publisher's checksum file (`<sha256> [*]<file>` lines, as Ubuntu's SHA256SUMS beside its images). */
            checksumUrl: downloadUrl.optional(),
            /** Extra kernel arguments set by cloud-init (cgroup v1 for kubelet < 1.25). */
            kernelArgs: z.array(kernelArg).max(32),
        }),
        hypervisors: z
            .array(
                z.strictObject({
                    name: dnsLabel,
                    /** SSH address of the hypervisor; absent means this machine's own libvirt. */
                    host: sshHost.optional(),
                    user: posixUser,
                    port: z.number().int().min(1).max(65535),
                    /** libvirt storage pool on NVMe (logical volume group or dir pool). */
                    pool: libvirtName,
                    /** libvirt network for DHCP addressing (dev). */
                    network: libvirtName.optional(),
                    /** Host bridge for static public addressing (staging, prod). */
                    bridge: interfaceName.optional(),
                    subnet: canonicalCidrV4.optional(),
                    gateway: ipv4.optional(),
                    nameservers: z.array(ipv4).max(8),
                }),
            )
            .max(64),
    }),
    /** The machines of the cluster. */
    nodes: z
        .array(
            z.strictObject({
                name: dnsLabel,
                role: z.enum(["control-plane", "worker"]),
                /** libvirt driver: the hypervisor that hosts it (control planes are spread when omitted). */
                hypervisor: dnsLabel.optional(),
                /** Public IPv4: static address (libvirt on a bridge) or the existing VPS (inventory). */
                ip: ipv4.optional(),
                /** Address for cluster traffic when it differs from the public one. */
                privateIp: ipv4.optional(),
                vcpus: z.number().int().min(1).max(NODE_LIMITS.vcpus).default(2),
                memoryMiB: z.number().int().min(512).max(NODE_LIMITS.memoryMiB).default(4096),
                diskGiB: z.number().int().min(1).max(NODE_LIMITS.diskGiB).default(40),
            }),
        )
        .max(1000),
    kubernetes: z.strictObject({
        /** Exactly X.Y.Z: it becomes part of download URLs and of kubeadm's kubernetesVersion. */
        version: releaseVersion,
        podCidr: canonicalCidrV4,
        serviceCidr: canonicalCidrV4,
        clusterDomain: dnsName,
        /** host[:port] of the API server: a control-plane node's IP or a DNS name; defaults to the first control plane. */
        controlPlaneEndpoint: endpoint.optional(),
        /** CIDRs allowed to reach SSH and the API server. */
        adminCidrs: z.array(canonicalCidrV4).min(1).max(64),
        /** Base of the release binaries (official: https://dl.k8s.io); a mirror for air-gapped sites. */
        downloadBaseUrl: downloadUrl,
        /** Base of the GitHub release downloads (crictl, CNI plugins); a mirror for air-gapped sites. */
        githubBaseUrl: downloadUrl,
        /** cri-tools release of crictl, e.g. 1.23.0. */
        crictlVersion: releaseVersion,
        /** The crictl tarball's sha256, from its release notes; needed for releases before 1.23, which publish no checksum file. */
        crictlSha256: z.string().regex(/^[a-f0-9]{64}$/, "must be a sha256 in hex").optional(),
        /** containernetworking/plugins release, e.g. 0.7.5. */
        cniPluginsVersion: releaseVersion,
        /** The Ubuntu package version of containerd, held at that version. */
        containerdVersion: debianVersion,
        /** Where kubeadm's control-plane images and containerd's pause image come from (registry.k8s.io, or a mirror of it). */
        imageRepository: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/, "must be a registry host with an optional port and path, such as registry.k8s.io or mirror.example.no:5000/k8s"),
        cni: z.strictObject({
            /** The Calico manifest applied after kubeadm init, or a .tgz with the manifest's path inside it after `#`. */
            manifestUrl: downloadUrl,
            /** The sha256 of what manifestUrl serves; without it the CNI step stops before applying anything. */
            manifestSha256: z.string().regex(/^[a-f0-9]{64}$/, "must be a sha256 in hex").optional(),
        }),
        ...day2,
    }),
    istio: z.strictObject({
        version: z.string(),
        mixer: z.strictObject({
            /** Mixer's Go scheduler threads (env GOMAXPROCS) in policy and telemetry. */
            env: z.strictObject({ GOMAXPROCS: z.number().int().min(1).max(128) }),
            policy: z.strictObject({ enabled: z.boolean(), resources: requestsAndOptionalLimits.optional(), ...mixerScaling }),
            /** Enforce Mixer policy checks (global.disablePolicyChecks: false). Needs mixer.policy.enabled. */
            policyChecks: z.boolean(),
            policyCheckFailOpen: z.boolean(),
            telemetry: z.strictObject({
                enabled: z.boolean(),
                resources: resources,
                reportBatchMaxEntries: z.number(),
                reportBatchMaxTime: istioDuration,
                loadshedding: z.strictObject({
                    mode: z.enum(["disabled", "logonly", "enforce"]),
                    latencyThreshold: istioDuration,
                }),
                ...mixerScaling,
            }),
            adapters: z.strictObject({ prometheus: z.strictObject({ metricsExpiryDuration: istioDuration }) }),
        }),
        /** Percent of requests traced by pilot, 0 to 100, to 0.01. */
        traceSampling: z.number(),
        tracing: z.strictObject({ enabled: z.boolean() }),
        /** Envoy access log path, e.g. /dev/stdout; empty turns it off. */
        accessLogFile: z.string(),
        proxy: z.strictObject({
            resources: resources,
            /** istio-init, the init container that sets up each pod's iptables redirection. */
            init: z.strictObject({ resources: resources }),
            /** Envoy worker threads; 0 lets the injector take the sidecar's CPU limit (else request), rounded up. */
            concurrency: z.number().int().min(0),
            /** Envoy's log level; empty is pilot-agent's default (warning). */
            logLevel: z.enum(["", "trace", "debug", "info", "warning", "error", "critical", "off"]),
            accessLogEncoding: z.enum(["TEXT", "JSON"]),
        }),
        ingressGateway: z.strictObject({
            /** NodePort, or ExternalIPs (the ingress Service answers on the workers' static public IPs). */
            exposure: z.enum(["NodePort", "ExternalIPs"]),
            httpNodePort: z.number().int(),
            httpsNodePort: z.number().int(),
            resources: resources,
            ...autoscaled,
        }),
        /** Namespaces labelled istio-injection=enabled. */
        injectNamespaces: z.array(dnsLabel),
        /** The chart repository the released istio-1.3.3.tgz is fetched from (a mirror for air-gapped sites). */
        chartRepository: z.url(),
        /** The chart's PodDisruptionBudgets (minAvailable 1) for pilot, gateways, galley, injector and Mixer. */
        podDisruptionBudgets: z.boolean(),
        /** Prefer to put replicas of a control-plane deployment on different nodes (podAntiAffinity, preferred). */
        spreadOverNodes: z.boolean(),
        pilot: z.strictObject({
            resources: requestsAndOptionalLimits,
            env: z.strictObject({ PILOT_PUSH_THROTTLE: z.number().int().min(1) }),
            ...autoscaled,
        }),
        galley: z.strictObject({ replicaCount: z.number().int().min(1) }),
        sidecarInjector: z.strictObject({ replicaCount: z.number().int().min(1) }),
    }),
    mesh: z.strictObject({
        mtls: z.strictObject({
            mode: z.enum(["STRICT", "PERMISSIVE", "DISABLE"]),
            /** Workloads that cannot take mTLS yet: a namespace, or a service in it. */
            exceptions: z.array(
                z.strictObject({
                    namespace: z.string(),
                    service: z.string().optional(),
                }),
            ),
        }),
        /** Exposes one service through the ingress gateway; omit for none. */
        ingress: z
            .strictObject({
                /** Fully qualified host names (or `*`, or `*.domain`), none covering another. */
                hosts: z.array(z.string()).min(1),
                namespace: dnsLabel,
                service: dnsLabel,
                port: z.number().int().min(1).max(65535),
                /** Only requests whose path matches one of these reach the service; none: every path. */
                uris: z.array(stringMatch).optional(),
                /** The Gateway's name; defaults to `<service>-gateway`. */
                gatewayName: dnsLabel.optional(),
                /** The VirtualService's name; defaults to `<service>-ingress`. */
                virtualServiceName: dnsLabel.optional(),
            })
            .optional(),
    }),
    canaries: z.array(
        z.strictObject({
            /** The service's short name; the route's host. */
            service: dnsLabel,
            namespace: dnsLabel,
            subsets: z.array(
                z.strictObject({
                    name: dnsLabel,
                    labels: z.record(z.string(), z.string()),
                }),
            ),
            /** Load balancing towards the service's pods. */
            loadBalancer: z.enum(["ROUND_ROBIN", "LEAST_CONN", "RANDOM", "PASSTHROUGH"]).optional(),
            /** Percent of traffic per subset name; integers summing to 100. */
            weights: z.record(z.string(), z.number()),
            /** Requests whose headers match go to `subset` (testers reach the canary). */
            match: z
                .strictObject({
                    headers: z.record(z.string(), stringMatch),
                    subset: z.string(),
                })
                .optional(),
            timeout: istioDuration.optional(),
            retries: z
                .strictObject({
                    /** At least 1: Istio 1.3 refuses a retry policy with 0 attempts. */
                    attempts: z.number().int().min(1),
                    perTryTimeout: istioDuration,
                    retryOn: z.string().optional(),
                })
                .optional(),
            /** Promotion step by step by `npm run canary`, gated on Istio's metrics; rules in canary/validate.ts. */
            progression: z
                .strictObject({
                    /** The canary subset; the other subset is the stable one. Default: the last of `subsets`. */
                    subset: dnsLabel.optional(),
                    /** The canary's weights, rising, ending at 100, e.g. [10, 25, 50, 100]. */
                    steps: z.array(z.number()),
                    /** How long each step must serve before the next; also the analysis window. */
                    hold: duration,
                    /** Percent of the canary's requests that must not be 5xx. */
                    minSuccessRate: z.number(),
                    /** Highest 99th percentile of the canary's request duration. */
                    maxP99: duration,
                    /** Requests the canary must have served in the window for any verdict. */
                    minRequests: z.number(),
                })
                .optional(),
        }),
    ),
    /** The expected load, for the mesh capacity check. */
    load: z.strictObject({
        services: z.array(
            z.strictObject({
                name: dnsLabel,
                namespace: dnsLabel,
                /** Requests per second through the service's sidecars, at peak. */
                rps: z.number().min(0),
                replicas: z.number().int().min(1),
            }),
        ),
    }),
} as const;

export type Sections = typeof sections;
export type SectionName = keyof Sections;
export type StackConfig = { [K in SectionName]: z.output<Sections[K]> };
