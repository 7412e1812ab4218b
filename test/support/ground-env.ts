import { readFileSync } from 'node:fs';

/** The running test ground, as published by the integration project's global setup. */
export function ground() {
  const need = (k: string): string => {
    const v = process.env[k];
    if (!v) throw new Error(`${k} is not set: run integration tests through vitest's integration project`);
    return v;
  };
  return {
    primary: need('GROUND_PRIMARY_BOOTSTRAP'),
    primarySaslSsl: need('GROUND_PRIMARY_SASL_SSL_BOOTSTRAP'),
    dr: need('GROUND_DR_BOOTSTRAP'),
    drSaslSsl: need('GROUND_DR_SASL_SSL_BOOTSTRAP'),
    caPemPath: need('GROUND_CA_PEM'),
    caPem: () => readFileSync(need('GROUND_CA_PEM'), 'utf8'),
    /** us-east-1: kafka-backups-dr, kafka-backup-test. */
    s3Endpoint: need('GROUND_S3_ENDPOINT'),
    /** us-west-2: kafka-backups-primary. */
    s3WestEndpoint: need('GROUND_S3_WEST_ENDPOINT'),
    kafkaVersion: need('GROUND_KAFKA_VERSION'),
  };
}

let counter = 0;
/** A topic or group name unique to this run, so tests never see each other's data. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}
