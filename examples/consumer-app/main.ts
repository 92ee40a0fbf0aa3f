/**
 * A project team's own CDKTF app that joins the egress hub: all it needs from the platform team
 * is the hub's state location and its spoke name. In a real app, import from "egresslink".
 *
 *   npx tsx examples/consumer-app/main.ts            # synthesizes into examples/consumer-app/cdktf.out
 *
 * The platform lists the spoke in its config with `external: true` (the hub exposes its port,
 * no spoke stack is made there); here it is project-d of the default example.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { join } from "node:path";
import { EgressSpoke, ServiceEndpoints, type HubStateLocation } from "../../modules";

/** Where the platform team's hub keeps its state: the default example's bucket and key. */
export const HUB_STATE: HubStateLocation = { bucket: "egresslink-tfstate-example", key: "egresslink/hub.tfstate", region: "ap-northeast-1" };

/** Team D's network stack: its existing VPC joins the hub, and gets the AWS endpoints it uses. */
export class TeamNetworkStack extends TerraformStack {
  readonly spoke: EgressSpoke;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    new AwsProvider(this, "aws", { region: HUB_STATE.region, defaultTags: [{ tags: { Team: "project-d" } }] });
    // The team's own state, beside the hub's but under its own key.
    const backend = new S3Backend(this, { bucket: HUB_STATE.bucket, key: "teams/project-d/network.tfstate", region: HUB_STATE.region, encrypt: true });
    backend.addOverride("use_lockfile", true);

    const vpc = {
      kind: "existing" as const,
      vpcId: "vpc-0d0d0d0d0d0d0d0d0",
      subnetIds: ["subnet-0d0d0d0d0d0d0d0d1", "subnet-0d0d0d0d0d0d0d0d2"],
      routeTableIds: ["rtb-0d0d0d0d0d0d0d0d1"],
    };
    this.spoke = new EgressSpoke(this, "egress", { spokeName: "project-d", hubState: HUB_STATE, region: HUB_STATE.region, vpc });
    // ServiceEndpoints on its own: the team picks its AWS services.
    new ServiceEndpoints(this, "aws-endpoints", {
      name: "project-d",
      region: HUB_STATE.region,
      vpcId: this.spoke.vpcId,
      vpcCidr: this.spoke.vpcCidr,
      subnetIds: vpc.subnetIds,
      routeTableIds: vpc.routeTableIds,
      services: ["ecr", "logs", "secretsmanager"],
    });
    new TerraformOutput(this, "proxy_url", { value: this.spoke.settings.proxyUrl });
    new TerraformOutput(this, "no_proxy", { value: this.spoke.settings.noProxy });
  }
}

/** The app, writing to `outdir`. */
export function buildConsumerApp(outdir = join(__dirname, "cdktf.out")): { app: App; stack: TeamNetworkStack } {
  const app = new App({ outdir, stackTraces: false });
  return { app, stack: new TeamNetworkStack(app, "project-d-network") };
}

if (require.main === module) {
  buildConsumerApp().app.synth();
  console.log(`synthesized project-d-network into ${join(__dirname, "cdktf.out")}`);
}
