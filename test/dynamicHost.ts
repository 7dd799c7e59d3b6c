// Pulumi's dynamic provider host, for the gates' providers (components/shared/previewGate.ts):
// - loadProvider: the text of `__provider` loaded as the host's getProvider does
//   (sdk/nodejs/cmd/dynamic-provider/index.ts at v3.248.0: require-from-string, then handler()),
//   with the require-from-string @pulumi/pulumi itself depends on;
// - DynamicHost: the host itself (@pulumi/pulumi's cmd/dynamic-provider, what the engine starts
//   as pulumi-resource-pulumi-nodejs from the project directory), over gRPC on loopback.
import { ChildProcess } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as provider from "@pulumi/pulumi/proto/provider_pb";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import type { GateProvider } from "../components/shared/previewGate";
import { PROJECT_DIR, startPlugin } from "./harness";

const HOST_DIR = path.join(PROJECT_DIR, "node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider");
const requireFromString = require(require.resolve("require-from-string", { paths: [HOST_DIR] })) as (code: string) => { handler(): unknown };

/** The provider a dynamic resource's `__provider` holds, loaded as the host loads it. */
export function loadProvider<T = any>(text: unknown): GateProvider<T> {
    return requireFromString(String(text)).handler() as GateProvider<T>;
}

export interface HostCheck {
    readonly inputs: Record<string, unknown>;
    readonly failures: Array<{ property: string; reason: string }>;
}

export class DynamicHost {
    private constructor(
        private readonly proc: ChildProcess,
        private readonly client: ResourceProviderClient,
    ) {}

    /** Starts the host from the project directory, as the engine does. */
    static async start(): Promise<DynamicHost> {
        const { proc, address } = await startPlugin(HOST_DIR, [], PROJECT_DIR);
        return new DynamicHost(proc, new ResourceProviderClient(address, grpc.credentials.createInsecure()));
    }

    stop(): void {
        this.client.close();
        this.proc.kill();
    }

    check(urn: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<HostCheck> {
        const req = new provider.CheckRequest();
        req.setUrn(urn);
        req.setOlds(Struct.fromJavaScript(olds as never));
        req.setNews(Struct.fromJavaScript(news as never));
        return new Promise((resolve, reject) =>
            this.client.check(req, (e, r) =>
                e ? reject(e) : resolve({ inputs: r.getInputs()!.toJavaScript(), failures: r.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })) }),
            ),
        );
    }

    /** DIFF_UNKNOWN (0), DIFF_NONE (1) or DIFF_SOME (2), and what would be replaced. */
    diff(urn: string, id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<{ changes: number; replaces: string[] }> {
        const req = new provider.DiffRequest();
        req.setUrn(urn);
        req.setId(id);
        req.setOlds(Struct.fromJavaScript(olds as never));
        req.setNews(Struct.fromJavaScript(news as never));
        return new Promise((resolve, reject) => this.client.diff(req, (e, r) => (e ? reject(e) : resolve({ changes: r.getChanges(), replaces: r.getReplacesList() }))));
    }

    create(urn: string, properties: Record<string, unknown>): Promise<{ id: string; properties: Record<string, unknown> }> {
        const req = new provider.CreateRequest();
        req.setUrn(urn);
        req.setProperties(Struct.fromJavaScript(properties as never));
        return new Promise((resolve, reject) => this.client.create(req, (e, r) => (e ? reject(e) : resolve({ id: r.getId(), properties: r.getProperties()!.toJavaScript() }))));
    }
}
