import { ENDPOINT_POLICY_MAX_CHARS, policyDocumentProblems } from "../modules/endpoints/policy";
import { editDistance } from "../modules/core/text";
import { endpointIdProblem, ENDPOINT_PRESETS, isKnownEndpointId, KNOWN_ENDPOINT_SERVICES, resolveEndpoints, SERVICE_ID } from "../modules/endpoints/services";

describe("endpoint ids", () => {
  test.each([
    ["ecr-api", "ecr.api"],
    ["ecr_api", "ecr.api"],
    ["ECR.API", "ecr.api"],
    ["ecr-dkr", "ecr.dkr"],
    ["ssm-messages", "ssmmessages"],
    ["ec2message", "ec2messages"],
    ["ec2-messages", "ec2messages"],
    ["secretmanager", "secretsmanager"],
    ["secrets-manager", "secretsmanager"],
    ["dynamo", "dynamodb"],
    ["cloudwatch-logs", "logs"],
    ["cloudwatch", "monitoring"],
    ["eventbridge", "events"],
    ["step-functions", "states"],
    ["kinesis", "kinesis-streams"],
    ["log", "logs"],
    ["erc", "ecr"],
    ["sms", "ssm"],
    ["ecs-agents", "ecs-agent"],
    ["eks-auths", "eks-auth"],
    ["bedrok", "bedrock"],
    ["lamda", "lambda"],
    ["x-ray", "xray"],
    ["sts-fip", "sts-fips"],
    ["codeartifact-api", "codeartifact.api"],
    ["ecr api", "ecr.api"],
    ["ecr!", "ecr"],
    ["cloudwatch-metrics", "monitoring"],
    ["sfn", "states"],
    ["elb", "elasticloadbalancing"],
    ["efs", "elasticfilesystem"],
    ["ses", "email-smtp"],
    ["firehose", "kinesis-firehose"],
    ["systems-manager", "ssm"],
  ])("%s is a near miss of %s", (id, meant) => {
    const problem = endpointIdProblem(id);
    expect(problem?.message).toMatch(new RegExp(`^"${id.replace(/\./g, "\\.")}" is not an endpoint service id; did you mean "${meant.replace(/\./g, "\\.")}"\\?$`));
    expect(problem?.suggestion).toBe(meant);
    expect(endpointIdProblem(meant)).toBeUndefined();
  });

  test.each([
    ["com.amazonaws.ap-northeast-1.ecr.api", "ecr.api"],
    ["com.amazonaws.eu-central-1.ssmmessages", "ssmmessages"],
    ["com.amazonaws.region.logs", "logs"],
    ["com.amazonaws.ecr.dkr", "ecr.dkr"],
    ["cn.com.amazonaws.cn-north-1.ecr.dkr", "ecr.dkr"],
    ["com.amazonaws.eu-west-1.secretmanager", "secretsmanager"],
    ["com.amazonaws.us-east-1.brand-new-service", "brand-new-service"],
  ])("the full service name %s is caught: write %s", (id, serviceId) => {
    const problem = endpointIdProblem(id);
    expect(problem?.message).toMatch(/is a full endpoint service name; write the service id only: "/);
    expect(problem?.suggestion).toBe(serviceId);
    expect(endpointIdProblem(serviceId)).toBeUndefined();
  });

  test.each([
    ["iam", /"iam" cannot be created here: its endpoint service is com\.amazonaws\.iam/],
    ["route53", /its endpoint service is com\.amazonaws\.route53/],
    ["qbusiness", /its endpoint service is aws\.api\.<region>\.qbusiness/],
    ["com.amazonaws.iam", /cannot be created here: egresslink creates com\.amazonaws\.<region>\.<id> only/],
    ["api.ecr.eu-west-1.amazonaws.com", /is a host name; write the endpoint service id instead/],
    ["logs.cn-north-1.amazonaws.com.cn", /is a host name/],
    ["codeartifact", /has several, list the ones you need: codeartifact\.api, codeartifact\.repositories$/],
    ["sagemaker", /list the ones you need: sagemaker\.api, .*sagemaker\.runtime/],
    ["Hello World", /is not an endpoint preset or service id \(like ecr, ssm, logs, sqs\)/],
    ["my/service", /is not an endpoint preset or service id/],
    ["", /is not an endpoint preset or service id/],
  ])("%j is refused without a suggestion", (id, message) => {
    const problem = endpointIdProblem(id);
    expect(problem?.message).toMatch(message);
    expect(problem?.suggestion).toBeUndefined();
  });

  test("a huge id is named, not echoed", () => {
    expect(endpointIdProblem(`${"x".repeat(100_000)}!`)?.message).toMatch(/^"x{80}\.\.\." is not an endpoint preset/);
  });

  test("every preset and every known id is accepted, and known", () => {
    for (const id of [...Object.keys(ENDPOINT_PRESETS), ...KNOWN_ENDPOINT_SERVICES]) {
      expect([id, endpointIdProblem(id)]).toEqual([id, undefined]);
      expect([id, isKnownEndpointId(id)]).toEqual([id, true]);
    }
  });

  test("the known list is sorted, unique, well-formed, and has the common ids", () => {
    expect([...KNOWN_ENDPOINT_SERVICES].sort()).toEqual(KNOWN_ENDPOINT_SERVICES);
    expect(new Set(KNOWN_ENDPOINT_SERVICES).size).toBe(KNOWN_ENDPOINT_SERVICES.length);
    expect(KNOWN_ENDPOINT_SERVICES.filter((id) => !SERVICE_ID.test(id))).toEqual([]);
    const common = "ecr.api ecr.dkr logs monitoring ssm ssmmessages ec2messages ec2 sts kms secretsmanager s3 dynamodb sqs sns events execute-api lambda states elasticloadbalancing autoscaling ecs ecs-agent ecs-telemetry eks eks-auth codeartifact.api codeartifact.repositories codebuild codecommit git-codecommit xray kinesis-streams kinesis-firehose glue athena rds rds-data elasticache sagemaker.api sagemaker.runtime bedrock bedrock-runtime backup cloudformation config ssm-contacts ssm-incidents servicecatalog elasticfilesystem acm-pca application-autoscaling appconfig appconfigdata email-smtp cloudtrail access-analyzer airflow.api airflow.env airflow.ops aps aps-workspaces auditmanager batch ebs";
    expect(common.split(" ").filter((id) => !isKnownEndpointId(id))).toEqual([]);
  });

  test("every known id, miswritten in capitals or with other separators, leads back to itself", () => {
    for (const id of KNOWN_ENDPOINT_SERVICES) {
      expect([id, endpointIdProblem(id.toUpperCase())?.suggestion]).toEqual([id, id]);
      if (/[.-]/.test(id)) expect([id, endpointIdProblem(id.replace(/[.-]/g, "_"))?.suggestion]).toEqual([id, id]);
    }
  });

  test.each(["sqs", "sns", "sts", "ssm", "ec2", "ecs", "eks", "ebs", "logs", "kms", "rds", "ram", "dms", "dlm", "pi", "q", "mq", "ds", "events", "states", "ecs-agent", "eks-auth", "email-smtp", "config", "xray", "s3", "s3tables"])(
    "the real id %s is accepted, though close to others",
    (id) => {
      expect(endpointIdProblem(id)).toBeUndefined();
      expect(isKnownEndpointId(id)).toBe(true);
    },
  );

  test.each(["brand-new-service", "s3express", "ssm-fips", "logs-fips", "timestream.ingest-cell1", "qs", "foo.bar", "constructor"])(
    "the unknown id %s, far from every known one, is accepted but not known",
    (id) => {
      expect(endpointIdProblem(id)).toBeUndefined();
      expect(isKnownEndpointId(id)).toBe(false);
    },
  );

  test("an object's own keys only are presets: constructor is a service id", () => {
    expect(resolveEndpoints(["constructor"])).toEqual({ interface: ["constructor"], gateway: [] });
  });

  test.each([
    ["Statment", "Statement", 1],
    ["ssm", "sms", 1],
    ["kitten", "sitting", 3],
    ["ca", "abc", 3],
    ["", "abc", 3],
    ["same", "same", 0],
  ])("editDistance(%s, %s) is %i", (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe("endpoint policies", () => {
  const allowAll = { Effect: "Allow", Principal: "*", Action: "*", Resource: "*" };
  const policy = (statement: unknown) => ({ Version: "2012-10-17", Statement: [statement] });

  test.each([
    ["the AWS default, full access", { Statement: [allowAll] }, "Interface"],
    ["specific actions for any principal", policy({ Sid: "PullOnly", Effect: "Allow", Principal: "*", Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:Get*"], Resource: "*" }), "Interface"],
    ["NotAction with NotResource", policy({ Effect: "Deny", Principal: "*", NotAction: "s3:GetObject", NotResource: ["arn:aws:s3:::my-bucket/*"] }), "Interface"],
    ["a Condition", policy({ ...allowAll, Condition: { StringEquals: { "aws:PrincipalAccount": ["123456789012"] }, "ForAnyValue:StringLike": { "aws:PrincipalTag/team": "platform-*" }, BoolIfExists: { "aws:SecureTransport": true } } }), "Interface"],
    ["named principals", policy({ Effect: "Allow", Principal: { AWS: ["arn:aws:iam::123456789012:role/app"], Service: "lambda.amazonaws.com" }, Action: "sqs:SendMessage", Resource: "arn:aws:sqs:eu-west-1:123456789012:jobs" }), "Interface"],
    ["one statement, not a list, in the 2008 language", { Version: "2008-10-17", Id: "endpoint", Statement: allowAll }, "Interface"],
    ["a gateway endpoint narrowed by aws:PrincipalArn", policy({ ...allowAll, Condition: { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::123456789012:role/app-*" } } }), "Gateway"],
    ["a gateway endpoint with Principal {AWS: *}", policy({ ...allowAll, Principal: { AWS: "*" } }), "Gateway"],
  ] as const)("accepts %s", (_, doc, type) => {
    expect(policyDocumentProblems(doc, type)).toEqual([]);
  });

  test.each([
    ["not a map", "{}", [], /^must be a policy document \(a map with a "Statement"\), not "\{\}"$/],
    ["a list", [allowAll], [], /must be a policy document .*not a list/],
    ["no Statement", { Version: "2012-10-17" }, ["Statement"], /^is required: a statement, or a list of them, like \{"Effect": "Allow"/],
    ["Statement a string", { Statement: "Allow" }, ["Statement"], /^must be a statement or a list of statements, not "Allow"$/],
    ["Statement an empty list", { Statement: [] }, ["Statement"], /^must list at least one statement/],
    ["a statement that is a string", { Statement: ["Allow *"] }, ["Statement", 0], /^must be a statement \(a map like/],
    ["statement in lower case", { statement: [allowAll] }, ["statement"], /^is not a policy element; did you mean "Statement"\?$/],
    ["Statment", { Statment: [allowAll] }, ["Statment"], /did you mean "Statement"\?$/],
    ["Verison", { Verison: "2012-10-17", Statement: [allowAll] }, ["Verison"], /did you mean "Version"\?$/],
    ["an unknown top-level key", { Rules: [], Statement: [allowAll] }, ["Rules"], /^is not a policy element; use Version, Id or Statement$/],
    ["a statement written at the top", { ...allowAll }, ["Effect"], /^belongs in a statement: move it into "Statement": \[/],
    ["bad Version", { Version: "2012-10-18", Statement: [allowAll] }, ["Version"], /^must be "2012-10-17" \(or the older "2008-10-17"\), not "2012-10-18"$/],
    ["Version as a date", { Version: 20121017, Statement: [allowAll] }, ["Version"], /not 20121017$/],
    ["Efect", policy({ ...allowAll, Effect: undefined, Efect: "Allow" }), ["Statement", 0, "Efect"], /^is not a statement element; did you mean "Effect"\?$/],
    ["Actions", policy({ ...allowAll, Action: undefined, Actions: "*" }), ["Statement", 0, "Actions"], /did you mean "Action"\?$/],
    ["principal in lower case", policy({ ...allowAll, Principal: undefined, principal: "*" }), ["Statement", 0, "principal"], /did you mean "Principal"\?$/],
    ["Conditions", policy({ ...allowAll, Conditions: {} }), ["Statement", 0, "Conditions"], /did you mean "Condition"\?$/],
    ["an unknown statement key", policy({ ...allowAll, Comment: "x" }), ["Statement", 0, "Comment"], /^is not a statement element; use Sid, Effect, .* or Condition$/],
    ["no Effect", policy({ ...allowAll, Effect: undefined }), ["Statement", 0, "Effect"], /^is required: "Allow" or "Deny"$/],
    ["Effect in lower case", policy({ ...allowAll, Effect: "allow" }), ["Statement", 0, "Effect"], /^must be "Allow" or "Deny" \(capitalised\), not "allow"$/],
    ["Effect Permit", policy({ ...allowAll, Effect: "Permit" }), ["Statement", 0, "Effect"], /not "Permit"$/],
    ["Action and NotAction", policy({ ...allowAll, NotAction: "s3:DeleteObject" }), ["Statement", 0, "NotAction"], /^cannot be given with Action/],
    ["neither Action nor NotAction", policy({ ...allowAll, Action: undefined }), ["Statement", 0, "Action"], /^is required \(or NotAction\): the actions the statement covers/],
    ["an action without a service", policy({ ...allowAll, Action: "GetObject" }), ["Statement", 0, "Action"], /^"GetObject" is not an action: write "<service>:<action>"/],
    ["an action with a space", policy({ ...allowAll, Action: ["s3:GetObject", "s3 PutObject"] }), ["Statement", 0, "Action", 1], /^"s3 PutObject" is not an action/],
    ["a number as an action", policy({ ...allowAll, Action: ["s3:GetObject", 42] }), ["Statement", 0, "Action", 1], /^must be an action like "s3:GetObject", not 42$/],
    ["a map as the action", policy({ ...allowAll, Action: { s3: "GetObject" } }), ["Statement", 0, "Action"], /^must be an action like "s3:GetObject" or a list of them, not a map$/],
    ["an empty action list", policy({ ...allowAll, Action: [] }), ["Statement", 0, "Action"], /^must list at least one action/],
    ["no Principal", policy({ ...allowAll, Principal: undefined }), ["Statement", 0, "Principal"], /^is required in an endpoint policy: write "\*"/],
    ["Principal an ARN", policy({ ...allowAll, Principal: "arn:aws:iam::123456789012:root" }), ["Statement", 0, "Principal"], /^must be "\*" or a map like \{"AWS": "arn:aws:iam::123456789012:root"\}/],
    ["a misspelt principal type", policy({ ...allowAll, Principal: { Aws: "arn:aws:iam::123456789012:root" } }), ["Statement", 0, "Principal", "Aws"], /^is not a principal type; did you mean "AWS"\?$/],
    ["Principal and NotPrincipal", policy({ ...allowAll, NotPrincipal: { AWS: "arn:aws:iam::123456789012:root" } }), ["Statement", 0, "NotPrincipal"], /^cannot be given with Principal/],
    ["Resource and NotResource", policy({ ...allowAll, NotResource: "arn:aws:s3:::b" }), ["Statement", 0, "NotResource"], /^cannot be given with Resource/],
    ["a number as the resource", policy({ ...allowAll, Resource: 7 }), ["Statement", 0, "Resource"], /^must be an ARN or "\*" or a list of them, not 7$/],
    ["Condition a list", policy({ ...allowAll, Condition: [] }), ["Statement", 0, "Condition"], /^must be a map of operators to keys and values/],
    ["a condition operator misspelt", policy({ ...allowAll, Condition: { StringEqual: { "aws:PrincipalAccount": "123456789012" } } }), ["Statement", 0, "Condition", "StringEqual"], /^is not a condition operator; did you mean "StringEquals"\?$/],
    ["a prefixed operator misspelt", policy({ ...allowAll, Condition: { "ForAnyValue:StringLikes": { "aws:TagKeys": "a*" } } }), ["Statement", 0, "Condition", "ForAnyValue:StringLikes"], /did you mean "ForAnyValue:StringLike"\?$/],
    ["NullIfExists", policy({ ...allowAll, Condition: { NullIfExists: { "aws:TagKeys": true } } }), ["Statement", 0, "Condition", "NullIfExists"], /^is not a condition operator/],
    ["an operator mapped to a string", policy({ ...allowAll, Condition: { Bool: "true" } }), ["Statement", 0, "Condition", "Bool"], /^must map condition keys to values/],
    ["a condition value that is a map", policy({ ...allowAll, Condition: { StringEquals: { "aws:SourceVpc": { id: "vpc-1" } } } }), ["Statement", 0, "Condition", "StringEquals", "aws:SourceVpc"], /^must be a value or a list of values/],
    ["a wildcard on aws:SourceVpc", policy({ ...allowAll, Condition: { StringLike: { "aws:SourceVpc": "vpc-0abc*" } } }), ["Statement", 0, "Condition", "StringLike", "aws:SourceVpc"], /^cannot hold wildcards in an endpoint policy/],
    ["a numeric operator on aws:PrincipalAccount", policy({ ...allowAll, Condition: { NumericEquals: { "aws:principalaccount": 123456789012 } } }), ["Statement", 0, "Condition", "NumericEquals", "aws:principalaccount"], /^cannot be compared with a numeric operator/],
  ] as const)("refuses %s", (_, doc, path, message) => {
    const problems = policyDocumentProblems(JSON.parse(JSON.stringify(doc)));
    expect(problems).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  test("a misspelt element is not also reported missing", () => {
    expect(policyDocumentProblems({ Statment: [allowAll] })).toHaveLength(1);
    expect(policyDocumentProblems({ Statement: [{ Efect: "Allow", principal: "*", Actions: "*", Resource: "*" }] }).map((p) => p.path)).toEqual([
      ["Statement", 0, "Efect"],
      ["Statement", 0, "principal"],
      ["Statement", 0, "Actions"],
    ]);
  });

  test("a single statement (not a list) is checked at Statement", () => {
    expect(policyDocumentProblems({ Statement: { ...allowAll, Effect: "Maybe" } })).toEqual([{ path: ["Statement", "Effect"], message: expect.stringMatching(/not "Maybe"/) }]);
  });

  test.each([
    ["a named principal", { AWS: "arn:aws:iam::123456789012:role/app" }, "Principal", /^must be "\*" for a gateway endpoint \(s3, dynamodb\): name principals with a Condition on aws:PrincipalArn instead$/],
    ["NotPrincipal", undefined, "NotPrincipal", /^is not allowed for a gateway endpoint: write "Principal": "\*"/],
  ])("a gateway endpoint refuses %s", (_, principal, key, message) => {
    const statement = principal ? { ...allowAll, Principal: principal } : { ...allowAll, Principal: undefined, NotPrincipal: { AWS: "arn:aws:iam::123456789012:root" } };
    const problems = policyDocumentProblems(JSON.parse(JSON.stringify(policy(statement))), "Gateway");
    expect(problems).toEqual([{ path: ["Statement", 0, key], message: expect.stringMatching(message) }]);
    expect(policyDocumentProblems(JSON.parse(JSON.stringify(policy(statement))), "Interface").filter((p) => /gateway/.test(p.message))).toEqual([]);
  });

  test("a gateway endpoint's missing Principal asks for *", () => {
    expect(policyDocumentProblems(policy({ Effect: "Allow", Action: "*", Resource: "*" }), "Gateway")).toEqual([
      { path: ["Statement", 0, "Principal"], message: expect.stringMatching(/^is required in an endpoint policy: write "\*", and narrow it with a Condition on aws:PrincipalArn$/) },
    ]);
  });

  test(`a policy is refused over ${ENDPOINT_POLICY_MAX_CHARS} characters of JSON, accepted at it`, () => {
    const sized = (chars: number) => {
      const doc = { Statement: [{ ...allowAll, Sid: "" }] };
      doc.Statement[0].Sid = "x".repeat(chars - JSON.stringify(doc).length);
      expect(JSON.stringify(doc)).toHaveLength(chars);
      return doc;
    };
    expect(ENDPOINT_POLICY_MAX_CHARS).toBe(20_480);
    expect(policyDocumentProblems(sized(20_480))).toEqual([]);
    expect(policyDocumentProblems(sized(20_481))).toEqual([{ path: [], message: expect.stringMatching(/^is 20481 characters as JSON, over the 20,480 AWS allows in an endpoint policy/) }]);
  });
});
