// Tests that drive a real daemon (libvirtd, Prometheus, etcd) live in files named
// `<concern>.<daemon>.test.ts` (e.g. vps.libvirt.test.ts), or are listed below. They run in
// every `npm test`; each such file prints how long it took. For a quick local loop,
// OSLO_MESH_SKIP_DAEMON_TESTS=1 skips them (reported as pending, with the reason); in CI
// (CI=true) that variable is an error.
// A mocha root-hook plugin, loaded by .mocharc.yml; test/run.js (npm test) also reads daemonOf to
// run these files apart from the fast suite, one mocha run per daemon.
import * as path from "path";
import type { Context, Suite } from "mocha";

const DAEMON_FILE = /\.(libvirt|prometheus|etcd)\.test\.[jt]s$/;
const DAEMON_NAMES: Record<string, string> = { libvirt: "libvirtd", prometheus: "Prometheus", etcd: "etcd" };
/** Files that drive a real daemon under another name. */
const DAEMON_FILES: Record<string, string> = { "vps.faults.test.ts": "libvirtd", "vps.nodeimage.test.ts": "libvirtd", "kubernetes.lifecycle.test.ts": "etcd" };
export const SKIP_VARIABLE = "OSLO_MESH_SKIP_DAEMON_TESTS";

/** The daemon a test file drives, from its name; undefined for every other test. */
export function daemonOf(file: string | undefined): string | undefined {
    if (!file) return undefined;
    const name = path.basename(file).replace(/\.js$/, ".ts");
    const m = DAEMON_FILE.exec(name);
    return m ? DAEMON_NAMES[m[1]] : DAEMON_FILES[name];
}

function skipRequested(): boolean {
    const v = process.env[SKIP_VARIABLE];
    return v !== undefined && v !== "" && v !== "0";
}

/** Throws when the real-daemon tests are to be skipped in CI (CI=true): CI runs them. */
export function refuseSkipInCi(): void {
    if (skipRequested() && process.env.CI === "true") {
        throw new Error(`${SKIP_VARIABLE} is for a quick local loop; CI (CI=true) runs the real-daemon tests too. Unset it.`);
    }
}

export const mochaHooks = {
    beforeAll(this: Context): void {
        const root = this.test?.parent;
        if (!root) return;
        refuseSkipInCi();
        const skip = skipRequested();
        const daemonSuites = root.suites.filter((s) => daemonOf(s.file));
        if (skip && daemonSuites.length) {
            const names = [...new Set(daemonSuites.map((s) => daemonOf(s.file)))].join(", ");
            process.stderr.write(`  ${SKIP_VARIABLE} is set: the tests that drive a real ${names} are skipped (pending).\n`);
        }
        for (const suite of daemonSuites) {
            if (skip) {
                suite.pending = true;
                continue;
            }
            timeSuite(suite, daemonOf(suite.file)!);
        }
    },
};

/** Prints, after the suite, how long its tests and hooks took against the real daemon. */
function timeSuite(suite: Suite, daemon: string): void {
    let started = 0n;
    suite.beforeAll(`start the clock (real ${daemon})`, () => {
        started = process.hrtime.bigint();
    });
    // Mocha runs hooks in the order they were added: the clock starts before the file's own.
    const hooks = (suite as unknown as { _beforeAll: unknown[] })._beforeAll;
    hooks.unshift(hooks.pop());
    suite.afterAll(`stop the clock (real ${daemon})`, () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        process.stderr.write(`    ${path.basename(suite.file ?? "")} (${suite.title}): ${seconds.toFixed(1)} s against a real ${daemon}\n`);
    });
}
