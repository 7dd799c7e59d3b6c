// Scripts live as bash files next to the component that runs them. Rendering puts their
// parameters, shell-quoted, right after `set -euo pipefail`; the body stays as written,
// so the same file is shellchecked and executed in tests.
import * as fs from "fs";
import * as path from "path";

export type ScriptParam = string | number | boolean | ReadonlyArray<string>;

/** A string as one single-quoted shell word. */
export function shellQuote(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

const STRICT = "set -euo pipefail";

/** The heredoc delimiter bashCommand wraps a script in. */
const DELIMITER = "OSLO_MESH_SCRIPT";

/**
 * Why a parameter value cannot be carried intact, or undefined. Single quotes carry anything
 * else: bash cannot hold a NUL in a variable (it would cut the value short), and a line equal
 * to the heredoc delimiter would end the script early when it is sent with bashCommand.
 */
function unsafeValue(v: string): string | undefined {
    if (v.includes("\0")) return "holds a NUL character";
    if (v.split(/\r?\n/).includes(DELIMITER)) return `holds the line ${DELIMITER}`;
    return undefined;
}

// A fragment beside the script, or relative to it (e.g. ../verified-download.sh).
const INCLUDE = /^# oslo-mesh:include ((?:\.\.\/)*[\w.-]+)$/gm;

/**
 * The script at `file` with `readonly NAME=value` lines for every parameter, and every
 * `# oslo-mesh:include FRAGMENT` line replaced by that fragment (a file beside it).
 */
export function renderScript(file: string, params: Readonly<Record<string, ScriptParam>>): string {
    const body = fs.readFileSync(file, "utf8").replace(INCLUDE, (_, fragment: string) => fs.readFileSync(path.join(path.dirname(file), fragment), "utf8").trimEnd());
    const at = body.indexOf(`${STRICT}\n`);
    if (!body.startsWith("#!/usr/bin/env bash\n") || at < 0) throw new Error(`${file} must start with #!/usr/bin/env bash and hold '${STRICT}'`);
    const lines = Object.keys(params)
        .sort()
        .map((name) => {
            if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`bad parameter name ${name}`);
            const v = params[name];
            for (const item of Array.isArray(v) ? v : [String(v)]) {
                const why = unsafeValue(item);
                if (why) throw new Error(`${path.basename(file)}: parameter ${name} ${why}`);
            }
            const value = Array.isArray(v) ? `(${v.map(shellQuote).join(" ")})` : shellQuote(String(v));
            // A literal `$` in a value is meant for the node (e.g. a config file); say so to shellcheck.
            const literal = value.includes("$") ? "# shellcheck disable=SC2016 # literal text, not expanded here\n" : "";
            return `${literal}readonly ${name}=${value}`;
        });
    const end = at + STRICT.length + 1;
    return body.slice(0, end) + (lines.length ? lines.join("\n") + "\n" : "") + body.slice(end);
}

/**
 * A command line that runs `script` with bash on a host whose login shell may be sh,
 * keeping standard input free for secrets. With `sudo`, it runs as root; `keepEnv` names
 * session variables the script reads that sudo would drop (e.g. SSH_CLIENT). The script's
 * temporary file goes on every exit, also when the run is cancelled (INT, TERM) or its SSH
 * session drops (HUP); the exit status is the script's.
 */
export function bashCommand(script: string, opts: { sudo: boolean; keepEnv?: ReadonlyArray<string> }): string {
    if (script.split("\n").includes(DELIMITER)) throw new Error(`a script must not contain the line ${DELIMITER}`);
    const keep = (opts.keepEnv ?? []).map((v) => {
        if (!/^[A-Z][A-Z0-9_]*$/.test(v)) throw new Error(`bad variable name ${v}`);
        return ` ${v}="$${v}"`;
    });
    const run = opts.sudo ? (keep.length ? `sudo -n env${keep.join("")} bash "$f"` : `sudo -n bash "$f"`) : `bash "$f"`;
    return [
        `f=$(mktemp) && trap 'rm -f "$f"' EXIT && trap 'exit 129' HUP && trap 'exit 130' INT && trap 'exit 143' TERM && cat >"$f" <<'${DELIMITER}'`,
        script.endsWith("\n") ? script.slice(0, -1) : script,
        DELIMITER,
        run,
        "",
    ].join("\n");
}
