// A chart as files in memory: read from the released package (.tgz) or a directory, and
// written to a directory for Helm. Only regular files with plain relative paths are taken:
// a package with links, absolute paths or `..` is refused, never unpacked onto the disk.
import * as fs from "fs";
import * as path from "path";
import * as tar from "tar";
import { ChartFiles } from "./manifest";

/** Far above the 1.3.3 package (about 100 KiB); a guard against a wrong or hostile download. */
export const MAX_PACKAGE_BYTES = 16 * 2 ** 20;

function checkRelative(file: string, where: string): void {
    if (file === "" || path.posix.isAbsolute(file) || file.split("/").some((s) => s === ".." || s === "." || s === "")) {
        throw new Error(`${where}: refusing the entry ${JSON.stringify(file)} (not a plain relative path)`);
    }
}

/** The files of a Helm chart package: every entry must be a regular file under `<chart>/`. */
export async function readChartPackage(archive: Buffer, chart: string, where: string): Promise<Map<string, Buffer>> {
    if (archive.length > MAX_PACKAGE_BYTES) throw new Error(`${where}: ${archive.length} bytes, more than a chart package holds`);
    const files = new Map<string, Buffer>();
    const problems: string[] = [];
    let total = 0;
    await new Promise<void>((resolve, reject) => {
        const parser = new tar.Parser({
            strict: true,
            onReadEntry: (entry) => {
                const name = entry.path.replace(/\/$/, "");
                if (entry.type === "Directory") return entry.resume();
                if (entry.type !== "File" && entry.type !== "OldFile") {
                    problems.push(`refusing the ${entry.type} entry ${JSON.stringify(entry.path)}: a chart package holds regular files only`);
                    return entry.resume();
                }
                if (!name.startsWith(`${chart}/`)) {
                    problems.push(`refusing the entry ${JSON.stringify(entry.path)}: not under ${chart}/`);
                    return entry.resume();
                }
                const rel = name.slice(chart.length + 1);
                try {
                    checkRelative(rel, where);
                } catch (e) {
                    problems.push((e as Error).message);
                    return entry.resume();
                }
                const chunks: Buffer[] = [];
                entry.on("data", (c: Buffer) => {
                    total += c.length;
                    if (total <= MAX_PACKAGE_BYTES) chunks.push(c);
                });
                entry.on("end", () => {
                    if (files.has(rel)) problems.push(`${where}: ${rel} appears twice`);
                    files.set(rel, Buffer.concat(chunks));
                });
            },
        });
        parser.on("error", (e: Error) => reject(new Error(`${where}: not a chart package (${e.message})`)));
        parser.on("end", () => resolve());
        parser.end(archive);
    });
    if (total > MAX_PACKAGE_BYTES) problems.push(`${where}: unpacks to more than ${MAX_PACKAGE_BYTES} bytes`);
    if (files.size === 0) problems.push(`${where}: no ${chart}/ files in it`);
    if (problems.length) throw new Error(problems.map((p) => (p.startsWith(where) ? p : `${where}: ${p}`)).join("\n"));
    return files;
}

/** Every regular file under a directory (symbolic links are refused). */
export function readChartDir(dir: string): Map<string, Buffer> {
    const files = new Map<string, Buffer>();
    const walk = (rel: string) => {
        for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
            const child = rel ? `${rel}/${entry.name}` : entry.name;
            if (entry.isDirectory()) walk(child);
            else if (entry.isFile()) files.set(child, fs.readFileSync(path.join(dir, child)));
            else throw new Error(`${path.join(dir, child)}: not a regular file`);
        }
    };
    walk("");
    return files;
}

/** Writes the files into a new directory `dir` (which must not exist), atomically: a sibling is filled first, then renamed. */
export function writeChartDir(dir: string, files: ChartFiles): void {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const staging = fs.mkdtempSync(`${dir}.partial-`);
    try {
        for (const [file, content] of files) {
            checkRelative(file, staging);
            fs.mkdirSync(path.join(staging, path.dirname(file)), { recursive: true });
            fs.writeFileSync(path.join(staging, file), content, { mode: 0o644 });
        }
        fs.renameSync(staging, dir);
    } catch (e) {
        fs.rmSync(staging, { recursive: true, force: true });
        throw e;
    }
}
