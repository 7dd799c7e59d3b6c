// The stack's configuration as the running Pulumi program sees it (also under the plan's mocks):
// parsed and checked by stacks/parse.ts, with secret values wrapped as Pulumi secrets.
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, RawConfig } from "./parse";
import { ConfigError } from "./problems";
import { StackConfig } from "./schema";

/** The validated configuration, with secret values already wrapped as Pulumi secrets. */
export type LoadedConfig = Omit<StackConfig, "ssh"> & {
    readonly stack: string;
    readonly ssh: Omit<StackConfig["ssh"], "privateKey"> & { readonly privateKey?: pulumi.Output<string> };
};

/** The configuration of the running Pulumi program (also under mocks). */
export function currentRawConfig(): RawConfig {
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
    return {
        values: pulumi.runtime.allConfig(),
        isSecret: (k) => (runtime.isConfigSecret ? runtime.isConfigSecret(k) : false),
    };
}

/** Validates and returns the stack's configuration, or throws a ConfigError listing every problem. */
export function loadStackConfig(stack: string = pulumi.getStack(), raw: RawConfig = currentRawConfig()): LoadedConfig {
    const { config, problems } = parseStackConfig(stack, raw);
    if (problems.length > 0 || !config) throw new ConfigError(problems);
    return {
        ...config,
        stack,
        ssh: {
            ...config.ssh,
            privateKey: config.ssh.privateKey === undefined ? undefined : pulumi.secret(config.ssh.privateKey),
        },
    };
}
