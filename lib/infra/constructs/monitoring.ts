import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { EMF_NAMESPACE } from '../../metrics/emf.ts';
import { LABELS, METRICS, type MetricKey, UNKNOWN_CLUSTER } from '../../metrics/names.ts';
import { BackupReplication, type ReplicationRuleInfo } from './replication.ts';

/*
 * The alerts of the guide's PrometheusRule (deploy/monitoring/prometheus-rules.yaml) as CloudWatch alarms on the
 * metrics the Lambdas emit as CloudWatch EMF (namespace KafkaBackup, lib/metrics), and its Grafana panels as a
 * CloudWatch dashboard. Counters are EMF deltas (read with Sum), gauges values (Maximum).
 */

/** An EMF metric of the catalogue, with its CloudWatch dimensions (LABELS' emfName). */
export function emfMetric(
  key: MetricKey,
  labels: { source_cluster_id?: string; target_cluster_id?: string; outcome?: 'success' | 'failure' },
  options: { statistic: string; period: Duration; label?: string; region?: string },
): cloudwatch.Metric {
  const dimensionsMap: Record<string, string> = {};
  for (const [label, value] of Object.entries(labels) as [keyof typeof labels, string | undefined][]) {
    if (value === undefined) continue;
    const def = LABELS[label];
    if (!def.dimension) throw new Error(`${label} is not a CloudWatch dimension of ${METRICS[key].name}`);
    if (!(METRICS[key].labelNames as readonly string[]).includes(label)) {
      throw new Error(`${METRICS[key].name} has no label ${label}`);
    }
    dimensionsMap[def.emfName] = value;
  }
  return new cloudwatch.Metric({
    namespace: EMF_NAMESPACE,
    metricName: METRICS[key].name,
    dimensionsMap,
    statistic: options.statistic,
    period: options.period,
    label: options.label,
    region: options.region,
  });
}

export interface BackupAlarmsProps {
  readonly topic: sns.ITopic;
  /** The source cluster ids of the region's backups (spec.sourceClusterId). */
  readonly sourceClusterIds: readonly string[];
  readonly backupStateMachine?: sfn.IStateMachine;
  /** The guide alerts when the last success is older than this: 2 hours. */
  readonly backupLagThreshold?: Duration;
}

/** KafkaBackupFailed and KafkaBackupLag, per source cluster, in the region the backups run in. */
export class BackupAlarms extends Construct {
  readonly alarms: cloudwatch.IAlarm[] = [];
  readonly failed: cloudwatch.Alarm[] = [];
  readonly lag: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: BackupAlarmsProps) {
    super(scope, id);
    const action = new actions.SnsAction(props.topic);
    const lagThreshold = props.backupLagThreshold ?? Duration.hours(2);
    const fiveMinutes = Duration.minutes(5);

    for (const cluster of props.sourceClusterIds) {
      // kafka_backup_backups_total{outcome="failure"} > 0 (increase over the window): failures are counted under the
      // cluster id, or under "unknown" when the backup failed before it knew the id.
      const failures = new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(failedUnknown, 0)',
        usingMetrics: {
          failed: emfMetric(
            'backupsTotal',
            { source_cluster_id: cluster, outcome: 'failure' },
            { statistic: 'Sum', period: fiveMinutes },
          ),
          failedUnknown: emfMetric(
            'backupsTotal',
            { source_cluster_id: UNKNOWN_CLUSTER, outcome: 'failure' },
            { statistic: 'Sum', period: fiveMinutes },
          ),
        },
        label: `Failed backups of ${cluster}`,
        period: fiveMinutes,
      });
      const failed = failures.createAlarm(this, `KafkaBackupFailed-${cluster}`, {
        alarmName: `KafkaBackupFailed-${cluster}`,
        alarmDescription: `critical: Kafka backup failed. A backup of cluster ${cluster} failed (kafka_backup_backups_total{outcome="failure"} increased); its backup id is in the workflow's logs (property BackupId).`,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: 0,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.failed.push(failed);

      // time() - kafka_backup_last_successful_backup_timestamp > 7200 for 5m: no success in any of the last
      // 2 h 5 min, as consecutive 5-minute periods without a successful backup (missing data counts as none).
      const periods = Math.round(lagThreshold.plus(fiveMinutes).toSeconds() / fiveMinutes.toSeconds());
      const lag = emfMetric(
        'backupsTotal',
        { source_cluster_id: cluster, outcome: 'success' },
        { statistic: 'Sum', period: fiveMinutes, label: `Successful backups of ${cluster}` },
      ).createAlarm(this, `KafkaBackupLag-${cluster}`, {
        alarmName: `KafkaBackupLag-${cluster}`,
        alarmDescription: `warning: Kafka backup lag. No successful backup of cluster ${cluster} in ${lagThreshold.toHumanString()}.`,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      this.lag.push(lag);
    }

    if (props.backupStateMachine) {
      this.failed.push(
        workflowFailedAlarm(this, 'KafkaBackupWorkflowFailed', props.backupStateMachine, 'backup'),
      );
    }
    for (const alarm of [...this.failed, ...this.lag]) alarm.addAlarmAction(action);
    this.alarms.push(...this.failed, ...this.lag);
  }
}

/**
 * Executions of a workflow that failed, timed out or were aborted: failures that may end before the engine
 * reports anything (a Lambda timeout, a task that could not start).
 */
export function workflowFailedAlarm(
  scope: Construct,
  id: string,
  stateMachine: sfn.IStateMachine,
  what: string,
): cloudwatch.Alarm {
  const period = Duration.minutes(5);
  return new cloudwatch.MathExpression({
    expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
    usingMetrics: {
      failed: stateMachine.metricFailed({ period, statistic: 'Sum' }),
      timedOut: stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
      aborted: stateMachine.metricAborted({ period, statistic: 'Sum' }),
    },
    label: `Failed ${what} executions`,
    period,
  }).createAlarm(scope, id, {
    alarmName: `${id}-${Stack.of(scope).region}`,
    alarmDescription: `critical: an execution of the ${what} workflow failed, timed out or was aborted.`,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    threshold: 0,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

export interface ReplicationAlarmsProps {
  readonly topic: sns.ITopic;
  readonly sourceBucketName: string;
  readonly rules: readonly ReplicationRuleInfo[];
  /** The guide: 30 minutes. */
  readonly threshold?: Duration;
}

/** S3ReplicationLag: AWS/S3 ReplicationLatency above 30 minutes for 5 minutes, per destination. */
export class ReplicationAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ReplicationAlarmsProps) {
    super(scope, id);
    const threshold = props.threshold ?? Duration.minutes(30);
    const action = new actions.SnsAction(props.topic);
    this.alarms = props.rules.map((rule) => {
      const alarm = BackupReplication.latencyMetric(props.sourceBucketName, rule).createAlarm(
        this,
        `S3ReplicationLag-${rule.destinationRegion}`,
        {
          alarmName: `S3ReplicationLag-${props.sourceBucketName}-${rule.destinationBucketName}`,
          alarmDescription: `warning: S3 cross-region replication lag. Replication from ${props.sourceBucketName} to ${rule.destinationBucketName} (${rule.destinationRegion}, rule ${rule.ruleId}) exceeds ${threshold.toHumanString()}.`,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          threshold: threshold.toSeconds(),
          evaluationPeriods: 5,
          datapointsToAlarm: 5,
          // No replication traffic, no datapoints: nothing is lagging.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
      );
      alarm.addAlarmAction(action);
      return alarm;
    });
  }
}

export interface DrReadinessAlarmsProps {
  readonly topic: sns.ITopic;
  readonly sourceClusterIds: readonly string[];
  readonly duration?: Duration;
}

/** DRNotReady: kafka_backup_dr_ready == 0 for 15 minutes, per protected source cluster. */
export class DrReadinessAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: DrReadinessAlarmsProps) {
    super(scope, id);
    const duration = props.duration ?? Duration.minutes(15);
    const period = Duration.minutes(5);
    const periods = Math.max(1, Math.round(duration.toSeconds() / period.toSeconds()));
    const action = new actions.SnsAction(props.topic);
    this.alarms = props.sourceClusterIds.map((cluster) => {
      const alarm = emfMetric(
        'drReady',
        { source_cluster_id: cluster },
        { statistic: 'Maximum', period, label: `DR ready for ${cluster}` },
      ).createAlarm(this, `DRNotReady-${cluster}`, {
        alarmName: `DRNotReady-${cluster}-${Stack.of(this).region}`,
        alarmDescription: `critical: DR cluster not ready. The DR side in ${Stack.of(this).region} has had no recent complete backup of cluster ${cluster} for ${duration.toHumanString()}.`,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        // As in Prometheus: a gauge nobody reports does not fire (the backup alarms cover a silent primary).
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      return alarm;
    });
  }
}

export interface DrillAlarmsProps {
  readonly topic: sns.ITopic;
  /** The drill's source cluster (the label of its metrics). */
  readonly sourceClusterId: string;
  /** Alarm when the newest passing drill is older than this many days. */
  readonly maxDaysWithoutPass: number;
}

/**
 * NoDrillPassed: kafka_backup_days_since_drill_passed (the DR-readiness check, every few minutes, from the newest
 * passing and verified evidence) above the deployment's limit. CloudWatch keeps no month-long window on one metric
 * period, so the days are counted from the evidence, not from the drill metrics. No value for an hour (no passing
 * drill yet, or the check is not running) alarms too: nothing proves DR then.
 */
export class DrillAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: DrillAlarmsProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    const alarm = emfMetric(
      'daysSinceDrillPassed',
      { source_cluster_id: props.sourceClusterId },
      {
        statistic: 'Maximum',
        period: Duration.hours(1),
        label: `Days since a drill passed (${props.sourceClusterId})`,
      },
    ).createAlarm(this, `NoDrillPassed-${props.sourceClusterId}`, {
      alarmName: `NoDrillPassed-${props.sourceClusterId}-${region}`,
      alarmDescription: `warning: no DR drill passed in ${props.maxDaysWithoutPass} days. The newest passing drill of cluster ${props.sourceClusterId} in ${region} (its signed evidence) is older, or there is none: run the drill workflow, or look at why it fails.`,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: props.maxDaysWithoutPass,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(props.topic));
    this.alarms = [alarm];
  }
}

export interface BackupDashboardProps {
  readonly dashboardName: string;
  readonly sourceClusterIds: readonly string[];
  readonly sourceBucketName?: string;
  readonly replicationRules?: readonly ReplicationRuleInfo[];
  /** Regions where the DR side reports kafka_backup_dr_ready. */
  readonly drRegions?: readonly string[];
  readonly alarms?: readonly cloudwatch.IAlarm[];
  /** Gauge colours: yellow from here (the guide: 1 h)... */
  readonly lagWarning?: Duration;
  /** ...red from here (2 h). */
  readonly lagCritical?: Duration;
}

/** Panel "Backup Status" (stat of kafka_backup_last_successful_backup_timestamp). */
function backupStatusPanel(clusters: readonly string[]): cloudwatch.IWidget {
  const hour = Duration.hours(1);
  return new cloudwatch.SingleValueWidget({
    title: 'Backup Status',
    width: 6,
    height: 6,
    setPeriodToTimeRange: true,
    metrics: clusters.flatMap((cluster) => [
      emfMetric(
        'backupsTotal',
        { source_cluster_id: cluster, outcome: 'success' },
        { statistic: 'Sum', period: hour, label: `${cluster} successful backups` },
      ),
      emfMetric(
        'backupsTotal',
        { source_cluster_id: cluster, outcome: 'failure' },
        { statistic: 'Sum', period: hour, label: `${cluster} failed backups` },
      ),
      emfMetric(
        'lastSuccessfulBackupTimestamp',
        { source_cluster_id: cluster },
        { statistic: 'Maximum', period: hour, label: `${cluster} last success (epoch s)` },
      ),
    ]),
  });
}

/**
 * Panel "Replication Lag" (gauge of time() - last_successful_backup_timestamp, 0 green, 3600 yellow, 7200 red):
 * the timestamp carried forward over every period, taken from that period's time.
 */
function replicationLagPanel(
  clusters: readonly string[],
  warning: Duration,
  critical: Duration,
): cloudwatch.IWidget {
  const fiveMinutes = Duration.minutes(5);
  return new cloudwatch.GaugeWidget({
    title: 'Replication Lag',
    width: 6,
    height: 6,
    metrics: clusters.map(
      (cluster, i) =>
        new cloudwatch.MathExpression({
          expression: `EPOCH(FILL(ts${i}, REPEAT)) - FILL(ts${i}, REPEAT)`,
          usingMetrics: {
            [`ts${i}`]: emfMetric(
              'lastSuccessfulBackupTimestamp',
              { source_cluster_id: cluster },
              { statistic: 'Maximum', period: fiveMinutes },
            ),
          },
          label: `${cluster} seconds since last successful backup`,
          period: fiveMinutes,
        }),
    ),
    leftYAxis: { min: 0, max: critical.toSeconds() * 1.5 },
    annotations: [
      { value: warning.toSeconds(), color: '#2ca02c', fill: cloudwatch.Shading.BELOW, label: 'OK' },
      { value: warning.toSeconds(), color: '#ffbf00', fill: cloudwatch.Shading.ABOVE, label: 'warning' },
      { value: critical.toSeconds(), color: '#d62728', fill: cloudwatch.Shading.ABOVE, label: 'critical' },
    ],
  });
}

/** Panel "Backup Size Trend" (kafka_backup_backup_size_bytes). */
function backupSizePanel(clusters: readonly string[]): cloudwatch.IWidget {
  const hour = Duration.hours(1);
  return new cloudwatch.GraphWidget({
    title: 'Backup Size Trend',
    width: 6,
    height: 6,
    left: clusters.map((cluster) =>
      emfMetric(
        'backupSizeBytes',
        { source_cluster_id: cluster },
        { statistic: 'Maximum', period: hour, label: `${cluster} bytes` },
      ),
    ),
    leftYAxis: { min: 0, label: 'bytes', showUnits: false },
  });
}

/** Panel "Records Backed Up" (rate(kafka_backup_records_total[1h])): records per second over each hour. */
function recordsPanel(clusters: readonly string[]): cloudwatch.IWidget {
  const hour = Duration.hours(1);
  return new cloudwatch.GraphWidget({
    title: 'Records Backed Up',
    width: 6,
    height: 6,
    left: clusters.map(
      (cluster, i) =>
        new cloudwatch.MathExpression({
          expression: `r${i} / PERIOD(r${i})`,
          usingMetrics: {
            [`r${i}`]: emfMetric(
              'recordsTotal',
              { source_cluster_id: cluster },
              { statistic: 'Sum', period: hour },
            ),
          },
          label: `${cluster} records/s`,
          period: hour,
        }),
    ),
    leftYAxis: { min: 0, label: 'records/s', showUnits: false },
  });
}

/** The guide's "Multi-Cluster DR Status" Grafana dashboard as a CloudWatch dashboard. */
export class BackupDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: BackupDashboardProps) {
    super(scope, id);
    const warning = props.lagWarning ?? Duration.hours(1);
    const critical = props.lagCritical ?? Duration.hours(2);
    const clusters = props.sourceClusterIds;
    const fiveMinutes = Duration.minutes(5);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(24),
    });

    this.dashboard.addWidgets(
      backupStatusPanel(clusters),
      replicationLagPanel(clusters, warning, critical),
      backupSizePanel(clusters),
      recordsPanel(clusters),
    );

    const second: cloudwatch.IWidget[] = [];
    if (props.sourceBucketName && props.replicationRules && props.replicationRules.length > 0) {
      const sourceBucketName = props.sourceBucketName;
      second.push(
        new cloudwatch.GraphWidget({
          title: 'S3 Replication Latency',
          width: 8,
          height: 6,
          left: props.replicationRules.map((rule) => BackupReplication.latencyMetric(sourceBucketName, rule)),
          leftAnnotations: [{ value: 1800, color: '#d62728', label: 'S3ReplicationLag' }],
          leftYAxis: { min: 0, label: 'seconds', showUnits: false },
        }),
      );
    }
    if (props.drRegions && props.drRegions.length > 0) {
      const drRegions = props.drRegions;
      second.push(
        new cloudwatch.GraphWidget({
          title: 'DR Ready',
          width: 8,
          height: 6,
          left: drRegions.flatMap((region) =>
            clusters.map((cluster) =>
              emfMetric(
                'drReady',
                { source_cluster_id: cluster },
                { statistic: 'Minimum', period: fiveMinutes, label: `${cluster} in ${region}`, region },
              ),
            ),
          ),
          leftYAxis: { min: 0, max: 1, showUnits: false },
        }),
      );
    }
    if (props.alarms && props.alarms.length > 0) {
      second.push(
        new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 8, height: 6, alarms: [...props.alarms] }),
      );
    }
    if (second.length > 0) this.dashboard.addWidgets(...second);
  }
}
