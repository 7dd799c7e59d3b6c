// Reading and writing stack files for the benchmark.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { PROJECT_DIR } from "../plan/run";

export function stackFileConfigFor(stack: string): Record<string, unknown> {
    const doc = jsyaml.load(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    return doc.config;
}

export function writeTempStackFile(config: Record<string, unknown>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-bench-"));
    const file = path.join(dir, "Pulumi.bench.yaml");
    fs.writeFileSync(file, jsyaml.dump({ config }));
    return file;
}
