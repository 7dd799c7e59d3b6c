// Reads Pulumi.<stack>.yaml the way the Pulumi CLI hands it to a program: every top-level key
// `namespace:name` → a string (structured values as JSON), with the keys that hold a `secure:`
// value listed as secret. A stack file is input from many hands: it is read within fixed
// limits, and anything the CLI would read differently from what a reviewer sees is refused.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { ConfigError, Problem, show } from "../stacks/problems";
import { encryptedPlaceholder, isSecureObject } from "../stacks/secrets";
import { PROJECT_DIR } from "./project";

/** A stack file larger than this is refused before it is parsed (the committed ones are about 3 KB). */
export const STACK_FILE_MAX_BYTES = 1024 * 1024;
/** Values (mappings, lists, scalars) a stack file may hold, and how deep they may nest. */
export const STACK_FILE_MAX_VALUES = 100_000;
export const STACK_FILE_MAX_DEPTH = 64;

/** The `config:` map of a committed Pulumi.<stack>.yaml as plain values (a fresh copy each call). */
export function committedStackConfig(stack: string): Record<string, unknown> {
    return loadConfigMap(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`));
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

const temporaryDirs: string[] = [];

/**
 * Writes a config map as a Pulumi.<stack>.yaml-shaped file in a new temporary directory; returns
 * its path. The directory goes when the process exits.
 */
export function writeTempStackFile(config: Record<string, unknown>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-stack-"));
    if (temporaryDirs.length === 0) process.once("exit", () => temporaryDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
    temporaryDirs.push(dir);
    const file = path.join(dir, "Pulumi.temp.yaml");
    fs.writeFileSync(file, jsyaml.dump({ config }));
    return file;
}

export interface StackFileConfig {
    /** `project:key` → value as a string (structured values as JSON), as in PULUMI_CONFIG. */
    readonly values: Record<string, string>;
    /** Top-level keys that hold a secret anywhere inside them (PULUMI_CONFIG_SECRET_KEYS). */
    readonly secretKeys: string[];
}

/** The stack file as the program sees it; throws a ConfigError naming every problem with the file itself. */
export function readStackFile(file: string): StackFileConfig {
    return pulumiView(loadConfigMap(file), path.basename(file));
}

/**
 * A key as the Node SDK hands it to the program: `ns:config:rest` becomes `ns:rest`, whatever
 * `rest` is (cleanKey in @pulumi/pulumi's runtime/config.js at 3.248, which setAllConfig applies
 * to every key), so that what the plan checks before the SDK loads (plan/preflight.ts) is what
 * the program reads.
 */
function cleanKey(key: string): string {
    const colon = key.indexOf(":");
    return colon > 0 && key.startsWith("config:", colon + 1) ? key.slice(0, colon + 1) + key.slice(colon + 1 + "config:".length) : key;
}

/**
 * A `config:` map as the Pulumi CLI hands it to the program: `secure:` values decrypted (offline:
 * a marked placeholder) and their top-level keys listed as secret, `ns:config:name` keys under
 * their short name `ns:name` (sdk/go/common/resource/config/key.go ParseKey; the Node SDK's cleanKey).
 */
export function pulumiView(config: Record<string, unknown>, where = "the stack file"): StackFileConfig {
    const problems: Problem[] = [];
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [rawKey, value] of Object.entries(config)) {
        const key = cleanKey(rawKey);
        if (Object.hasOwn(values, key)) {
            problems.push({ path: [], at: `${where}: ${show(key)}`, message: "set twice (as ns:key and as ns:config:key); Pulumi would keep one of them at random" });
            continue;
        }
        let secret = false;
        const replaced = replaceSecure(value, key, () => (secret = true), problems, where);
        values[key] = typeof replaced === "string" ? replaced : JSON.stringify(replaced);
        if (secret) secretKeys.push(key);
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return { values, secretKeys };
}

/** The stack file's `config:` map, read within the limits above. */
function loadConfigMap(file: string): Record<string, unknown> {
    const name = path.basename(file);
    const fail = (message: string): never => {
        throw new ConfigError([{ path: [], at: name, message }]);
    };
    const size = fs.statSync(file).size;
    if (size > STACK_FILE_MAX_BYTES) fail(`is ${size} bytes; a stack file may have at most ${STACK_FILE_MAX_BYTES}`);
    let doc: unknown;
    try {
        doc = jsyaml.load(fs.readFileSync(file, "utf8"), { filename: name });
    } catch (e) {
        if (e instanceof jsyaml.YAMLException) {
            // The reason and the place, never js-yaml's snippet of the file (it could quote a secret).
            fail(`not valid YAML at line ${(e.mark?.line ?? 0) + 1}, column ${(e.mark?.column ?? 0) + 1}: ${e.reason}`);
        }
        if (e instanceof RangeError) fail(`nested too deeply to read (more than ${STACK_FILE_MAX_DEPTH} levels)`);
        throw e;
    }
    checkPlainTree(doc, name);
    if (doc === null || doc === undefined) return {};
    if (typeof doc !== "object" || Array.isArray(doc)) fail("expected a mapping with a config: key");
    const config = (doc as { config?: unknown }).config;
    if (config === undefined || config === null) return {};
    if (typeof config !== "object" || Array.isArray(config)) fail("config: must be a mapping of keys to values");
    return asPulumiReadsIt(config) as Record<string, unknown>;
}

/**
 * Refuses YAML aliases (a value reached twice: js-yaml hands out the anchored object itself, so
 * an alias bomb of kilobytes would expand to gigabytes once turned into JSON), too many values
 * and deep nesting. The Pulumi CLI never writes anchors or aliases.
 */
function checkPlainTree(doc: unknown, name: string): void {
    const seen = new Set<object>();
    let count = 0;
    const stack: Array<{ v: unknown; depth: number }> = [{ v: doc, depth: 0 }];
    while (stack.length > 0) {
        const { v, depth } = stack.pop()!;
        if (++count > STACK_FILE_MAX_VALUES) throw new ConfigError([{ path: [], at: name, message: `holds more than ${STACK_FILE_MAX_VALUES} values` }]);
        if (v === null || typeof v !== "object") continue;
        if (depth > STACK_FILE_MAX_DEPTH) throw new ConfigError([{ path: [], at: name, message: `nested deeper than ${STACK_FILE_MAX_DEPTH} levels` }]);
        if (seen.has(v)) {
            throw new ConfigError([{ path: [], at: name, message: "uses a YAML alias (*name); stack files may not use anchors or aliases (an alias can expand a small file into gigabytes, and the Pulumi CLI never writes one)" }]);
        }
        seen.add(v);
        for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: child, depth: depth + 1 });
    }
}

function replaceSecure(v: unknown, at: string, onSecret: () => void, problems: Problem[], where: string): unknown {
    if (isSecureObject(v)) {
        onSecret();
        return encryptedPlaceholder(at);
    }
    if (Array.isArray(v)) return v.map((x, i) => replaceSecure(x, `${at}[${i}]`, onSecret, problems, where));
    if (typeof v === "object" && v !== null) {
        const keys = Object.keys(v);
        // sdk/go/common/resource/config/object.go: maps with the single key "secure" are reserved.
        if (keys.length === 1 && keys[0] === "secure") problems.push({ path: [], at: `${where}: ${show(at)}`, message: "a map whose only key is secure must hold the ciphertext string the Pulumi CLI wrote" });
        const out: Record<string, unknown> = {};
        for (const k of keys) Object.defineProperty(out, k, { value: replaceSecure((v as Record<string, unknown>)[k], `${at}.${k}`, onSecret, problems, where), enumerable: true, writable: true, configurable: true });
        return out;
    }
    return v;
}
