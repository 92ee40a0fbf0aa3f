import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import type { EgressConfig, SpokeConfig, SpokeVpcConfig } from "../config/model";
import { EgressStack } from "../core/stack";
import type { HubStateLocation } from "../hub/remote-state";
import { cloudWorkspace, stackStateReader, stackWorkspacePrefix, stateKey, type CloudWorkspace, type StateLocation } from "../state/backend";
import type { StateKeyGrant } from "../state/state-bucket";
import { EgressSpoke } from "./egress-spoke";
import { renderDockerDropIn, renderEcsEnvironment, renderEnvironmentFile, renderKubernetesEnv } from "./proxy-settings";
import { spokeHubStack, spokeStackName } from "../core/stack-names";

/**
 * One project VPC's stack: its {@link EgressSpoke}, its own state (S3 or workspace), the hub read
 * from its port block's state (`hub-ports-<first port>`, see `HubPortBlockStack`).
 * A retired spoke's stack keeps only the provider and the backend (same state key): deploying it
 * destroys everything its state holds, while the hub still serves the spoke's port.
 */
export class SpokeStack extends EgressStack {
  /** The spoke's resources; undefined when the spoke is retired. */
  readonly spoke?: EgressSpoke;

  constructor(scope: Construct, config: EgressConfig, spoke: SpokeConfig & { readonly vpc: SpokeVpcConfig }) {
    const state = spokeStateAccess(config, spoke);
    super(scope, spokeStackName(spoke.name), {
      region: config.hub.region,
      tags: { ...config.tags, "egresslink:spoke": spoke.name },
      accountId: spoke.accountId ?? config.hub.accountId,
      roleArn: spoke.roleArn,
      state: state.own,
    });
    if (spoke.retired) return;
    this.spoke = new EgressSpoke(this, "spoke", {
      spokeName: spoke.name,
      namePrefix: config.name,
      region: config.hub.region,
      vpc: spoke.vpc,
      hubState: state.hub,
      proxyDnsName: spoke.proxyDnsName,
      endpoints: spoke.endpoints,
      endpointPolicies: spoke.endpointPolicies,
      noProxy: spoke.noProxy,
      applyProxySettings: spoke.applyProxySettings,
      // Inside the hub's organization (with RAM sharing on) shares need no acceptance.
      acceptResourceShare: spoke.accountId !== undefined && !config.hub.ramWithinOrganization,
    });
    const { settings } = this.spoke;
    const outputs = {
      vpc_id: { value: this.spoke.vpcId, description: "The spoke VPC" },
      endpoint_id: { value: this.spoke.endpoint.id, description: "The Resource endpoint to the hub's proxy" },
      endpoint_network_interface_ids: { value: this.spoke.endpoint.networkInterfaceIds, description: "ENIs of the endpoint" },
      proxy_port: { value: this.spoke.proxyPort, description: "The spoke's proxy port" },
      proxy_dns_name: { value: this.spoke.proxyDnsName, description: "The proxy's name in this VPC" },
      proxy_url: { value: settings.proxyUrl, description: "HTTP_PROXY / HTTPS_PROXY for workloads in this VPC" },
      no_proxy: { value: settings.noProxy, description: "NO_PROXY for workloads in this VPC (computed)" },
      proxy_settings_document: { value: this.spoke.applyDocument.name, description: "SSM document applying the settings on an instance" },
      etc_environment: { value: renderEnvironmentFile(settings), description: "Lines for /etc/environment" },
      docker_dropin: { value: renderDockerDropIn(settings), description: "/etc/systemd/system/docker.service.d/http-proxy.conf" },
      ecs_environment: { value: renderEcsEnvironment(settings), description: "ECS container definition environment (JSON)" },
      kubernetes_env: { value: renderKubernetesEnv(settings), description: "Kubernetes container env (YAML)" },
    };
    for (const [key, output] of Object.entries(outputs)) new TerraformOutput(this, key, output);
  }
}

/**
 * What the state bucket's policy grants a spoke in another account that reaches the state with its
 * own role (no `state.roleArn`): its own state key and workspace prefix, and the hub's key to read.
 * undefined: the spoke uses `state.roleArn` or the caller's credentials.
 */
export function spokeStateGrant(config: EgressConfig, spoke: SpokeConfig): StateKeyGrant | undefined {
  const { state } = config;
  // accountId is set only for a spoke in another account than the hub's.
  const roleArn = spoke.roleArn;
  if (state.backend !== "s3" || state.roleArn !== undefined || spoke.accountId === undefined || !roleArn) return undefined;
  const stack = spokeStackName(spoke.name);
  return { roleArn, stateKey: stateKey(state.keyPrefix, stack), workspaceKeyPrefix: stackWorkspacePrefix(state.keyPrefix, stack), readKeys: [stateKey(state.keyPrefix, spokeHubStack(spoke))] };
}

/**
 * How a spoke's stack reaches its own state and the hub's. S3: with `state.roleArn`, its granted
 * role, or the caller's credentials. Cloud: its own workspace, and the hub's workspace's outputs
 * (the hub workspace must share its state with the spoke's: see the README).
 */
function spokeStateAccess(config: EgressConfig, spoke: SpokeConfig): { readonly own: StateLocation | CloudWorkspace; readonly hub: HubStateLocation | CloudWorkspace } {
  const { state } = config;
  const stack = spokeStackName(spoke.name);
  if (state.backend === "cloud") return { own: cloudWorkspace(state, config.name, stack), hub: stackStateReader(config, spokeHubStack(spoke)) };
  const grant = spokeStateGrant(config, spoke);
  const access = { roleArn: state.roleArn ?? grant?.roleArn, workspaceKeyPrefix: grant?.workspaceKeyPrefix };
  const { bucket, region, keyPrefix } = state;
  return { own: { bucket, region, keyPrefix, ...access }, hub: stackStateReader(config, spokeHubStack(spoke), access) };
}
