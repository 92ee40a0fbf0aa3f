/**
 * egresslink public API. Import constructs from here in your own CDKTF app; provider classes
 * are always imported by deep path (`@cdktf/provider-aws/lib/<resource>`) to keep synth fast.
 */
export { buildApp, buildStacks, type EgressStacks } from "./app/build";
export { runCli, type CliIo } from "./app/cli";
export { OutputRefusedError, synthesizeTo, type SynthesisResult, type SynthesizeOptions } from "./app/synth";
export { ConfigError, type ConfigIssue } from "./config/errors";
export { configJsonSchema } from "./config/json-schema";
export { DEFAULT_CONFIG_FILE, loadConfigFile, parseConfigText, validateConfig } from "./config/load";
export type { EgressConfig, ExistingVpcConfig, ExternalSpokeVpc, HubConfig, InterconnectConfig, InterconnectSiteConfig, NewVpcConfig, ProxyConfig, SpokeConfig, SpokeVpcConfig, StateConfig, ZonePlacement } from "./config/model";
export { configSchema, LATTICE_NAME, LOG_RETENTION_DAYS, type EgressConfigInput } from "./config/schema";
export {
  amazonLinux2023Image,
  checkUserDataSize,
  hardenedLaunchSettings,
  isGravitonType,
  managedInstanceRole,
  selfHealingGroup,
  USER_DATA_LIMIT_BYTES,
  type ManagedInstanceRoleProps,
  type SelfHealingGroupProps,
} from "./core/instance";
export { EgressStack, type EgressStackProps } from "./core/stack";
export { ServiceEndpoints, type ServiceEndpointsProps } from "./endpoints/service-endpoints";
export { awsDnsSuffix, ENDPOINT_PRESETS, endpointServiceName, resolveEndpoints, serviceDomains, type EndpointSet, type GatewayService } from "./endpoints/services";
export { HUB_OUTPUT_DESCRIPTIONS, type HubOutputName, type HubOutputs } from "./hub/contract";
export { EgressHub, type EgressHubProps, type HubSpoke } from "./hub/egress-hub";
export { HubRemoteState, type HubStateLocation } from "./hub/remote-state";
export { HUB_STACK, HubStack } from "./hub/stack";
export { Interconnect, type InterconnectProps } from "./interconnect/interconnect";
export {
  INSIDE_POOL,
  insideAddresses,
  planInterconnect,
  PlanError,
  TRANSLATION_POOL,
  type PlanInput,
  type SiteInput,
  type SitePlan,
} from "./interconnect/planner";
export { IPSEC, routerParams, TUNNEL_INTERFACES, type RouterEndpoints, type RouterParams, type TunnelParams } from "./interconnect/router-config";
export { renderLinuxRouter, renderLinuxRouterUserData, ROUTER_ENI_TAG, type LinuxRouterFiles, type LinuxRouterUserDataInput } from "./interconnect/router-linux";
export { renderVyosCommands, renderVyosUserData } from "./interconnect/router-vyos";
export { INTERCONNECT_STACK, InterconnectStack } from "./interconnect/stack";
export { cidrContains, cidrHasIp, cidrHost, cidrsOverlap, cidrSubnet, parseCidr } from "./network/cidr";
export { EgressVpc, type EgressVpcProps } from "./network/egress-vpc";
export { carvePrivateSubnets, carvePublicSubnets } from "./network/layout";
export { domainCovers, domainEntryProblem, domainListProblems } from "./proxy/domains";
export { encodeProxyConfig, PROXY_CONFIG_MAX_BYTES, proxyConfigValue } from "./proxy/config-delivery";
export { ProxyFleet, type ProxyFleetProps, type ProxyTarget } from "./proxy/fleet";
export { PORT_BLOCK_SIZE, portBlocks, type PortBlock } from "./proxy/port-blocks";
export {
  ACCESS_LOG_FORMAT,
  DENIED_DESTINATIONS,
  deniedDestinations,
  hubSquidConf,
  PROXY_HEALTH_PORT,
  renderSquidConf,
  type ProxyListener,
  type SquidConfInput,
} from "./proxy/squid-conf";
export {
  renderAgentConfig,
  renderAttachEniScript,
  renderLogDaemon,
  renderPortCheckScript,
  renderProxyUserData,
  renderSyncScript,
  SPOKE_PORT_METRIC,
  type ProxyUserDataInput,
} from "./proxy/user-data";
export { EgressSpoke, PROXY_SETTINGS_TAG, spokeParameterNames, type EgressSpokeProps } from "./spoke/egress-spoke";
export {
  ALWAYS_DIRECT,
  noProxyEntries,
  renderApplyScript,
  renderDnfProxy,
  renderDockerDropIn,
  renderEcsEnvironment,
  renderEnvironmentFile,
  renderKubernetesEnv,
  type NoProxyInput,
  type ProxySettings,
} from "./spoke/proxy-settings";
export { SpokeStack, spokeStackName } from "./spoke/stack";
export { stateKey, useS3Backend, type StateLocation } from "./state/backend";
export { StateBucket, type StateBucketProps } from "./state/state-bucket";
export { STATE_STACK, StateStack } from "./state/stack";
