import type { Construct } from "constructs";
import type { EgressConfig, S3StateConfig } from "../config/model";
import { EgressStack } from "../core/stack";
import { spokeStateGrant } from "../spoke/stack";
import { StateBucket } from "./state-bucket";
import { STATE_STACK } from "../core/stack-names";

/** Bootstrap stack: the state bucket, itself kept in a local state file. */
export class StateStack extends EgressStack {
  /** The state bucket the stack holds. */
  readonly bucket: StateBucket;

  constructor(scope: Construct, config: EgressConfig & { readonly state: S3StateConfig }) {
    super(scope, STATE_STACK, { region: config.state.region, tags: config.tags, accountId: config.hub.accountId, state: "local" });
    this.bucket = new StateBucket(this, "state-bucket", { bucketName: config.state.bucket, grants: config.spokes.flatMap((spoke) => spokeStateGrant(config, spoke) ?? []) });
  }
}
