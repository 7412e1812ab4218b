import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';

export interface KafkaNetworkProps {
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly availabilityZones: readonly string[];
  /** Private subnets that reach the brokers and the AWS APIs (NAT or VPC endpoints). */
  readonly subnetIds: readonly string[];
  /** Where the brokers are: egress to the Kafka ports is allowed to these CIDRs only. Default: the VPC CIDR. */
  readonly kafkaCidrs?: readonly string[];
  /** Broker ports, from the bootstrap servers. */
  readonly kafkaPorts: readonly number[];
  /** Existing security groups to attach too (e.g. one the brokers admit). */
  readonly securityGroupIds?: readonly string[];
  /**
   * Where HTTPS (the AWS APIs) may go. Default: anywhere (through NAT to the public endpoints). With VPC endpoints,
   * name the VPC CIDR (interface endpoints) and the S3 gateway endpoint's prefix list, and nothing else is reachable.
   */
  readonly httpsEgress?: { readonly cidrs?: readonly string[]; readonly prefixListIds?: readonly string[] };
}

/**
 * Where the workflows' Lambdas and Fargate tasks run: the Kafka cluster's VPC, imported from attributes (no
 * lookup, so `cdk synth` needs no AWS credentials), a security group that may only reach the brokers' ports and
 * HTTPS (AWS APIs: S3, Secrets Manager, Step Functions, CloudWatch Logs), and an ECS cluster for the Fargate tasks.
 */
export class KafkaNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.SecurityGroup;
  readonly securityGroups: ec2.ISecurityGroup[];
  readonly cluster: ecs.Cluster;

  constructor(scope: Construct, id: string, props: KafkaNetworkProps) {
    super(scope, id);
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: props.vpcId,
      vpcCidrBlock: props.vpcCidr,
      availabilityZones: [...props.availabilityZones],
      privateSubnetIds: [...props.subnetIds],
    });
    this.vpcSubnets = {
      subnets: props.subnetIds.map((subnetId, i) => ec2.Subnet.fromSubnetId(this, `Subnet${i}`, subnetId)),
    };

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: 'kafka-backup workflows: egress to the Kafka brokers and to AWS APIs over HTTPS only',
      allowAllOutbound: false,
    });
    const https = props.httpsEgress;
    if (!https || ((https.cidrs ?? []).length === 0 && (https.prefixListIds ?? []).length === 0)) {
      this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs over HTTPS');
    } else {
      for (const cidr of https.cidrs ?? [])
        this.securityGroup.addEgressRule(
          ec2.Peer.ipv4(cidr),
          ec2.Port.tcp(443),
          'AWS APIs over HTTPS (endpoints)',
        );
      for (const pl of https.prefixListIds ?? [])
        this.securityGroup.addEgressRule(
          ec2.Peer.prefixList(pl),
          ec2.Port.tcp(443),
          'AWS APIs over HTTPS (prefix list)',
        );
    }
    for (const cidr of props.kafkaCidrs ?? [props.vpcCidr]) {
      for (const port of [...new Set(props.kafkaPorts)].sort((a, b) => a - b)) {
        this.securityGroup.addEgressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(port), `Kafka brokers (${port})`);
      }
    }
    this.securityGroups = [
      this.securityGroup,
      ...(props.securityGroupIds ?? []).map((sgId, i) =>
        ec2.SecurityGroup.fromSecurityGroupId(this, `Extra${i}`, sgId, { mutable: false }),
      ),
    ];

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      enableFargateCapacityProviders: true,
    });
  }
}

/** The ports of `host:port` bootstrap servers. */
export function portsOf(bootstrapServers: readonly string[]): number[] {
  return bootstrapServers.map((server) => Number(/:(\d+)$/.exec(server)?.[1] ?? 9092));
}
