/**
 * A project team's own CDKTF app that joins the egress hub: all it needs from the platform team
 * is the state location of its spoke's port block and its spoke name. It imports the package by name, as an app that
 * installed it does; in this repo, tsconfig `paths` (tsc, tsx) and jest's `moduleNameMapper` map
 * "egresslink" to modules/index.ts, and test/consumer-package.test.ts runs this file in a fresh app
 * that installed the packed tarball.
 *
 *   npx tsx examples/consumer-app/main.ts            # synthesizes into examples/consumer-app/cdktf.out
 *
 * The platform lists the spoke in its config with `external: true` (the hub exposes its port,
 * no spoke stack is made there); here it is project-e of the default example (egress.config.yaml),
 * whose deployment `name` is "egress": every account-wide name below is unique in that account.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { join } from "node:path";
import { EgressSpoke, ServiceEndpoints, type HubStateLocation } from "egresslink";

/**
 * Where the hub contract for this spoke is: the state of its port block (ports 3100-3149 of the
 * default example), which the platform's summary prints for each external spoke.
 */
export const HUB_STATE: HubStateLocation = { bucket: "egresslink-tfstate-example", key: "egresslink/hub-ports-3100.tfstate", region: "ap-northeast-1" };
/** The hub deployment's `name` and this team's spoke name in the platform's config. */
export const DEPLOYMENT_NAME = "egress";
export const SPOKE_NAME = "project-e";

/** Team E's network stack: its existing VPC joins the hub, and gets the AWS endpoints it uses. */
export class TeamNetworkStack extends TerraformStack {
  readonly spoke: EgressSpoke;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    new AwsProvider(this, "aws", { region: HUB_STATE.region, defaultTags: [{ tags: { Team: SPOKE_NAME } }] });
    // The team's own state, beside the hub's but under its own key.
    const backend = new S3Backend(this, { bucket: HUB_STATE.bucket, key: `teams/${SPOKE_NAME}/network.tfstate`, region: HUB_STATE.region, encrypt: true });
    backend.addOverride("use_lockfile", true);

    const vpc = {
      kind: "existing" as const,
      vpcId: "vpc-0e0e0e0e0e0e0e0e0",
      subnetIds: ["subnet-0e0e0e0e0e0e0e0e1", "subnet-0e0e0e0e0e0e0e0e2"],
      routeTableIds: ["rtb-0e0e0e0e0e0e0e0e1"],
    };
    this.spoke = new EgressSpoke(this, "egress", { spokeName: SPOKE_NAME, namePrefix: DEPLOYMENT_NAME, hubState: HUB_STATE, region: HUB_STATE.region, vpc });
    // ServiceEndpoints on its own: the team picks its AWS services.
    new ServiceEndpoints(this, "aws-endpoints", {
      name: `${DEPLOYMENT_NAME}-${SPOKE_NAME}`,
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
  return { app, stack: new TeamNetworkStack(app, `${SPOKE_NAME}-network`) };
}

if (require.main === module) {
  buildConsumerApp().app.synth();
  console.log(`synthesized ${SPOKE_NAME}-network into ${join(__dirname, "cdktf.out")}`);
}
