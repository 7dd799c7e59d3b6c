// Puts the fake `pulumi` (test/fakePulumi.ts, with the engine model it runs, test/rollEngine.ts)
// into `<dir>/bin`, compiled once to plain JavaScript (a call then costs a node start, not a
// TypeScript compile), and returns the environment that finds it and tells it where its files are.
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { PROJECT_DIR } from "./harness";

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
    for (const [source, out] of [["fakePulumi.ts", "fake-pulumi.js"], ["rollEngine.ts", "rollEngine.js"]]) {
        const text = fs.readFileSync(path.join(__dirname, source), "utf8");
        fs.writeFileSync(path.join(bin, out), ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 } }).outputText);
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
