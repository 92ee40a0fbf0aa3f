import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import type { EgressConfig, SpokeConfig } from "../config/model";
import { EgressStack } from "../core/stack";
import { HUB_STACK } from "../hub/stack";
import { stateKey } from "../state/backend";
import { EgressSpoke } from "./egress-spoke";

/** Name of a spoke's stack (and of its state file). */
export function spokeStackName(spokeName: string): string {
  return `spoke-${spokeName}`;
}

/** One project VPC's stack: its {@link EgressSpoke}, state in S3, the hub read from the hub's state. */
export class SpokeStack extends EgressStack {
  readonly spoke: EgressSpoke;

  constructor(scope: Construct, config: EgressConfig, spoke: SpokeConfig) {
    super(scope, spokeStackName(spoke.name), {
      region: config.hub.region,
      tags: { ...config.tags, "egresslink:spoke": spoke.name },
      accountId: spoke.accountId ?? config.hub.accountId,
      state: config.state,
    });
    this.spoke = new EgressSpoke(this, "spoke", {
      spokeName: spoke.name,
      namePrefix: config.name,
      vpc: spoke.vpc,
      hubState: { bucket: config.state.bucket, key: stateKey(config.state.keyPrefix, HUB_STACK), region: config.state.region },
    });
    const outputs = {
      vpc_id: { value: this.spoke.vpcId, description: "The spoke VPC" },
      endpoint_id: { value: this.spoke.endpoint.id, description: "The Resource endpoint to the hub's proxy" },
      endpoint_network_interface_ids: { value: this.spoke.endpoint.networkInterfaceIds, description: "ENIs of the endpoint: the proxy's addresses in this VPC" },
      proxy_port: { value: this.spoke.proxyPort, description: "The spoke's proxy port" },
    };
    for (const [key, output] of Object.entries(outputs)) new TerraformOutput(this, key, output);
  }
}
