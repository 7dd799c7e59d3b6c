// Reads Pulumi.<stack>.yaml the way the Pulumi CLI hands it to a program.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";

/** The project: where the committed Pulumi.<stack>.yaml files are. */
const PROJECT_DIR = path.resolve(__dirname, "..");

/** The `config:` map of a committed Pulumi.<stack>.yaml as plain values (a fresh copy each call). */
export function committedStackConfig(stack: string): Record<string, unknown> {
    const doc = jsyaml.load(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    return JSON.parse(JSON.stringify(asPulumiReadsIt(doc.config)));
}

/**
 * YAML's unquoted timestamps (`expires: 2026-03-31`) as the Pulumi CLI hands them to the program:
 * yaml.v3 decodes them to time.Time and Pulumi passes on its String() form, "2026-03-31 00:00:00
 * +0000 UTC" (sdk/go/common/resource/config/object.go at v3.248.0).
 */
export function asPulumiReadsIt(v: unknown): unknown {
    if (v instanceof Date) {
        const [day, time] = v.toISOString().replace(/\.?0*Z$/, "").split("T");
        return `${day} ${time} +0000 UTC`;
    }
    if (Array.isArray(v)) return v.map(asPulumiReadsIt);
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asPulumiReadsIt(x)]));
    return v;
}

/** Writes a config map as a Pulumi.<stack>.yaml-shaped file in a new temporary directory; returns its path. */
export function writeTempStackFile(config: Record<string, unknown>): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-stack-")), "Pulumi.temp.yaml");
    fs.writeFileSync(file, jsyaml.dump({ config }));
    return file;
}

/** What stands in for an encrypted (`secure:`) value, which cannot be decrypted offline. */
export const SECRET_PLACEHOLDER_PREFIX = "[secret placeholder for ";

export interface StackFileConfig {
    /** `project:key` → value as a string (structured values as JSON), as in PULUMI_CONFIG. */
    readonly values: Record<string, string>;
    /** Top-level keys that hold a secret anywhere inside them. */
    readonly secretKeys: string[];
}

export function readStackFile(file: string): StackFileConfig {
    const doc = (jsyaml.load(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    if (typeof doc !== "object" || Array.isArray(doc)) throw new Error(`${file}: expected a mapping with a config: key`);
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        let secret = false;
        const replaced = replaceSecure(asPulumiReadsIt(value), key, () => (secret = true));
        values[key] = typeof replaced === "string" ? replaced : JSON.stringify(replaced);
        if (secret) secretKeys.push(key);
    }
    return { values, secretKeys };
}

function isSecure(v: unknown): v is { secure: string } {
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { secure?: unknown }).secure === "string";
}

function replaceSecure(v: unknown, path: string, onSecret: () => void): unknown {
    if (isSecure(v)) {
        onSecret();
        return `${SECRET_PLACEHOLDER_PREFIX}${path}]`;
    }
    if (Array.isArray(v)) return v.map((x, i) => replaceSecure(x, `${path}[${i}]`, onSecret));
    if (typeof v === "object" && v !== null) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceSecure(x, `${path}.${k}`, onSecret)]));
    }
    return v;
}
