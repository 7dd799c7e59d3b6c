// Pure renders for etcd snapshots on the control planes and the restore runbook.
import * as path from "path";
import { renderScript } from "../../../shared/script";
import { ScriptEnv } from "../../render";
import { serviceUnit, timerUnit } from "../systemd";
import { etcdVersionFor } from "../versions";

const script = (name: string) => path.join(__dirname, name);

/** Where kubeadm keeps etcd and its certificates (kubeadm constants: EtcdDataDir, the etcd PKI). */
export const ETCD_DATA_DIR = "/var/lib/etcd";
export const ETCD_PKI_DIR = "/etc/kubernetes/pki/etcd";
/** kubeadm's etcd listens for clients on the loopback address too (phases/etcd/local.go). */
export const ETCD_LOCAL_ENDPOINT = "https://127.0.0.1:2379";
/** etcd's default --initial-cluster-token; kubeadm sets none. */
export const ETCD_CLUSTER_TOKEN = "etcd-cluster";
export const ETCDCTL = "/usr/local/bin/etcdctl";
/** Where the etcd image keeps etcdctl (kubernetes cluster/images/etcd Dockerfile: COPY etcd* etcdctl* /usr/local/bin/). */
export const ETCDCTL_IN_IMAGE = "/usr/local/bin/etcdctl";
export const SNAPSHOT_DIR = "/var/lib/oslo-mesh/etcd-snapshots";
export const BACKUP_KEY = "/etc/oslo-mesh/etcd-backup/id_ed25519";
export const BACKUP_KNOWN_HOSTS = "/etc/oslo-mesh/etcd-backup/known_hosts";

export interface EtcdSnapshotConfig {
    /** systemd OnCalendar expression. */
    readonly schedule: string;
    /** Snapshots kept on each control plane, newest first. */
    readonly keep: number;
    /** Copies each snapshot to this host over SSH, when set. */
    readonly copyTo?: { readonly host: string; readonly port: number; readonly user: string; readonly path: string; readonly hostKey: string };
}

/** A control-plane member of etcd: its node name (kubeadm names the member after it) and address. */
export interface EtcdMember {
    readonly name: string;
    readonly ip: string;
}

/** Paths the tests move into a sandbox; the defaults are a kubeadm node's. */
export interface EtcdPaths extends ScriptEnv {
    readonly endpoint?: string;
    readonly etcdctlInImage?: string;
    readonly waitSeconds?: number;
    /** How long a snapshot may take (10 minutes on nodes). */
    readonly snapshotTimeoutSeconds?: number;
    /** etcd's peer port (2380 on nodes). */
    readonly peerPort?: number;
    /** The etcd version etcdctl must report (defaults to kubeadm's for the Kubernetes version). */
    readonly etcdVersion?: string;
}

function copyParams(c: EtcdSnapshotConfig) {
    return {
        COPY_HOST: c.copyTo?.host ?? "",
        COPY_PORT: c.copyTo?.port ?? 22,
        COPY_USER: c.copyTo?.user ?? "",
        COPY_PATH: c.copyTo?.path ?? "",
        COPY_KEY: BACKUP_KEY,
        COPY_KNOWN_HOSTS: BACKUP_KNOWN_HOSTS,
    };
}

export function renderSnapshotScript(nodeName: string, c: EtcdSnapshotConfig, env: EtcdPaths = {}): string {
    return renderScript(script("etcd-snapshot.sh"), {
        ROOT: env.root ?? "",
        NODE_NAME: nodeName,
        SNAPSHOT_DIR,
        ETCDCTL,
        ETCD_ENDPOINT: env.endpoint ?? ETCD_LOCAL_ENDPOINT,
        PKI_DIR: ETCD_PKI_DIR,
        KEEP: c.keep,
        TIMEOUT_SECONDS: env.snapshotTimeoutSeconds ?? 600,
        ...copyParams(c),
    });
}

/** etcd's --initial-cluster for every control plane, as kubeadm names and addresses the members. */
export function initialCluster(members: ReadonlyArray<EtcdMember>, peerPort = 2380): string {
    return members.map((m) => `${m.name}=https://${m.ip}:${peerPort}`).join(",");
}

/** The restore runbook for one control plane, knowing every member of the cluster. */
export function renderRestoreScript(self: EtcdMember, members: ReadonlyArray<EtcdMember>, env: EtcdPaths = {}): string {
    return renderScript(script("etcd-restore.sh"), {
        ROOT: env.root ?? "",
        NODE_NAME: self.name,
        DATA_DIR: ETCD_DATA_DIR,
        ETCDCTL,
        ETCD_ENDPOINT: env.endpoint ?? ETCD_LOCAL_ENDPOINT,
        PKI_DIR: ETCD_PKI_DIR,
        INITIAL_CLUSTER: initialCluster(members, env.peerPort),
        PEER_URL: `https://${self.ip}:${env.peerPort ?? 2380}`,
        CLUSTER_TOKEN: ETCD_CLUSTER_TOKEN,
        WAIT_SECONDS: env.waitSeconds ?? 180,
    });
}

/** Installs (or, with `remove`, takes away) the snapshot timer, etcdctl and the restore runbook on a control plane. */
export function renderSnapshotInstaller(
    action: "install" | "remove",
    self: EtcdMember,
    members: ReadonlyArray<EtcdMember>,
    k8sVersion: string,
    c: EtcdSnapshotConfig,
    env: EtcdPaths = {},
): string {
    const description = "oslo-mesh: etcd snapshot";
    return renderScript(script("install-etcd-snapshots.sh"), {
        ROOT: env.root ?? "",
        ACTION: action,
        NODE_NAME: self.name,
        K8S_VERSION: k8sVersion,
        ETCD_VERSION: env.etcdVersion ?? etcdVersionFor(k8sVersion),
        ETCDCTL,
        ETCDCTL_IN_IMAGE: env.etcdctlInImage ?? ETCDCTL_IN_IMAGE,
        DATA_DIR: ETCD_DATA_DIR,
        SNAPSHOT_DIR,
        SCHEDULE: c.schedule,
        KEEP: c.keep,
        COPY_HOST: c.copyTo?.host ?? "",
        COPY_KEY: BACKUP_KEY,
        COPY_KNOWN_HOSTS: BACKUP_KNOWN_HOSTS,
        COPY_KNOWN_HOSTS_LINE: c.copyTo ? knownHostsLine(c.copyTo) : "",
        SNAPSHOT_SCRIPT: action === "install" ? renderSnapshotScript(self.name, c, env) : "",
        RESTORE_SCRIPT: action === "install" ? renderRestoreScript(self, members, env) : "",
        SERVICE_UNIT: serviceUnit("etcd-snapshot", description),
        TIMER_UNIT: timerUnit(description, c.schedule),
    });
}

/** The known_hosts line that pins the backup host's key (`[host]:port` for a port other than 22). */
export function knownHostsLine(to: { host: string; port: number; hostKey: string }): string {
    return `${to.port === 22 ? to.host : `[${to.host}]:${to.port}`} ${to.hostKey.trim()}`;
}

/** The node's backup key that the installer prints (`backupKey=ssh-ed25519 ...`), for the stack output. */
export function parseBackupKey(stdout: string): string | undefined {
    return /^backupKey=(ssh-ed25519 \S+ \S+)$/m.exec(stdout)?.[1];
}
