// The policy rules that read the scripts the program runs on nodes and hypervisors: verified
// downloads, closed admin access, an odd number of control planes, quiet secrets. Passing cases
// are the program's own rendered scripts; failing ones change exactly what the rule is about.
import * as assert from "assert";
import { renderCniScript, renderFirewallScript, renderKubeconfigScript, renderPrepareScript } from "../components/kubernetes/render";
import { renderScript } from "../components/shared/script";
import { adminAccessClosed, oddControlPlanes, opensToWorld, portIncluded } from "../policy/rules/access";
import { downloadFindings, downloadsVerified } from "../policy/rules/downloads";
import { secretCommandsSilent, secretPrints } from "../policy/rules/secrets";
import { scriptParams } from "../policy/rules/shell";
import { noLatestImage } from "../policy/rules/images";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parsedConfig, stackFileConfig } from "./harness";
import { commandResource, facts, violations } from "./policyFixtures";

const k8s = parsedConfig("prod", stackFileConfig("prod")).kubernetes;
const script = (body: string, params: Record<string, string | string[]> = {}) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "policy-script-")), "s.sh");
    fs.writeFileSync(file, `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`);
    return renderScript(file, params);
};
const downloads = (s: string) => downloadFindings("t", "create", s).map((f) => f.message);

describe("policy rule downloads-verified", () => {
    it("passes node preparation: every artifact checked against its published checksum", () => {
        assert.deepStrictEqual(violations(downloadsVerified, [commandResource("prod-cp-1-prepare", renderPrepareScript("prod-cp-1", k8s))]), []);
    });

    it("passes the CNI manifest pinned, and unpinned too: cni.sh then stops before applying anything", () => {
        const pinned = renderCniScript({ ...k8s, cni: { ...k8s.cni, manifestSha256: "a".repeat(64) } });
        assert.deepStrictEqual(violations(downloadsVerified, [commandResource("prod-cni", pinned)]), []);
        const unpinned = renderCniScript({ ...k8s, cni: { manifestUrl: "https://mirror.example/calico.yaml" } });
        assert.match(unpinned, /readonly MANIFEST_SHA256=''/);
        assert.deepStrictEqual(violations(downloadsVerified, [commandResource("prod-cni", unpinned)]), []);
    });

    it("fails an empty pin that the script shrugs off (as cni.sh once did: a warning, then kubectl apply)", () => {
        const warnOnly = script(
            'work=$(mktemp -d)\ncurl -fsSL -o "${work}/calico.yaml" "${MANIFEST_URL}"\nactual=$(sha256sum "${work}/calico.yaml" | awk \'{ print $1 }\')\nif [ -z "${MANIFEST_SHA256}" ]; then\n  echo "warning: applying it unverified" >&2\nelif [ "${actual}" != "${MANIFEST_SHA256}" ]; then\n  exit 1\nfi\nkubectl apply -f "${work}/calico.yaml"',
            { MANIFEST_URL: "https://x/calico.yaml", MANIFEST_SHA256: "" },
        );
        assert.deepStrictEqual(downloads(warnOnly), ["t (create): MANIFEST_SHA256 is empty, and then the script uses the download without a checksum check; pin it in the stack config"]);
        assert.deepStrictEqual(downloads(warnOnly.replace("readonly MANIFEST_SHA256=''", `readonly MANIFEST_SHA256='${"b".repeat(64)}'`)), []);
    });

    it("fails a download used without a digest (as libvirt-create.sh fetched the base image)", () => {
        const s = script('work=$(mktemp -d)\ncurl -fsSL --retry 3 -o "${work}/download" "${BASE_IMAGE_URL}"\nqemu-img convert -O qcow2 "${work}/download" "${work}/base"', { BASE_IMAGE_URL: "https://cloud-images.example/focal.img" });
        assert.deepStrictEqual(downloads(s), ["t (create, line 5): downloads https://cloud-images.example/focal.img to ${work}/download and no checksum of it is checked afterwards"]);
        const verified = s.replace('qemu-img convert', 'echo "${SUM}  ${work}/download" | sha256sum -c -\nqemu-img convert');
        assert.deepStrictEqual(downloads(verified), []);
    });

    it("an empty pin is fine when the script falls back to the publisher's checksum file (as the base image does)", () => {
        const body = [
            'work=$(mktemp -d)',
            'if [ -n "${IMAGE_SHA256}" ]; then sha="${IMAGE_SHA256}"; else',
            '  curl -fsSL -o "${work}/SHA256SUMS" "${CHECKSUM_URL}"',
            '  sha=$(awk \'$2 == "focal.img" { print $1 }\' "${work}/SHA256SUMS")',
            'fi',
            'curl -fsSL -o "${work}/image" "${IMAGE_URL}"',
            'got=$(sha256sum "${work}/image" | cut -d" " -f1)',
            '[ "${got}" = "${sha}" ]',
        ].join("\n");
        assert.deepStrictEqual(downloads(script(body, { IMAGE_SHA256: "", CHECKSUM_URL: "https://x/SHA256SUMS", IMAGE_URL: "https://x/focal.img" })), []);
        const checkOnlyWhenPinned = 'curl -fsSL -o /tmp/image "${IMAGE_URL}"\ngot=$(sha256sum /tmp/image | cut -d" " -f1)\nif [ -n "${IMAGE_SHA256}" ]; then [ "${got}" = "${IMAGE_SHA256}" ] || exit 1; fi';
        assert.match(downloads(script(checkOnlyWhenPinned, { IMAGE_SHA256: "", IMAGE_URL: "https://x/focal.img" })).join("\n"), /IMAGE_SHA256 is empty/);
    });

    it("fails downloads piped into a shell, kubectl apply of a URL, and wget without a check", () => {
        assert.match(downloads(script("curl -fsSL https://get.example/install.sh | bash"))[0], /pipes https:\/\/get.example\/install.sh straight into bash, unverified/);
        assert.match(downloads(script("kubectl apply -f https://docs.projectcalico.org/v3.10/manifests/calico.yaml"))[0], /kubectl apply -f https:\/\/docs.projectcalico.org\/v3.10\/manifests\/calico.yaml applies a download unverified/);
        assert.match(downloads(script("wget -qO /tmp/x.tgz https://example.org/x.tgz\ntar -xzf /tmp/x.tgz"))[0], /downloads https:\/\/example.org\/x.tgz to \/tmp\/x.tgz and no checksum/);
        assert.deepStrictEqual(downloads(script("wget -qO /tmp/x.tgz https://example.org/x.tgz\nsha512sum /tmp/x.tgz | grep -q abc\ntar -xzf /tmp/x.tgz")), []);
    });

    it("does not mistake a tool list or a captured checksum for a download", () => {
        assert.deepStrictEqual(downloads(script('for tool in virsh curl; do command -v "${tool}"; done\nsum=$(curl -fsSL "${SUM_URL}")\necho "${sum}"', { SUM_URL: "https://x/y.sha256" })), []);
    });

    it("cannot judge a script known only at pulumi up", () => {
        const r = commandResource("x", "true");
        assert.deepStrictEqual(downloadsVerified.check({ ...r, props: { create: "[unknown]" } }).map((f) => f.undetermined), [true]);
    });
});

describe("policy rule admin-access-closed", () => {
    const firewall = (adminCidrs: string[], more: Partial<{ publicPorts: string[]; clusterCidrs: string[] }> = {}) =>
        commandResource(
            "prod-cp-1-firewall",
            renderFirewallScript("prod-cp-1", "control-plane", { adminCidrs, clusterCidrs: more.clusterCidrs ?? ["203.0.113.0/24"], podCidr: "10.244.0.0/16", apiPort: 6443, publicPorts: more.publicPorts ?? ["30000:32767"] }),
        );

    it("reads the firewall's parameters from the rendered script", () => {
        const p = scriptParams(String(firewall(["198.51.100.0/24", "192.0.2.7/32"]).props.create));
        assert.deepStrictEqual(p.get("ADMIN_CIDRS"), ["198.51.100.0/24", "192.0.2.7/32"]);
        assert.strictEqual(p.get("ROLE"), "control-plane");
    });

    it("passes admin networks, fails 0.0.0.0/0 in staging and prod, not in dev", () => {
        assert.deepStrictEqual(violations(adminAccessClosed, [firewall(["198.51.100.0/24"])], facts("prod")), []);
        const open = [firewall(["198.51.100.0/24", "0.0.0.0/0"])];
        assert.deepStrictEqual(violations(adminAccessClosed, open, facts("staging")), [
            "prod-cp-1: SSH and the API server (port 6443) open to the whole Internet (ADMIN_CIDRS 198.51.100.0/24 0.0.0.0/0, from kubernetes.adminCidrs); list your admins' networks",
        ]);
        assert.strictEqual(violations(adminAccessClosed, open, facts("prod")).length, 1);
        assert.deepStrictEqual(violations(adminAccessClosed, open, facts("dev")), []);
    });

    it("sees the world through halves, IPv6, the cluster networks and the public ports", () => {
        assert.ok(opensToWorld(["0.0.0.0/1", "128.0.0.0/1"]));
        assert.ok(opensToWorld(["::/0"]));
        assert.ok(!opensToWorld(["0.0.0.0/1"]));
        assert.ok(portIncluded(["30000:32767", "22"], 22) && !portIncluded(["30000:32767"], 6443));
        assert.match(violations(adminAccessClosed, [firewall(["198.51.100.0/24"], { clusterCidrs: ["0.0.0.0/0"] })]).join("\n"), /API server \(port 6443\) is open to the whole Internet through the cluster networks/);
        assert.match(violations(adminAccessClosed, [firewall(["198.51.100.0/24"], { publicPorts: ["1:1024"] })]).join("\n"), /SSH \(port 22\) is among the ports open to anyone/);
    });
});

describe("policy rule odd-control-planes", () => {
    const node = (name: string, role: "control-plane" | "worker") =>
        commandResource(`${name}-firewall`, renderFirewallScript(name, role, { adminCidrs: ["198.51.100.0/24"], clusterCidrs: ["203.0.113.0/24"], podCidr: "10.244.0.0/16", apiPort: 6443, publicPorts: [] }));

    it("passes 1 or 3 control planes in prod, fails 2 and 4, ignores other environments", () => {
        const cps = (n: number) => [...Array.from({ length: n }, (_, i) => node(`cp-${i + 1}`, "control-plane")), node("worker-1", "worker")];
        assert.deepStrictEqual(violations(oddControlPlanes, cps(1)), []);
        assert.deepStrictEqual(violations(oddControlPlanes, cps(3)), []);
        assert.deepStrictEqual(violations(oddControlPlanes, cps(2)), ["prod has 2 control planes (cp-1, cp-2): etcd needs an odd number (1, 3, 5) to keep a majority"]);
        assert.strictEqual(violations(oddControlPlanes, cps(4)).length, 1);
        assert.deepStrictEqual(violations(oddControlPlanes, cps(2), facts("staging")), []);
    });
});

describe("policy rule secret-commands-silent", () => {
    it("passes the kubeconfig command as the cluster runs it: logging none, stdout secret", () => {
        assert.deepStrictEqual(violations(secretCommandsSilent, [commandResource("prod-kubeconfig", renderKubeconfigScript(), { logging: "none", secretOutputs: ["stdout"] })]), []);
    });

    it("fails it when it logs, or when its stdout is not secret", () => {
        assert.deepStrictEqual(violations(secretCommandsSilent, [commandResource("prod-kubeconfig", renderKubeconfigScript(), { secretOutputs: ["stdout"] })]), [
            'prod-kubeconfig prints a secret (create line 12: cat "${ROOT}/etc/kubernetes/admin.conf") but logs stdout and stderr (logging unset): set logging: "none"',
        ]);
        assert.match(violations(secretCommandsSilent, [commandResource("prod-kubeconfig", renderKubeconfigScript(), { logging: "none" })]).join("\n"), /its stdout is not a secret output: add additionalSecretOutputs: \["stdout"\]/);
        assert.match(violations(secretCommandsSilent, [commandResource("x", "echo hi", { logging: "stdout", secretOutputs: ["stdout"] })]).join("\n"), /marks stdout secret but logs "stdout"/);
    });

    it("knows what prints a secret and what does not", () => {
        const prints = (body: string) => secretPrints(script(body)).map((p) => p.statement);
        assert.deepStrictEqual(prints('kubeadm token create --print-join-command\nkubectl config view --raw\ncat /etc/kubernetes/pki/ca.key'), [
            "kubeadm token create --print-join-command",
            "kubectl config view --raw",
            "cat /etc/kubernetes/pki/ca.key",
        ]);
        assert.deepStrictEqual(
            prints('kubeadm token create --config c >/dev/null\nif ! kubeadm token list | grep -qx "${t}"; then :; fi\n[ "$(cat /etc/kubernetes/admin.conf)" = x ]\necho "kubeadm init (1.15); log: x"\nkubeadm init --config c --skip-token-print >/var/log/x 2>&1'),
            [],
        );
    });
});

describe("policy rule no-latest-image in scripts", () => {
    it("fails an image pinned to latest in a script, passes the prepared node's pause image", () => {
        assert.deepStrictEqual(violations(noLatestImage, [commandResource("p", renderPrepareScript("prod-cp-1", k8s))]), []);
        assert.match(violations(noLatestImage, [commandResource("p", script("ctr images pull docker.io/library/busybox:latest"))])[0], /image docker.io\/library\/busybox:latest uses the moving tag latest/);
    });
});
