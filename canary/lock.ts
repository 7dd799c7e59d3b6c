// One progression run per stack at a time: a lock file beside the stack file, created
// exclusively (O_EXCL), holding who took it. A lock left by a process that no longer runs on
// this machine is stale and taken over; one from another machine is never guessed about.
import * as fs from "fs";
import * as os from "os";

export interface LockOwner {
    readonly pid: number;
    readonly host: string;
    readonly since: string;
}

export class LockHeld extends Error {
    constructor(
        readonly file: string,
        readonly owner?: LockOwner,
        what = "canary",
    ) {
        super(
            owner
                ? `another ${what} run holds ${file} (pid ${owner.pid} on ${owner.host}, since ${owner.since}); if that run is gone, remove the file`
                : `another ${what} run holds ${file}; if that run is gone, remove the file`,
        );
    }
}

export function lockFileFor(stackFile: string): string {
    return `${stackFile}.canary.lock`;
}

/** Whether a process of this machine with that pid runs. */
export function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        // EPERM: it runs, as someone else.
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}

function readOwner(file: string): LockOwner | undefined {
    try {
        const o = JSON.parse(fs.readFileSync(file, "utf8")) as LockOwner;
        return Number.isInteger(o.pid) && typeof o.host === "string" ? o : undefined;
    } catch {
        return undefined;
    }
}

export interface Lock {
    readonly file: string;
    /** A lock that was taken over from a dead process, for the log. */
    readonly tookOverFrom?: LockOwner;
    release(): void;
}

/** `what` names the kind of run in the message (the roll uses the same lock, npm run roll). */
export function acquireLock(file: string, what = "canary"): Lock {
    const me: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
    let tookOverFrom: LockOwner | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
        try {
            fs.writeFileSync(file, `${JSON.stringify(me)}\n`, { flag: "wx", mode: 0o644 });
            let released = false;
            return {
                file,
                tookOverFrom,
                release: () => {
                    if (released) return;
                    released = true;
                    // Only our own lock is removed.
                    if (readOwner(file)?.pid === me.pid) fs.rmSync(file, { force: true });
                },
            };
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        }
        const owner = readOwner(file);
        if (attempt === 0 && owner && owner.host === me.host && owner.pid !== me.pid && !alive(owner.pid)) {
            tookOverFrom = owner;
            fs.rmSync(file, { force: true });
            continue;
        }
        throw new LockHeld(file, owner, what);
    }
    throw new LockHeld(file, readOwner(file), what);
}
