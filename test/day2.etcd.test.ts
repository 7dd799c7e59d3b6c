// etcd snapshots and restore, against the REAL etcd (Debian's etcd-server 3.4) on loopback,
// with TLS certificates made by openssl in kubeadm's layout, so the rendered scripts run with
// the flags they use on a node. A stand-in kubelet (test/fixtures/day2/static-pod-kubelet.sh)
// runs etcd while its static-pod manifest exists, as the kubelet does.
import * as assert from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { EtcdPaths, renderRestoreScript, renderSnapshotInstaller, SNAPSHOT_DIR } from "../components/kubernetes/day2/etcd/render";
import { Day2Sandbox, day2Sandbox, DAY2_FIXTURES, freePort, haveTools, makeCa, makeCert, until } from "./day2.sandbox";

const NODE = "prod-cp-1";
const KEEP = 3;

describe("day2: etcd snapshots and restore against a real etcd", function () {
    this.timeout(180_000);
    let sb: Day2Sandbox;
    let kubelet: ChildProcess | undefined;
    let env: EtcdPaths;
    let clientPort: number;
    const pki = () => sb.file("etc/kubernetes/pki/etcd");
    const etcdctl = (...args: string[]) =>
        spawnSync("etcdctl", [`--endpoints=https://127.0.0.1:${clientPort}`, `--cacert=${pki()}/ca.crt`, `--cert=${pki()}/healthcheck-client.crt`, `--key=${pki()}/healthcheck-client.key`, ...args], {
            encoding: "utf8",
            env: { ...process.env, ETCDCTL_API: "3" },
        });
    const healthy = () => etcdctl("endpoint", "health").status === 0;
    const get = (key: string) => etcdctl("get", key, "--print-value-only").stdout.trim();
    const snapshots = () => fs.readdirSync(sb.file(SNAPSHOT_DIR)).filter((f) => f.endsWith(".db")).sort();
    const snapshotScript = () => fs.readFileSync(sb.file("usr/local/lib/oslo-mesh/etcd-snapshot.sh"), "utf8");
    const manifest = "etc/kubernetes/manifests/etcd.yaml";

    before(async function () {
        if (!haveTools(this, ["etcd", "etcdctl", "openssl", "pgrep"])) return;
        sb = day2Sandbox("etcd");
        clientPort = await freePort();
        const peerPort = await freePort();
        // kubeadm's etcd PKI (phases/certs: etcd-ca, etcd-server, etcd-peer, etcd-healthcheck-client).
        makeCa(pki(), "ca", "etcd-ca");
        const ca = path.join(pki(), "ca");
        makeCert({ ca, out: path.join(pki(), "server"), cn: NODE, days: 365, usage: "both", ips: ["127.0.0.1"], dns: ["localhost", NODE] });
        makeCert({ ca, out: path.join(pki(), "peer"), cn: NODE, days: 365, usage: "both", ips: ["127.0.0.1"], dns: ["localhost", NODE] });
        makeCert({ ca, out: path.join(pki(), "healthcheck-client"), cn: "kube-etcd-healthcheck-client", org: "system:masters", days: 365, usage: "client" });
        sb.write(manifest, "# etcd static pod (the stand-in kubelet runs etcd while this file exists)\n");
        const peer = `https://127.0.0.1:${peerPort}`;
        const client = `https://127.0.0.1:${clientPort}`;
        // The flags kubeadm's etcd manifest passes (cmd/kubeadm/app/phases/etcd/local.go, getEtcdCommand).
        const args = [
            `--name=${NODE}`,
            `--data-dir=${sb.file("var/lib/etcd")}`,
            `--listen-client-urls=${client}`,
            `--advertise-client-urls=${client}`,
            `--listen-peer-urls=${peer}`,
            `--initial-advertise-peer-urls=${peer}`,
            `--initial-cluster=${NODE}=${peer}`,
            `--cert-file=${pki()}/server.crt`,
            `--key-file=${pki()}/server.key`,
            `--trusted-ca-file=${pki()}/ca.crt`,
            "--client-cert-auth=true",
            `--peer-cert-file=${pki()}/peer.crt`,
            `--peer-key-file=${pki()}/peer.key`,
            `--peer-trusted-ca-file=${pki()}/ca.crt`,
            "--peer-client-cert-auth=true",
            "--snapshot-count=10000",
        ];
        kubelet = spawn("bash", [path.join(DAY2_FIXTURES, "static-pod-kubelet.sh")], {
            env: { ...process.env, ROOT: sb.root, ETCD_ARGS: args.join("\n"), ETCD_LOG: path.join(sb.dir, "etcd.log"), STOP_FILE: path.join(sb.dir, "stop-kubelet") },
            stdio: "ignore",
        });
        await until("etcd to answer", healthy, 60);
        const version = /etcdctl version: (\S+)/.exec(spawnSync("etcdctl", ["version"], { encoding: "utf8", env: { ...process.env, ETCDCTL_API: "3" } }).stdout)![1];
        // On a node etcdctl comes from the etcd image (/usr/local/bin/etcdctl) at kubeadm's etcd
        // version; here from the running Debian etcd's root, at its own version.
        env = { root: sb.root, endpoint: client, peerPort, etcdctlInImage: spawnSync("sh", ["-c", "command -v etcdctl"], { encoding: "utf8" }).stdout.trim(), etcdVersion: version, waitSeconds: 60, snapshotTimeoutSeconds: 15 };
    });

    after(async () => {
        if (!sb) return;
        fs.writeFileSync(path.join(sb.dir, "stop-kubelet"), "");
        if (kubelet && kubelet.exitCode === null) await new Promise((r) => kubelet!.once("exit", r));
        sb.remove();
    });

    const config = { schedule: "*-*-* 00/6:00:00", keep: KEEP };
    const members = [{ name: NODE, ip: "127.0.0.1" }];

    it("refuses an etcdctl that is not the cluster's etcd version, and installs nothing", () => {
        const r = sb.run(renderSnapshotInstaller("install", members[0], members, "1.15.12", config, { ...env, etcdVersion: "3.3.10" }));
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /reports version '3\.4\.\d+', expected 3\.3\.10 \(kubeadm's etcd for Kubernetes 1\.15\.12\); nothing was installed/);
        assert.ok(!fs.existsSync(sb.file("usr/local/bin/etcdctl")));
        assert.ok(!fs.existsSync(sb.file("usr/local/lib/oslo-mesh")));
    });

    it("installs etcdctl from the running etcd's root, the snapshot job, its timer and the restore runbook; a second run changes nothing", () => {
        const r = sb.run(renderSnapshotInstaller("install", members[0], members, "1.15.12", config, env));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.deepStrictEqual(fs.readFileSync(sb.file("usr/local/bin/etcdctl")), fs.readFileSync(env.etcdctlInImage!), "the etcd container's own etcdctl");
        assert.match(fs.readFileSync(sb.file("etc/systemd/system/oslo-mesh-etcd-snapshot.timer"), "utf8"), /^OnCalendar=\*-\*-\* 00\/6:00:00$/m);
        assert.match(fs.readFileSync(sb.file("etc/systemd/system/oslo-mesh-etcd-snapshot.service"), "utf8"), /^ExecStart=\/usr\/local\/lib\/oslo-mesh\/etcd-snapshot\.sh$/m);
        assert.strictEqual(fs.statSync(sb.file("usr/local/lib/oslo-mesh/etcd-snapshot.sh")).mode & 0o777, 0o700);
        assert.ok(fs.existsSync(sb.file("usr/local/sbin/oslo-mesh-etcd-restore")));
        assert.deepStrictEqual(sb.calls(), ["systemctl daemon-reload", "systemctl enable --now oslo-mesh-etcd-snapshot.timer"]);
        sb.clearCalls();
        const again = sb.run(renderSnapshotInstaller("install", members[0], members, "1.15.12", config, env));
        assert.strictEqual(again.status, 0, again.stderr);
        assert.deepStrictEqual(sb.calls(), ["systemctl enable --now oslo-mesh-etcd-snapshot.timer"], "no daemon-reload when nothing changed");
    });

    it("snapshot, lose the data directory, restore: the keys of the snapshot are back", async () => {
        for (let i = 0; i < 20; i++) assert.strictEqual(etcdctl("put", `/registry/test/key-${i}`, `value-${i}`).status, 0);
        const r = sb.run(snapshotScript());
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(snapshots().length, 1);
        const snapshot = path.join(sb.file(SNAPSHOT_DIR), snapshots()[0]);
        assert.strictEqual(fs.statSync(snapshot).mode & 0o777, 0o600, "a snapshot holds every Secret: root only");
        assert.strictEqual(etcdctl("put", "/registry/test/after-snapshot", "x").status, 0);

        // The disk goes: the kubelet's etcd restarts on an empty data directory, a new empty cluster.
        fs.renameSync(sb.file(manifest), sb.file("etc/kubernetes/etcd.yaml.away"));
        await until("etcd to stop", () => !healthy());
        fs.rmSync(sb.file("var/lib/etcd"), { recursive: true, force: true });
        fs.renameSync(sb.file("etc/kubernetes/etcd.yaml.away"), sb.file(manifest));
        await until("the empty etcd to answer", healthy, 60);
        assert.strictEqual(get("/registry/test/key-7"), "", "the keys are gone");

        const restore = await sb.runAsync(renderRestoreScript(members[0], members, env), ["all", snapshot]);
        assert.strictEqual(restore.status, 0, restore.stderr + restore.stdout);
        assert.match(restore.stdout, /etcd is healthy/);
        for (let i = 0; i < 20; i++) assert.strictEqual(get(`/registry/test/key-${i}`), `value-${i}`);
        assert.strictEqual(get("/registry/test/after-snapshot"), "", "exactly the snapshot's state");
        assert.ok(fs.readdirSync(sb.file("var/lib")).some((d) => d.startsWith("etcd.before-restore-")), "the replaced data directory is kept");
        assert.ok(fs.existsSync(sb.file(manifest)), "etcd's manifest is back");
    });

    it("a restore refuses to run while etcd runs", () => {
        const snapshot = path.join(sb.file(SNAPSHOT_DIR), snapshots()[0]);
        const r = sb.run(renderRestoreScript(members[0], members, env), ["restore", snapshot]);
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /etcd on prod-cp-1 is running: run '.* stop' first \(on every control plane\)/);
    });

    it(`keeps exactly the newest ${KEEP} snapshots`, () => {
        const taken: string[] = [];
        for (let i = 0; i < KEEP + 2; i++) {
            const before = new Set(snapshots());
            const r = sb.run(snapshotScript());
            assert.strictEqual(r.status, 0, r.stderr);
            taken.push(...snapshots().filter((s) => !before.has(s)));
        }
        assert.deepStrictEqual(snapshots(), taken.slice(-KEEP));
    });

    it("a failing snapshot exits non-zero and keeps the earlier ones untouched", async () => {
        const before = new Map(snapshots().map((s) => [s, fs.readFileSync(path.join(sb.file(SNAPSHOT_DIR), s))]));
        fs.renameSync(sb.file(manifest), sb.file("etc/kubernetes/etcd.yaml.away"));
        await until("etcd to stop", () => !healthy());
        try {
            const r = sb.run(snapshotScript());
            assert.notStrictEqual(r.status, 0, r.stdout);
            assert.match(r.stderr + `\n[status ${r.status}]\n${r.stdout}`, /etcd snapshot failed on prod-cp-1; earlier snapshots kept/);
            assert.deepStrictEqual(snapshots(), [...before.keys()]);
            for (const [s, bytes] of before) assert.ok(fs.readFileSync(path.join(sb.file(SNAPSHOT_DIR), s)).equals(bytes));
            assert.deepStrictEqual(fs.readdirSync(sb.file(SNAPSHOT_DIR)).filter((f) => !f.endsWith(".db") && f !== ".last-save.log"), [], "no partial file left");
        } finally {
            fs.renameSync(sb.file("etc/kubernetes/etcd.yaml.away"), sb.file(manifest));
            await until("etcd to answer again", healthy, 60);
        }
    });

    it("copies each snapshot to the backup host, pinned by its host key, with the node's own key; a failed copy fails the run", () => {
        const remote = path.join(sb.dir, "backup-host", "srv", "etcd");
        const copyTo = { host: "backup.example.no", port: 2222, user: "backup", path: remote, hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBackupHostKey" };
        const install = sb.run(renderSnapshotInstaller("install", members[0], members, "1.15.12", { ...config, copyTo }, env));
        assert.strictEqual(install.status, 0, install.stderr);
        assert.match(install.stdout, /^backupKey=ssh-ed25519 \S+ oslo-mesh-etcd-backup@prod-cp-1$/m, "the node's public key, for etcdBackupKeys");
        assert.strictEqual(fs.readFileSync(sb.file("etc/oslo-mesh/etcd-backup/known_hosts"), "utf8"), "[backup.example.no]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBackupHostKey\n");
        const r = sb.run(snapshotScript());
        assert.strictEqual(r.status, 0, r.stderr);
        const newest = snapshots()[snapshots().length - 1];
        assert.ok(fs.readFileSync(path.join(remote, newest)).equals(fs.readFileSync(path.join(sb.file(SNAPSHOT_DIR), newest))), "the same bytes on the backup host");
        assert.ok(sb.calls().some((c) => c.startsWith(`ssh -i ${sb.root}/etc/oslo-mesh/etcd-backup/id_ed25519 -p 2222 -o BatchMode=yes -o StrictHostKeyChecking=yes`)));
        const down = sb.run(snapshotScript(), [], { FAKE_SSH_DOWN: "1" });
        assert.notStrictEqual(down.status, 0);
        assert.match(down.stderr, /was saved on prod-cp-1 but not copied to backup@backup\.example\.no:/);
        assert.deepStrictEqual(fs.readdirSync(remote).filter((f) => f.endsWith(".part")), [], "no partial file on the backup host");
        // Back to no copy for the tests after this one.
        assert.strictEqual(sb.run(renderSnapshotInstaller("install", members[0], members, "1.15.12", config, env)).status, 0);
    });

    it("remove takes the timer away and keeps the snapshots", () => {
        sb.clearCalls();
        const kept = snapshots();
        const r = sb.run(renderSnapshotInstaller("remove", members[0], members, "1.15.12", config, env));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.ok(!fs.existsSync(sb.file("etc/systemd/system/oslo-mesh-etcd-snapshot.timer")));
        assert.ok(sb.calls().includes("systemctl disable --now oslo-mesh-etcd-snapshot.timer"));
        assert.deepStrictEqual(snapshots(), kept);
    });
});
