// Certificate renewal, executed in a sandbox holding real certificates made by openssl with
// chosen expiry dates, in kubeadm's layout (/etc/kubernetes/pki, and client certificates inside
// admin.conf, controller-manager.conf and scheduler.conf). kubeadm, crictl and systemctl are
// fakes that follow the real commands (test/fixtures/day2bin, sources cited there); openssl is real.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { INIT_CONFIG, kubeconfigExpiryWarning, renderRenewalInstaller, renderRenewScript } from "../components/kubernetes/day2/certificates/render";
import { Day2Sandbox, day2Sandbox, haveTools, makeCa, makeCert, secondsLeft } from "./day2.sandbox";

const NODE = "prod-cp-1";
const CONFIG = { schedule: "daily", renewBeforeDays: 30 };
const LEAF: Array<{ file: string; ca: string; cn: string; usage: "server" | "client" }> = [
    { file: "apiserver", ca: "ca", cn: "kube-apiserver", usage: "server" },
    { file: "apiserver-kubelet-client", ca: "ca", cn: "kube-apiserver-kubelet-client", usage: "client" },
    { file: "apiserver-etcd-client", ca: "etcd/ca", cn: "kube-apiserver-etcd-client", usage: "client" },
    { file: "front-proxy-client", ca: "front-proxy-ca", cn: "front-proxy-client", usage: "client" },
    { file: "etcd/server", ca: "etcd/ca", cn: NODE, usage: "server" },
    { file: "etcd/peer", ca: "etcd/ca", cn: NODE, usage: "server" },
    { file: "etcd/healthcheck-client", ca: "etcd/ca", cn: "kube-etcd-healthcheck-client", usage: "client" },
];
const KUBECONFIGS = ["admin", "controller-manager", "scheduler"];
const MANIFESTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];

/** A control plane's PKI with every certificate expiring in `days` (per file where given). */
function controlPlane(sb: Day2Sandbox, days: (name: string) => number): void {
    const pki = sb.file("etc/kubernetes/pki");
    makeCa(pki, "ca", "kubernetes");
    makeCa(pki, "front-proxy-ca", "front-proxy-ca");
    makeCa(path.join(pki, "etcd"), "ca", "etcd-ca");
    for (const c of LEAF) makeCert({ ca: path.join(pki, c.ca), out: path.join(pki, c.file), cn: c.cn, days: days(c.file), usage: c.usage, ips: c.usage === "server" ? ["127.0.0.1"] : undefined });
    for (const k of KUBECONFIGS) {
        const out = path.join(sb.dir, `${k}-client`);
        makeCert({ ca: path.join(pki, "ca"), out, cn: `system:${k}`, days: days(`${k}.conf`), usage: "client" });
        const b64 = (f: string) => fs.readFileSync(f).toString("base64");
        sb.write(`etc/kubernetes/${k}.conf`, `apiVersion: v1\nkind: Config\nusers:\n- name: ${k}\n  user:\n    client-certificate-data: ${b64(`${out}.crt`)}\n    client-key-data: ${b64(`${out}.key`)}\n`, 0o600);
    }
    for (const m of MANIFESTS) sb.write(`etc/kubernetes/manifests/${m}.yaml`, `# ${m} static pod\n`);
    sb.write(INIT_CONFIG, "apiVersion: kubeadm.k8s.io/v1beta1\nkind: InitConfiguration\n", 0o600);
}

function kubeconfigDaysLeft(sb: Day2Sandbox, name: string): number {
    const b64 = /client-certificate-data: (\S+)/.exec(fs.readFileSync(sb.file(`etc/kubernetes/${name}.conf`), "utf8"))![1];
    const f = path.join(sb.dir, `check-${name}.crt`);
    fs.writeFileSync(f, Buffer.from(b64, "base64"));
    return secondsLeft(f) / 86400;
}
const pkiDaysLeft = (sb: Day2Sandbox, file: string) => secondsLeft(sb.file(`etc/kubernetes/pki/${file}.crt`)) / 86400;

describe("day2: certificate renewal on real certificates", function () {
    this.timeout(120_000);
    let sb: Day2Sandbox;
    beforeEach(function () {
        if (!haveTools(this, ["openssl", "base64"])) return;
        sb = day2Sandbox("certs");
    });
    afterEach(() => sb?.remove());
    const run = (version: string, env: Record<string, string> = {}, waitSeconds = 5) =>
        sb.run(renderRenewScript(NODE, version, CONFIG, { root: sb.root, waitSeconds }), [], { KUBEADM_FAKE_VERSION: version, ...env });

    it("renews everything when one certificate has 29 days left (1.15), restarts the control-plane pods and leaves a year", () => {
        controlPlane(sb, (f) => (f === "apiserver" ? 29 : 200));
        const before = fs.readFileSync(sb.file("etc/kubernetes/pki/apiserver.crt"));
        const r = run("1.15.12");
        assert.strictEqual(r.status, 0, r.stderr + r.stdout);
        assert.match(r.stdout, /renewing: fewer than 30 days left for apiserver \(/);
        assert.ok(!fs.readFileSync(sb.file("etc/kubernetes/pki/apiserver.crt")).equals(before));
        for (const c of LEAF) assert.ok(pkiDaysLeft(sb, c.file) > 364, `${c.file} lasts a year`);
        for (const k of KUBECONFIGS) assert.ok(kubeconfigDaysLeft(sb, k) > 364, `${k}.conf's certificate lasts a year`);
        const calls = sb.calls();
        assert.ok(calls.includes("kubeadm alpha certs check-expiration"), "1.15 has check-expiration");
        assert.ok(calls.includes("kubeadm alpha certs renew all"), calls.join("\n"));
        assert.ok(!calls.some((c) => c.startsWith("kubeadm init phase")), "1.15 renews the kubeconfigs itself");
        // Each static pod restarted: gone (its manifest moved out), then back.
        for (const m of MANIFESTS) {
            assert.ok(fs.existsSync(sb.file(`etc/kubernetes/manifests/${m}.yaml`)), `${m}'s manifest is back`);
            assert.match(r.stdout, new RegExp(`restarted ${m}`));
        }
        assert.ok(calls.filter((c) => c.startsWith("crictl ps --name ^kube-apiserver$")).length >= 2);
        assert.ok(fs.existsSync(sb.file("etc/kubernetes/oslo-mesh/certificates-renewed-at")));
        // The previous certificates are kept beside.
        const backups = fs.readdirSync(sb.file("etc/kubernetes/oslo-mesh")).filter((d) => d.startsWith("certificates-before-"));
        assert.strictEqual(backups.length, 1);
        assert.ok(fs.readFileSync(sb.file(`etc/kubernetes/oslo-mesh/${backups[0]}/pki/apiserver.crt`)).equals(before));
    });

    it("an admin.conf with 29 days left is renewed too", () => {
        controlPlane(sb, (f) => (f === "admin.conf" ? 29 : 200));
        const r = run("1.15.12");
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /fewer than 30 days left for admin\.conf/);
        assert.ok(kubeconfigDaysLeft(sb, "admin") > 364);
    });

    it("leaves everything alone at 31 days left", () => {
        controlPlane(sb, () => 31);
        const files = [...LEAF.map((c) => `etc/kubernetes/pki/${c.file}.crt`), ...KUBECONFIGS.map((k) => `etc/kubernetes/${k}.conf`)];
        const before = files.map((f) => fs.readFileSync(sb.file(f)));
        const r = run("1.15.12");
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /every certificate is valid for more than 30 days; nothing to do/);
        files.forEach((f, i) => assert.ok(fs.readFileSync(sb.file(f)).equals(before[i]), `${f} untouched`));
        assert.ok(!sb.calls().some((c) => c.startsWith("kubeadm alpha certs renew") || c.startsWith("crictl")));
    });

    it("1.14: renews the PKI with the cluster's config and writes the kubeconfigs anew", () => {
        controlPlane(sb, (f) => (f === "scheduler.conf" ? 29 : f === "apiserver" ? 20 : 200));
        const r = run("1.14.10");
        assert.strictEqual(r.status, 0, r.stderr + r.stdout);
        const calls = sb.calls();
        assert.ok(!calls.some((c) => c.includes("check-expiration")), "1.14 has no check-expiration");
        assert.ok(calls.includes(`kubeadm alpha certs renew all --config ${sb.root}${INIT_CONFIG}`), calls.join("\n"));
        for (const k of KUBECONFIGS) {
            assert.ok(calls.includes(`kubeadm init phase kubeconfig ${k} --config ${sb.root}${INIT_CONFIG}`));
            assert.ok(kubeconfigDaysLeft(sb, k) > 364);
        }
        assert.ok(pkiDaysLeft(sb, "apiserver") > 364);
    });

    it("fails loudly when kubeadm cannot renew, and restarts nothing", () => {
        controlPlane(sb, (f) => (f === "apiserver" ? 29 : 200));
        const r = run("1.15.12", { FAKE_KUBEADM_RENEW: "fail" });
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /CERTIFICATE RENEWAL FAILED on prod-cp-1: kubeadm alpha certs renew all exited non-zero/);
        assert.match(r.stderr, /the control plane stops working when these expire: apiserver/);
        assert.ok(!sb.calls().some((c) => c.startsWith("crictl")));
    });

    it("fails loudly when kubeadm exits 0 but a certificate still expires (external CA)", () => {
        controlPlane(sb, (f) => (f === "apiserver" ? 29 : 200));
        const r = run("1.15.12", { FAKE_KUBEADM_RENEW: "external-ca" });
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stdout, /Detected external ca, certificate for serving the Kubernetes API can't be renewed/);
        assert.match(r.stderr, /CERTIFICATE RENEWAL FAILED on prod-cp-1: still fewer than 30 days left after renewal for apiserver/);
    });

    it("1.14 without the CA's key (an external CA): kubeadm itself fails, and so does the renewal, naming its error", () => {
        controlPlane(sb, (f) => (f === "apiserver" ? 29 : 200));
        const r = run("1.14.10", { FAKE_KUBEADM_RENEW: "external-ca" });
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /failure loading ca certificate authority: couldn't load the private key file \/etc\/kubernetes\/pki\/ca\.key/);
        assert.match(r.stderr, /CERTIFICATE RENEWAL FAILED on prod-cp-1: kubeadm alpha certs renew all exited non-zero; the previous files are in \/etc\/kubernetes\/oslo-mesh\/certificates-before-/);
        assert.ok(!sb.calls().some((c) => c.startsWith("kubeadm init phase") || c.startsWith("crictl")));
    });

    it("a component that does not stop fails the renewal loudly, and the next run restarts the control plane again", () => {
        controlPlane(sb, (f) => (f === "apiserver" ? 29 : 200));
        const stuck = run("1.15.12", { FAKE_CRICTL_STUCK: "kube-apiserver" }, 1);
        assert.notStrictEqual(stuck.status, 0);
        assert.match(stuck.stderr, /CERTIFICATE RENEWAL FAILED on prod-cp-1: kube-apiserver did not stop within 1s of its manifest moving out, so it still runs with its old certificates; its manifest is back/);
        assert.doesNotMatch(stuck.stdout, /restarted kube-apiserver/);
        assert.ok(fs.existsSync(sb.file("etc/kubernetes/manifests/kube-apiserver.yaml")), "the manifest is back");
        assert.ok(fs.existsSync(sb.file("etc/kubernetes/oslo-mesh/certificates-restart-pending")));
        assert.ok(!fs.existsSync(sb.file("etc/kubernetes/oslo-mesh/certificates-renewed-at")));
        // The certificates were renewed, so the next run has nothing to renew: it restarts anyway.
        sb.clearCalls();
        const again = run("1.15.12");
        assert.strictEqual(again.status, 0, again.stderr);
        assert.match(again.stdout, /the restart after the renewal of \d{4}-\d\d-\d\dT[\d:]+Z did not finish; restarting the control-plane pods again/);
        for (const m of MANIFESTS) assert.match(again.stdout, new RegExp(`restarted ${m}`));
        assert.match(again.stdout, /nothing to do/);
        assert.ok(!sb.calls().some((c) => c.startsWith("kubeadm alpha certs renew")));
        assert.ok(!fs.existsSync(sb.file("etc/kubernetes/oslo-mesh/certificates-restart-pending")));
        const third = run("1.15.12");
        assert.doesNotMatch(third.stdout, /restart/, "done once");
    });

    it("a manifest held aside (an etcd restore in progress) stops the renewal before anything changes", () => {
        controlPlane(sb, (f) => (f === "apiserver" ? 29 : 200));
        fs.mkdirSync(sb.file("etc/kubernetes/oslo-mesh/held-manifests"), { recursive: true });
        fs.renameSync(sb.file("etc/kubernetes/manifests/etcd.yaml"), sb.file("etc/kubernetes/oslo-mesh/held-manifests/etcd.yaml"));
        sb.write("etc/kubernetes/kubelet.conf", "users:\n- name: n\n  user:\n    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n", 0o600);
        sb.write("var/lib/kubelet/pki/kubelet-client-current.pem", "PEM\n", 0o600);
        const before = fs.readFileSync(sb.file("etc/kubernetes/pki/apiserver.crt"));
        const r = run("1.15.12");
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /CERTIFICATE RENEWAL FAILED on prod-cp-1: \/etc\/kubernetes\/oslo-mesh\/held-manifests\/etcd\.yaml is held aside \(an etcd restore in progress, or a restart that stopped halfway\); once no restore runs, move it back to \/etc\/kubernetes\/manifests/);
        assert.ok(fs.readFileSync(sb.file("etc/kubernetes/pki/apiserver.crt")).equals(before));
        assert.ok(!sb.calls().some((c) => c.startsWith("kubeadm") || c.startsWith("crictl") || c.startsWith("systemctl")));
        assert.match(fs.readFileSync(sb.file("etc/kubernetes/kubelet.conf"), "utf8"), /client-certificate-data/, "not even kubelet.conf");
        assert.ok(fs.existsSync(sb.file("etc/kubernetes/oslo-mesh/held-manifests/etcd.yaml")), "left where it was");
    });

    describe("kubelet.conf on the node where kubeadm init ran (kubeadm before 1.17, kubernetes/kubeadm#1753)", () => {
        const ROTATED = "/var/lib/kubelet/pki/kubelet-client-current.pem";
        const embedded = (cert: string) => `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: Q0E=\n    server: https://10.0.0.10:6443\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: system:node:${NODE}\n  name: system:node:${NODE}@kubernetes\ncurrent-context: system:node:${NODE}@kubernetes\nkind: Config\npreferences: {}\nusers:\n- name: system:node:${NODE}\n  user:\n    client-certificate-data: ${cert}\n    client-key-data: S0VZ\n`;

        it("is pointed at the kubelet's rotated certificate, the kubelet restarted, the old file kept; a second run leaves it alone", () => {
            controlPlane(sb, () => 200);
            sb.write("etc/kubernetes/kubelet.conf", embedded("Q0VSVA=="), 0o600);
            sb.write(ROTATED.slice(1), "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", 0o600);
            const r = run("1.14.10");
            assert.strictEqual(r.status, 0, r.stderr);
            const conf = fs.readFileSync(sb.file("etc/kubernetes/kubelet.conf"), "utf8");
            assert.strictEqual(conf, embedded("Q0VSVA==").replace("    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n", `    client-certificate: ${ROTATED}\n    client-key: ${ROTATED}\n`));
            assert.strictEqual(fs.statSync(sb.file("etc/kubernetes/kubelet.conf")).mode & 0o777, 0o600);
            assert.ok(sb.calls().includes("systemctl restart kubelet"));
            assert.match(r.stdout, /kubelet\.conf now names the kubelet's rotated client certificate/);
            const kept = fs.readdirSync(sb.file("etc/kubernetes/oslo-mesh")).filter((f) => f.startsWith("kubelet.conf-before-"));
            assert.strictEqual(kept.length, 1);
            assert.strictEqual(fs.readFileSync(sb.file(`etc/kubernetes/oslo-mesh/${kept[0]}`), "utf8"), embedded("Q0VSVA=="));
            sb.clearCalls();
            const again = run("1.14.10");
            assert.strictEqual(again.status, 0, again.stderr);
            assert.ok(!sb.calls().includes("systemctl restart kubelet"));
            assert.strictEqual(fs.readFileSync(sb.file("etc/kubernetes/kubelet.conf"), "utf8"), conf);
        });

        it("is left as it is until the kubelet has rotated its certificate", () => {
            controlPlane(sb, () => 200);
            sb.write("etc/kubernetes/kubelet.conf", embedded("Q0VSVA=="), 0o600);
            const r = run("1.15.12");
            assert.strictEqual(r.status, 0, r.stderr);
            assert.strictEqual(fs.readFileSync(sb.file("etc/kubernetes/kubelet.conf"), "utf8"), embedded("Q0VSVA=="));
            assert.match(r.stdout, /kubelet\.conf holds the kubelet's first client certificate, and the kubelet has not rotated it yet \(no \/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem\)/);
            assert.ok(!sb.calls().includes("systemctl restart kubelet"));
        });
    });

    it("the installer writes the job and its daily timer, and runs it once", () => {
        controlPlane(sb, () => 31);
        const r = sb.run(renderRenewalInstaller("install", NODE, "1.15.12", CONFIG, { root: sb.root }), [], { KUBEADM_FAKE_VERSION: "1.15.12" });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(fs.readFileSync(sb.file("etc/systemd/system/oslo-mesh-certificate-renewal.timer"), "utf8"), /^OnCalendar=daily$/m);
        assert.match(r.stderr, /nothing to do/, "it ran once");
        assert.ok(sb.calls().includes("systemctl enable --now oslo-mesh-certificate-renewal.timer"));
        const removed = sb.run(renderRenewalInstaller("remove", NODE, "1.15.12", CONFIG, { root: sb.root }));
        assert.strictEqual(removed.status, 0, removed.stderr);
        assert.ok(!fs.existsSync(sb.file("etc/systemd/system/oslo-mesh-certificate-renewal.timer")));
    });

    it("the stack's kubeconfig: a warning with the refresh command once its certificate is within the renewal window", () => {
        controlPlane(sb, (f) => (f === "admin.conf" ? 20 : 200));
        const urn = "urn:pulumi:prod::oslo-mesh::oslo-mesh:kubernetes:KubeadmCluster$command:remote:Command::prod-kubeconfig";
        const stale = fs.readFileSync(sb.file("etc/kubernetes/admin.conf"), "utf8");
        assert.match(kubeconfigExpiryWarning(stale, 30, urn)!, new RegExp(`expires on \\d{4}-\\d{2}-\\d{2} \\(19 days left\\).*pulumi up --replace '${urn.replace(/[$.]/g, "\\$&")}'`));
        const r = run("1.15.12");
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(kubeconfigExpiryWarning(fs.readFileSync(sb.file("etc/kubernetes/admin.conf"), "utf8"), 30, urn), undefined, "the renewed admin.conf is good for a year");
    });
});
