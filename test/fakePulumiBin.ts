// Puts the fake `pulumi` (test/fakePulumi.ts, with the engine model it runs, test/rollEngine.ts)
// into `<dir>/bin`, as the build compiled it to plain JavaScript (a call then costs a node start,
// not a TypeScript compile), and returns the environment that finds it and tells it where its files are.
import * as fs from "fs";
import * as path from "path";
import { compiledDir, PROJECT_DIR } from "./harness";

export interface FakePulumiFiles {
    /** What `stack export` prints and `up` rewrites. */
    readonly state: string;
    /** One JSON line per call. */
    readonly log: string;
    /** The kubeconfig output's text. */
    readonly kubeconfig: string;
}

export function fakePulumiEnv(dir: string, files: FakePulumiFiles): NodeJS.ProcessEnv {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    // As the build compiled them (bin/test, current: compiledDir builds when stale).
    for (const [compiled, out] of [["fakePulumi.js", "fake-pulumi.js"], ["rollEngine.js", "rollEngine.js"]]) {
        fs.copyFileSync(path.join(compiledDir(), "test", compiled), path.join(bin, out));
    }
    fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(bin, "fake-pulumi.js"))} "$@"\n`, { mode: 0o755 });
    return {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        NODE_PATH: path.join(PROJECT_DIR, "node_modules"),
        FAKE_PULUMI_STATE: files.state,
        FAKE_PULUMI_LOG: files.log,
        FAKE_PULUMI_KUBECONFIG: files.kubeconfig,
    };
}
