// Day-2 operations wired onto the cluster: in-place upgrades in kubeadm's order behind a
// version gate, etcd snapshots and certificate renewal on every control plane. Everything
// it runs is rendered by the pure functions beside it.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { bashCommand } from "../../shared/script";
import { KvmVps } from "../../vps";
import { KubernetesConfig } from "../render";
import { kubeconfigExpiryWarning, renderRenewalInstaller } from "./certificates/render";
import { parseBackupKey, renderSnapshotInstaller } from "./etcd/render";
import { renderUpgradeScript, renderWorkerMaintenanceScript, upgradeOrder, UpgradeRole } from "./upgrade/render";
import { VersionGate } from "./versionGate";
import { istioSupportWarning } from "./versions";

export interface ClusterDay2Args {
    /** `oslo-mesh:kubernetes`. */
    readonly kubernetes: KubernetesConfig;
    /** The control planes, the first being the one kubeadm init ran on. */
    readonly controlPlanes: ReadonlyArray<KvmVps>;
    readonly workers: ReadonlyArray<KvmVps>;
    /** Per node, the step after which it is part of the cluster (init for the first, registration for the others). */
    readonly inCluster: ReadonlyMap<KvmVps, pulumi.Resource>;
}

export class ClusterDay2 extends pulumi.ComponentResource {
    /** The version gate: its state is the Kubernetes version the cluster was last converged to. */
    readonly versionGate: VersionGate;
    /** Per control plane, the public key it copies etcd snapshots with (when kubernetes.etcdSnapshots.copyTo is set). */
    readonly etcdBackupKeys: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: ClusterDay2Args, opts?: pulumi.ComponentResourceOptions) {
        super("oslo-mesh:kubernetes:Day2", name, {}, opts);
        const k = args.kubernetes;
        const first = args.controlPlanes[0];
        const warning = istioSupportWarning(k.version);
        if (warning) pulumi.log.warn(warning, this);

        const run = (resourceName: string, on: KvmVps, script: string, dependsOn: pulumi.Resource[], extra: Partial<command.remote.CommandArgs> = {}) => {
            const create = bashCommand(script, { sudo: on.sshUser !== "root" });
            const connection = on.connection.apply((c) => ({ ...c, dialErrorLimit: 60, perDialTimeout: 15 }));
            return new command.remote.Command(resourceName, { connection, create, update: create, ...extra }, { parent: this, dependsOn });
        };

        // Upgrades: the same script creates and updates, converging "this node at k.version";
        // on a new cluster every step finds its node there already.
        this.versionGate = new VersionGate(`${name}-kubernetes-version`, { version: k.version }, { parent: this });
        const byName = new Map([...args.controlPlanes, ...args.workers].map((n) => [n.nodeName, n]));
        const steps = new Map<string, pulumi.Resource>();
        for (const step of upgradeOrder(args.controlPlanes.map((n) => n.nodeName), args.workers.map((n) => n.nodeName), k.upgrade.maxParallelWorkers)) {
            const node = byName.get(step.node)!;
            const after = [this.versionGate, args.inCluster.get(node)!, ...step.after.map((s) => steps.get(s)!)];
            const role: UpgradeRole = node === first ? "first-control-plane" : args.controlPlanes.includes(node) ? "control-plane" : "worker";
            const resource =
                step.kind === "upgrade"
                    ? run(step.resource, node, renderUpgradeScript(node.nodeName, role, k), after)
                    : run(step.resource, first, renderWorkerMaintenanceScript(step.kind, node.nodeName, k), after);
            steps.set(step.resource, resource);
        }

        // etcd snapshots and certificate renewal on every control plane, once it runs the version.
        const members = args.controlPlanes.map((n) => n.privateIp.apply((ip) => ({ name: n.nodeName, ip })));
        const keys: Array<pulumi.Output<[string, string | undefined]>> = [];
        for (const cp of args.controlPlanes) {
            const upgraded = steps.get(`${cp.nodeName}-upgrade`)!;
            const installer = (action: "install" | "remove") =>
                pulumi.all([cp.privateIp, pulumi.all(members)]).apply(([ip, all]) => renderSnapshotInstaller(action, { name: cp.nodeName, ip }, all, k.version, k.etcdSnapshots));
            const snapshots = new command.remote.Command(
                `${cp.nodeName}-etcd-snapshots`,
                {
                    connection: cp.connection.apply((c) => ({ ...c, dialErrorLimit: 60, perDialTimeout: 15 })),
                    create: installer("install").apply((s) => bashCommand(s, { sudo: cp.sshUser !== "root" })),
                    update: installer("install").apply((s) => bashCommand(s, { sudo: cp.sshUser !== "root" })),
                    delete: installer("remove").apply((s) => bashCommand(s, { sudo: cp.sshUser !== "root" })),
                },
                { parent: this, dependsOn: [upgraded] },
            );
            keys.push(snapshots.stdout.apply((out): [string, string | undefined] => [cp.nodeName, parseBackupKey(out ?? "")]));
            run(`${cp.nodeName}-certificate-renewal`, cp, renderRenewalInstaller("install", cp.nodeName, k.version, k.certificates), [upgraded], {
                delete: bashCommand(renderRenewalInstaller("remove", cp.nodeName, k.version, k.certificates), { sudo: cp.sshUser !== "root" }),
            });
        }
        this.etcdBackupKeys = pulumi.all(keys).apply((pairs) => Object.fromEntries(pairs.filter((p): p is [string, string] => p[1] !== undefined)));
        this.registerOutputs({ etcdBackupKeys: this.etcdBackupKeys });
    }

    /**
     * Warns at `pulumi up` when the kubeconfig command's output, kept in the state since it last
     * ran, holds a certificate the control planes have renewed (or are about to): the refresh path.
     */
    watchKubeconfig(kubeconfigCommand: command.remote.Command, renewBeforeDays: number): void {
        pulumi.all([kubeconfigCommand.stdout, kubeconfigCommand.urn]).apply(([out, urn]) => {
            const warning = out ? kubeconfigExpiryWarning(out, renewBeforeDays, urn) : undefined;
            if (warning) pulumi.log.warn(warning, this);
        });
    }
}
