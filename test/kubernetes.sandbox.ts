// The sandbox the kubeadm scripts run in: a root directory per node, the fake system commands of
// test/fixtures/fakebin on PATH (kubeadm and kubectl keep one fake cluster under $SANDBOX/cluster,
// whose etcd is the real etcd 3.4), and a file:// mirror for the downloads.
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { KubernetesConfig } from "../components/kubernetes/render";
import { parsedConfig, stackFileConfig } from "./harness";

export const FAKEBIN = path.join(__dirname, "fixtures", "fakebin");
export const TOKEN = "abcdef.0123456789abcdef";
export const CERT_KEY = "a".repeat(64);

export interface RunResult {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

export interface Sandbox {
    readonly dir: string;
    /** The root of the single node of the node-preparation tests. */
    readonly root: string;
    readonly mirror: string;
    /** The root directory of a named node. */
    rootOf(node: string): string;
    calls(): string[];
    clearCalls(): void;
    /** Runs a script as on the single node (`root`). */
    run(script: string, stdin?: string, env?: Record<string, string>): RunResult;
    /** Runs a script as on the named node. */
    runOn(node: string, script: string, stdin?: string, env?: Record<string, string>): RunResult;
    /** The fake cluster's objects (Nodes, ConfigMaps, tokens, pods, budgets, etcd members). */
    cluster(): any;
    editCluster(edit: (state: any) => void): void;
    /** `etcdctl` (the real one) against the members of the fake cluster, as a control plane's health-check client. */
    etcdctl(via: string, ...args: string[]): RunResult;
    cleanup(): void;
}

export function sandbox(): Sandbox {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-node-"));
    const rootOf = (node: string) => {
        const r = path.join(dir, "nodes", node);
        for (const d of ["etc", "sys/fs/cgroup", "var/log"]) fs.mkdirSync(path.join(r, d), { recursive: true });
        return r;
    };
    const root = path.join(dir, "root");
    for (const d of ["etc", "sys/fs/cgroup", "var/log"]) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.writeFileSync(path.join(root, "etc/fstab"), "UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n");
    const log = path.join(dir, "calls.log");
    fs.writeFileSync(log, "");
    const stateFile = path.join(dir, "cluster", "state.json");
    const exec = (nodeRoot: string, script: string, stdin: string, env: Record<string, string>): RunResult => {
        const file = path.join(dir, `script-${crypto.randomUUID()}.sh`);
        fs.writeFileSync(file, script);
        const r = spawnSync("bash", [file], {
            input: stdin,
            encoding: "utf8",
            env: { PATH: `${FAKEBIN}:${process.env.PATH}`, SANDBOX: dir, FAKE_ROOT: nodeRoot, HOME: dir, ...env },
        });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const sb: Sandbox = {
        dir,
        root,
        mirror: path.join(dir, "mirror"),
        rootOf,
        calls: () => fs.readFileSync(log, "utf8").split("\n").filter(Boolean),
        clearCalls: () => fs.writeFileSync(log, ""),
        run: (script, stdin = "", env = {}) => exec(root, script, stdin, env),
        runOn: (node, script, stdin = "", env = {}) => exec(rootOf(node), script, stdin, env),
        cluster: () => JSON.parse(fs.readFileSync(stateFile, "utf8")),
        editCluster(edit) {
            const state = sb.cluster();
            edit(state);
            fs.writeFileSync(stateFile, JSON.stringify(state, null, 2));
        },
        etcdctl(via, ...args) {
            const pki = path.join(rootOf(via), "etc/kubernetes/pki/etcd");
            const ip = sb.cluster().etcd[via].ip;
            const r = spawnSync(
                "etcdctl",
                [`--endpoints=https://${ip}:2379`, `--cacert=${pki}/ca.crt`, `--cert=${pki}/healthcheck-client.crt`, `--key=${pki}/healthcheck-client.key`, "--dial-timeout=2s", "--command-timeout=5s", ...args],
                { encoding: "utf8", env: { ...process.env, ETCDCTL_API: "3" } },
            );
            return { status: r.status, stdout: r.stdout, stderr: r.stderr };
        },
        cleanup() {
            const clusterDir = path.join(dir, "cluster");
            if (fs.existsSync(clusterDir)) {
                for (const f of fs.readdirSync(clusterDir).filter((x) => /^etcd-.*\.pid$/.test(x))) {
                    try {
                        process.kill(Number(fs.readFileSync(path.join(clusterDir, f), "utf8")), "SIGKILL");
                    } catch {
                        /* gone already */
                    }
                }
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
    return sb;
}

/** Node addresses for a test's cluster: a random 127.x.y.0/24, so that each member of the real
 *  etcd listens on kubeadm's own ports (2379, 2380) without meeting another test's. */
export function loopbackNet(): (host: number) => string {
    const [a, b] = crypto.randomBytes(2);
    return (host) => `127.${(a % 250) + 1}.${b}.${host}`;
}

/** Whether the real etcd and etcdctl are here (Debian's etcd-server and etcd-client). */
export function etcdMissing(): string | undefined {
    for (const bin of ["etcd", "etcdctl", "openssl"]) {
        if (spawnSync("sh", ["-c", `command -v ${bin}`]).status !== 0) return `${bin} is not installed (apt-get install etcd-server etcd-client openssl)`;
    }
    return undefined;
}

/** A file:// mirror laid out like dl.k8s.io and GitHub releases, with published checksums. */
export function buildMirror(sb: Sandbox, k: KubernetesConfig): void {
    const put = (rel: string, content: Buffer | string, sum: "sha512" | "sha256" | null) => {
        const file = path.join(sb.mirror, rel);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content);
        if (sum) fs.writeFileSync(`${file}.${sum}`, `${crypto.createHash(sum).update(content).digest("hex")}  ${path.basename(file)}\n`);
    };
    for (const bin of ["kubeadm", "kubelet", "kubectl"]) put(`release/v${k.version}/bin/linux/amd64/${bin}`, `#!/bin/sh\necho ${bin} v${k.version}\n`, "sha512");
    const tgz = (files: string[]) => {
        const src = fs.mkdtempSync(path.join(sb.dir, "tar-"));
        for (const f of files) fs.writeFileSync(path.join(src, f), `#!/bin/sh\necho ${f}\n`, { mode: 0o755 });
        return spawnSync("tar", ["-czf", "-", "-C", src, ...files]).stdout;
    };
    put(`kubernetes-sigs/cri-tools/releases/download/v${k.crictlVersion}/crictl-v${k.crictlVersion}-linux-amd64.tar.gz`, tgz(["crictl"]), "sha512");
    // cri-tools before v1.23.0 published no checksum file (its sha256 is in the release notes).
    put("kubernetes-sigs/cri-tools/releases/download/v1.15.0/crictl-v1.15.0-linux-amd64.tar.gz", tgz(["crictl"]), null);
    put(`containernetworking/plugins/releases/download/v${k.cniPluginsVersion}/cni-plugins-amd64-v${k.cniPluginsVersion}.tgz`, tgz(["bridge", "loopback", "portmap"]), "sha512");
}

/** The prod stack's Kubernetes settings, downloading from the sandbox's mirror. */
export function kubeConfig(sb: Sandbox): KubernetesConfig {
    const k = parsedConfig("prod", stackFileConfig("prod")).kubernetes;
    return { ...k, downloadBaseUrl: `file://${sb.mirror}`, githubBaseUrl: `file://${sb.mirror}` };
}
