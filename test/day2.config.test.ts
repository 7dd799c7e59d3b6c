// The day-2 config keys: schedules as systemd reads them, and errors that name the key.
import * as assert from "assert";
import { spawnSync } from "child_process";
import { onCalendarProblem } from "../components/kubernetes/day2/schedule";
import { haveTools } from "./day2.sandbox";
import { parsedConfig, problemsOf, stackFileConfig } from "./harness";

const ACCEPTED = [
    "daily", "hourly", "weekly", "Monthly", "*-*-* 02:30:00", "*-*-* 00/6:00:00", "Mon..Fri 03:00", "Mon,Thu *-*-* 01:00",
    "Sat", "2027-01-01", "*-01,07-01 04:00", "*-*-1..7 05:00:30", "12:00 UTC", "*:0/15", "Sun *-*-* 23:59:59",
];
const REFUSED = ["Mon\n*-*-* 02:00", "daily\nExecStartPre=/bin/sh -c id", "Mon\t02:00", "", "bogus", "daily 03:00", "*-*-* 24:00", "*-13-01", "*-*-* 02:60", "Funday", "*-*-* 1..", "*-*-* 03:00 Mars/Olympus", "every 6h", "*-*-* 05..01:00"];

describe("day2: config", () => {
    it("every schedule this program accepts, systemd accepts too; the refused ones systemd refuses as well", function () {
        if (!haveTools(this, ["systemd-analyze"])) return;
        for (const expr of ACCEPTED) {
            assert.strictEqual(onCalendarProblem(expr), undefined, expr);
            const r = spawnSync("systemd-analyze", ["calendar", expr], { encoding: "utf8" });
            assert.strictEqual(r.status, 0, `systemd-analyze calendar ${JSON.stringify(expr)}: ${r.stderr}`);
        }
        for (const expr of REFUSED) {
            assert.ok(onCalendarProblem(expr), `${JSON.stringify(expr)} is refused`);
            // Empty, or several lines (refused for the unit file's sake, whatever systemd makes of them).
            if (expr === "" || /[^\S ]/.test(expr)) continue;
            const r = spawnSync("systemd-analyze", ["calendar", expr], { encoding: "utf8" });
            assert.notStrictEqual(r.status, 0, `systemd refuses ${JSON.stringify(expr)} too`);
        }
    });

    it("the defaults: one worker at a time, a snapshot every 6 hours kept a week, certificates renewed 30 days ahead", () => {
        const k = parsedConfig("prod", stackFileConfig("prod")).kubernetes;
        assert.deepStrictEqual(k.upgrade, { maxParallelWorkers: 1, drainTimeout: "10m" });
        assert.deepStrictEqual(k.etcdSnapshots, { schedule: "*-*-* 00/6:00:00", keep: 28 });
        assert.deepStrictEqual(k.certificates, { schedule: "daily", renewBeforeDays: 30 });
    });

    it("bad day-2 values name their key and what was expected", () => {
        const cfg = stackFileConfig("prod");
        const kubernetes = (cfg["oslo-mesh:kubernetes"] ?? {}) as Record<string, unknown>;
        const problems = problemsOf("prod", {
            ...cfg,
            "oslo-mesh:kubernetes": {
                ...kubernetes,
                upgrade: { maxParallelWorkers: 0, drainTimeout: "ten minutes" },
                etcdSnapshots: { schedule: "*-*-* 25:00", keep: 7, copyTo: { host: "backup.example.no", user: "backup", path: "relative/dir", hostKey: "not a key" } },
                certificates: { schedule: "daily", renewBeforeDays: 400 },
            },
        });
        const expect = [
            /^oslo-mesh:kubernetes\.upgrade\.maxParallelWorkers: must be at least 1, got 0$/,
            /^oslo-mesh:kubernetes\.upgrade\.drainTimeout: must be a duration such as 300s, 10m or 1h, got "ten minutes"$/,
            /^oslo-mesh:kubernetes\.etcdSnapshots\.schedule: hour 25 is outside 0\.\.23 \(a systemd OnCalendar expression, e\.g\. daily/,
            /^oslo-mesh:kubernetes\.etcdSnapshots\.copyTo\.path: must be an absolute path/,
            /^oslo-mesh:kubernetes\.etcdSnapshots\.copyTo\.hostKey: must be a public host key such as 'ssh-ed25519 AAAA\.\.\.'/,
            /^oslo-mesh:kubernetes\.certificates\.renewBeforeDays: must be at most 300, got 400$/,
        ];
        for (const e of expect) assert.ok(problems.some((p) => e.test(p)), `${e} in:\n${problems.join("\n")}`);
    });
});
