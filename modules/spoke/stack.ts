import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import type { EgressConfig, SpokeConfig, SpokeVpcConfig } from "../config/model";
import { EgressStack } from "../core/stack";
import { HUB_STACK } from "../hub/stack";
import { stateKey } from "../state/backend";
import { EgressSpoke } from "./egress-spoke";
import { renderDockerDropIn, renderEcsEnvironment, renderEnvironmentFile, renderKubernetesEnv } from "./proxy-settings";

/** Name of a spoke's stack (and of its state file). */
export function spokeStackName(spokeName: string): string {
  return `spoke-${spokeName}`;
}

/** One project VPC's stack: its {@link EgressSpoke}, state in S3, the hub read from the hub's state. */
export class SpokeStack extends EgressStack {
  readonly spoke: EgressSpoke;

  constructor(scope: Construct, config: EgressConfig, spoke: SpokeConfig & { readonly vpc: SpokeVpcConfig }) {
    super(scope, spokeStackName(spoke.name), {
      region: config.hub.region,
      tags: { ...config.tags, "egresslink:spoke": spoke.name },
      accountId: spoke.accountId ?? config.hub.accountId,
      roleArn: spoke.roleArn,
      state: config.state,
    });
    this.spoke = new EgressSpoke(this, "spoke", {
      spokeName: spoke.name,
      namePrefix: config.name,
      region: config.hub.region,
      vpc: spoke.vpc,
      hubState: { bucket: config.state.bucket, key: stateKey(config.state.keyPrefix, HUB_STACK), region: config.state.region, roleArn: config.state.roleArn },
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
