// Where the project is: the folder of Pulumi.yaml, whether this code runs as TypeScript from
// the source tree or compiled from bin/ (plan/build.js).
import * as fs from "fs";
import * as path from "path";

function projectDir(): string {
    for (let dir = __dirname; ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
        if (path.dirname(dir) === dir) throw new Error(`no Pulumi.yaml above ${__dirname}`);
    }
}

/** The folder of Pulumi.yaml and the committed Pulumi.<stack>.yaml files. */
export const PROJECT_DIR = projectDir();
