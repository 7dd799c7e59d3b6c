// Every day-2 script as rendered (including the jobs the installers carry as text, which the
// plan-wide shellcheck cannot see) and every day-2 fake are shellcheck-clean.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderRenewalInstaller, renderRenewScript } from "../components/kubernetes/day2/certificates/render";
import { renderRestoreScript, renderSnapshotInstaller, renderSnapshotScript } from "../components/kubernetes/day2/etcd/render";
import { renderUpgradeScript, renderWorkerMaintenanceScript } from "../components/kubernetes/day2/upgrade/render";
import { DAY2_FAKEBIN, DAY2_FIXTURES, haveTools } from "./day2.sandbox";
import { parsedConfig, stackFileConfig } from "./harness";

describe("day2: shellcheck", () => {
    it("the rendered day-2 scripts and the day-2 fakes are clean", function () {
        if (!haveTools(this, ["shellcheck"])) return;
        const k = parsedConfig("prod", stackFileConfig("prod")).kubernetes;
        const copy = { ...k.etcdSnapshots, copyTo: { host: "backup.example.no", port: 22, user: "backup", path: "/srv/etcd", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE" } };
        const members = [{ name: "prod-cp-1", ip: "203.0.113.10" }, { name: "prod-cp-2", ip: "203.0.113.11" }];
        const scripts: Record<string, string> = {
            "etcd-snapshot.sh": renderSnapshotScript("prod-cp-1", copy),
            "etcd-restore.sh": renderRestoreScript(members[0], members),
            "install-etcd-snapshots.sh": renderSnapshotInstaller("install", members[0], members, k.version, copy),
            "remove-etcd-snapshots.sh": renderSnapshotInstaller("remove", members[0], members, k.version, k.etcdSnapshots),
            "renew-certificates-1.15.sh": renderRenewScript("prod-cp-1", "1.15.12", k.certificates),
            "renew-certificates-1.14.sh": renderRenewScript("prod-cp-1", "1.14.10", k.certificates),
            "install-certificate-renewal.sh": renderRenewalInstaller("install", "prod-cp-1", k.version, k.certificates),
            "upgrade-first.sh": renderUpgradeScript("prod-cp-1", "first-control-plane", k),
            "upgrade-cp.sh": renderUpgradeScript("prod-cp-2", "control-plane", k),
            "upgrade-worker.sh": renderUpgradeScript("prod-worker-1", "worker", { ...k, version: "1.14.10" }),
            "drain.sh": renderWorkerMaintenanceScript("drain", "prod-worker-1", k),
            "uncordon.sh": renderWorkerMaintenanceScript("uncordon", "prod-worker-1", k),
        };
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-day2-sc-"));
        for (const [f, text] of Object.entries(scripts)) fs.writeFileSync(path.join(dir, f), text);
        const fakes = [...fs.readdirSync(DAY2_FAKEBIN).map((f) => path.join(DAY2_FAKEBIN, f)), path.join(DAY2_FIXTURES, "static-pod-kubelet.sh")];
        const r = spawnSync("shellcheck", [...Object.keys(scripts).map((f) => path.join(dir, f)), ...fakes], { encoding: "utf8" });
        fs.rmSync(dir, { recursive: true, force: true });
        assert.strictEqual(r.status, 0, r.stdout);
    });
});
