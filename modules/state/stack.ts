import type { Construct } from "constructs";
import type { EgressConfig } from "../config/model";
import { EgressStack } from "../core/stack";
import { spokeStateGrant } from "../spoke/stack";
import { StateBucket } from "./state-bucket";

/** Name of the bootstrap stack that creates the state bucket. */
export const STATE_STACK = "egress-state";

/** Bootstrap stack: the state bucket, itself kept in a local state file. */
export class StateStack extends EgressStack {
  /** The state bucket the stack holds. */
  readonly bucket: StateBucket;

  constructor(scope: Construct, config: EgressConfig) {
    super(scope, STATE_STACK, { region: config.state.region, tags: config.tags, accountId: config.hub.accountId, state: "local" });
    this.bucket = new StateBucket(this, "state-bucket", { bucketName: config.state.bucket, grants: config.spokes.flatMap((spoke) => spokeStateGrant(config, spoke) ?? []) });
  }
}
