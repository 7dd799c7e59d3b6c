// Turns the nodes into a Kubernetes cluster with kubeadm over SSH, in the order kubeadm
// needs: every node prepared in parallel; the first control plane initialised; further
// control planes joined one at a time; workers joined in parallel, each waiting only for
// the init and its own node. Hands out the kubeconfig (secret) and a Kubernetes provider as
// soon as the API server answers, and each worker's `registered` step for what runs there.
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { KvmVps } from "../vps";
import { machineTriggers } from "../../roll/machine";
import { bashCommand } from "../shared/script";
import {
    KubernetesConfig,
    parseCaCertHash,
    renderAdmitConfig,
    renderCniScript,
    renderFirewallScript,
    renderInitConfig,
    renderInitScript,
    renderJoinConfig,
    renderJoinScript,
    renderKubeconfigScript,
    renderLifecycleScript,
    renderPrepareScript,
    renderResetScript,
    secretsStdin,
    joinStdin,
    ClusterShape,
    LifecycleAction,
    NodeIdentity,
} from "./render";
import { kubernetesAdvisories } from "./advisories";
import { splitEndpoint } from "./validate";
import { ClusterDay2 } from "./day2";

export interface KubeadmClusterArgs {
    /** The nodes as the vps component made them; the first control plane runs kubeadm init. */
    readonly nodes: ReadonlyArray<KvmVps>;
    /** `oslo-mesh:kubernetes`. */
    readonly kubernetes: KubernetesConfig;
    /** The cluster's name in kubeadm and in the kubeconfig. */
    readonly clusterName: string;
    /** CIDRs the nodes talk to each other from (node subnets), for the host firewall. */
    readonly nodeCidrs: ReadonlyArray<string>;
    /** TCP ports (or ranges a:b) open to the world on every node: the ingress gateway's. */
    readonly publicPorts: ReadonlyArray<string>;
}

export class KubeadmCluster extends pulumi.ComponentResource {
    /** The admin kubeconfig. Secret. */
    readonly kubeconfig: pulumi.Output<string>;
    /** A Kubernetes provider for this cluster, for the Istio and mesh components. */
    readonly provider: k8s.Provider;
    /** host:port of the API server. */
    readonly endpoint: pulumi.Output<string>;
    /**
     * Each worker's `registered` step: joined, Ready (Calico runs on it), and drained first on
     * removal. What runs on the workers (Istio's pods: control planes are tainted) waits for
     * these, so that it has a node to run on and `pulumi destroy` removes it before any drain.
     */
    readonly workersReady: ReadonlyArray<pulumi.Resource>;
    /** Upgrades, etcd snapshots and certificate renewal (components/kubernetes/day2/). */
    readonly day2: ClusterDay2;

    constructor(name: string, args: KubeadmClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oslo-mesh:kubernetes:KubeadmCluster", name, {}, opts);
        const k = args.kubernetes;
        const controlPlanes = args.nodes.filter((n) => n.role === "control-plane");
        const workers = args.nodes.filter((n) => n.role !== "control-plane");
        const first = controlPlanes[0];
        if (!first) throw new Error("a cluster needs a control-plane node");
        const ha = controlPlanes.length > 1;
        for (const warning of kubernetesAdvisories(k)) pulumi.log.warn(warning, this);
        const parent = { parent: this };

        // A kubeadm bootstrap token is [a-z0-9]{6}.[a-z0-9]{16}; the certificate key 32 bytes in hex.
        const tokenId = new random.RandomPassword(`${name}-token-id`, { length: 6, upper: false, special: false }, parent);
        const tokenSecret = new random.RandomPassword(`${name}-token-secret`, { length: 16, upper: false, special: false }, parent);
        const certificateKey = new random.RandomPassword(`${name}-certificate-key`, { length: 64, upper: false, lower: false, numeric: true, special: true, overrideSpecial: "abcdef" }, parent);
        const secrets = pulumi.secret(pulumi.all([tokenId.result, tokenSecret.result, certificateKey.result]).apply(([id, s, key]) => secretsStdin(`${id}.${s}`, key)));

        const endpoint = k.controlPlaneEndpoint ? pulumi.output(k.controlPlaneEndpoint) : first.privateIp.apply((ip) => `${ip}:6443`);
        this.endpoint = endpoint;
        const shape = endpoint.apply((e): ClusterShape => ({ k, clusterName: args.clusterName, endpoint: e, ha }));
        const { port: apiPort } = splitEndpoint(k.controlPlaneEndpoint ?? "x:6443");

        const ssh = (node: KvmVps) => node.connection.apply((c) => ({ ...c, dialErrorLimit: 60, perDialTimeout: 15 }));
        const sudo = (node: KvmVps) => node.sshUser !== "root";
        // Every script converges whatever it finds, so a change re-runs it in place (update),
        // never delete + create.
        const converge = (
            resourceName: string,
            node: KvmVps,
            script: pulumi.Input<string>,
            extra: Partial<command.remote.CommandArgs>,
            dependsOn: pulumi.Resource[],
            more: pulumi.CustomResourceOptions = {},
            keepEnv: ReadonlyArray<string> = [],
        ) => {
            const create = pulumi.output(script).apply((s) => bashCommand(s, { sudo: sudo(node), keepEnv }));
            return new command.remote.Command(resourceName, { connection: ssh(node), create, update: create, ...extra }, { parent: this, dependsOn, ...more });
        };

        // Every step that lives on a node's machine is replaced with its VM, and the old node
        // leaves the cluster first, in kubeadm's order (roll/machine.ts).
        const onMachine = (node: KvmVps, after: pulumi.Resource[] = []) => ({ triggers: machineTriggers(node, after) });
        const replacedWithMachine: pulumi.CustomResourceOptions = { deleteBeforeReplace: true };

        // 1. Every node, in parallel: prepare and firewall.
        const prepared = new Map<KvmVps, pulumi.Resource[]>();
        for (const node of args.nodes) {
            // A control plane's images are pulled here, not in init or join (on a clone of the node image they are there).
            const prepare = converge(
                `${node.nodeName}-prepare`,
                node,
                renderPrepareScript(node.nodeName, k, {}, { pullImages: node.role === "control-plane" }),
                onMachine(node),
                [node],
                replacedWithMachine,
            );
            const firewall = converge(
                `${node.nodeName}-firewall`,
                node,
                renderFirewallScript(node.nodeName, node.role, { adminCidrs: k.adminCidrs, clusterCidrs: args.nodeCidrs, podCidr: k.podCidr, apiPort, publicPorts: args.publicPorts }),
                onMachine(node),
                [node],
                replacedWithMachine,
                // It refuses rules that would lock out the SSH client running it.
                ["SSH_CLIENT"],
            );
            prepared.set(node, [prepare, firewall]);
        }

        // 2. kubeadm init on the first control plane; it prints the CA hash the others pin.
        const firstIdentity = first.privateIp.apply((ip): NodeIdentity => ({ name: first.nodeName, ip }));
        const initConfig = pulumi
            .all([shape, first.privateIp, first.publicIp])
            .apply(([s, privateIp, publicIp]) => renderInitConfig(s, { name: first.nodeName, ip: privateIp }, [publicIp, privateIp]));
        const init = converge(`${name}-init`, first, pulumi.all([firstIdentity, initConfig]).apply(([id, c]) => renderInitScript(id, k, c, ha)), { stdin: secrets }, prepared.get(first)!);
        const joinSecrets = pulumi.secret(pulumi.all([secrets, init.stdout]).apply(([s, out]) => joinStdin(s, parseCaCertHash(out))));
        const cni = converge(`${name}-cni`, first, renderCniScript(k), {}, [init]);

        // 3. The other nodes, in kubeadm's order. Joining: admitted on the first control plane,
        // joined, then watched until Ready. Removal runs the deletes in reverse dependency order:
        // `registered` drains the node, `join` runs kubeadm reset on it (which removes a control
        // plane's etcd member while its Node still exists), and `admit` deletes the Node and
        // checks etcd's member list.
        const admitConfig = shape.apply(renderAdmitConfig);
        const inCluster = new Map<KvmVps, pulumi.Resource>([[first, init]]);
        const onFirst = (script: pulumi.Input<string>) => pulumi.output(script).apply((sc) => bashCommand(sc, { sudo: sudo(first) }));
        const join = (node: KvmVps, controlPlane: boolean, after: pulumi.Resource[]) => {
            const identity = node.privateIp.apply((ip): NodeIdentity => ({ name: node.nodeName, ip }));
            const lifecycle = (action: LifecycleAction, config: pulumi.Input<string> = "") =>
                pulumi.all([identity, firstIdentity, config]).apply(([id, f, c]) => renderLifecycleScript(action, id, f, { admitConfig: c, controlPlane }));
            const admit = converge(`${node.nodeName}-admit`, first, lifecycle("admit", admitConfig), { stdin: secrets, delete: onFirst(lifecycle("forget")), ...onMachine(node) }, [init, ...after], replacedWithMachine);
            const joinConfig = pulumi.all([shape, identity]).apply(([s, id]) => renderJoinConfig(s, id, controlPlane));
            const joined = converge(
                `${node.nodeName}-join`,
                node,
                pulumi.all([identity, joinConfig, firstIdentity]).apply(([id, c, f]) => renderJoinScript(id, c, controlPlane, f)),
                { stdin: joinSecrets, delete: bashCommand(renderResetScript(node.nodeName), { sudo: sudo(node) }), ...onMachine(node, [...prepared.get(node)!, admit]) },
                [...prepared.get(node)!, admit, init],
                replacedWithMachine,
            );
            // Ready needs the pod network.
            const registered = converge(`${node.nodeName}-registered`, first, lifecycle("wait"), { delete: onFirst(lifecycle("drain")), ...onMachine(node, [joined]) }, [joined, cni], replacedWithMachine);
            inCluster.set(node, registered);
            return { joined, registered };
        };
        // Control planes one at a time: concurrent control-plane joins fail on 1.15.0. The next one
        // joins once the previous join is done (its etcd member started and healthy), not once its
        // kubelet is Ready, which the next join does not need.
        let previous: pulumi.Resource[] = [];
        for (const cp of controlPlanes.slice(1)) previous = [join(cp, true, previous).joined];
        this.workersReady = workers.map((w) => join(w, false, []).registered);
        this.day2 = new ClusterDay2(`${name}-day2`, { kubernetes: k, controlPlanes, workers, inCluster }, { parent: this });

        // 4. The kubeconfig and the provider as soon as the API server answers (init checks it), so
        // that CRDs and namespaces go in while the nodes join. What needs a Ready worker (the Istio
        // chart) waits for `workersReady` itself; waiting here would hold back everything else.
        // Its output never reaches a log.
        const kubeconfigCmd = converge(`${name}-kubeconfig`, first, renderKubeconfigScript(), { logging: "none" }, [init], { additionalSecretOutputs: ["stdout"] });
        this.kubeconfig = pulumi.secret(kubeconfigCmd.stdout);
        this.day2.watchKubeconfig(kubeconfigCmd, k.certificates.renewBeforeDays);
        this.provider = new k8s.Provider(`${name}-provider`, { kubeconfig: this.kubeconfig, enableServerSideApply: false }, { parent: this });
        this.registerOutputs({ endpoint: this.endpoint, kubeconfig: this.kubeconfig });
    }
}
