import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { LOCATION_FOLDERS } from '../../storage/layout.ts';

/**
 * A Distributed Map's items and results in the backup bucket (lib/workflow/map-storage.ts): the step before the
 * Map stores the items and returns a pointer (`{items: {bucket, key}, results: {bucket, prefix}}`) that the
 * ItemReader and ResultWriter read by path; the state machine's role may read the items objects and write under
 * the results folders of the bucket, nothing else (CDK's own readers and writers would grant the whole bucket, or
 * every bucket for a bucket read by path).
 */

/** Whose items and results: a backup's (`backups/<id>/workflow/`) or a restore's (`restores/<id>/workflow/`). */
export type MapArea = 'backups' | 'restores';

/** The key patterns of one area, `*` first for the location's prefix (as STEP_S3_ACCESS's patterns). */
export function mapKeyPatterns(area: MapArea): { items: string; results: string } {
  const folder = area === 'backups' ? LOCATION_FOLDERS.backups : LOCATION_FOLDERS.restores;
  return { items: `*${folder}*/workflow/items.json`, results: `*${folder}*/workflow/results/*` };
}

/** Reads the Map's items: the JSON array at the pointer's `items` (`<pointer>.items.bucket`, `.key`). */
class StoredItemsReader extends sfn.S3JsonItemReader {
  readonly #bucket: s3.IBucket;
  readonly #area: MapArea;

  constructor(bucket: s3.IBucket, area: MapArea, pointerPath: string) {
    super({
      bucketNamePath: sfn.JsonPath.stringAt(`${pointerPath}.items.bucket`),
      key: sfn.JsonPath.stringAt(`${pointerPath}.items.key`),
    });
    this.#bucket = bucket;
    this.#area = area;
  }

  override providePolicyStatements(): iam.PolicyStatement[] {
    const statements = [
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.#bucket.arnForObjects(mapKeyPatterns(this.#area).items)],
      }),
    ];
    const key = this.#bucket.encryptionKey;
    if (key) statements.push(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [key.keyArn] }));
    return statements;
  }
}

/**
 * Writes what every child execution returned (Transformation NONE, JSON: the default) under the pointer's
 * `results.prefix`: `<prefix>/<map run id>/manifest.json` and the result files it names.
 */
class StoredResultsWriter extends sfn.ResultWriterV2 {
  readonly #bucket: s3.IBucket;
  readonly #area: MapArea;

  constructor(bucket: s3.IBucket, area: MapArea, pointerPath: string) {
    super({
      bucketNamePath: sfn.JsonPath.stringAt(`${pointerPath}.results.bucket`),
      prefix: sfn.JsonPath.stringAt(`${pointerPath}.results.prefix`),
    });
    this.#bucket = bucket;
    this.#area = area;
  }

  override providePolicyStatements(): iam.PolicyStatement[] {
    // What the Step Functions guide lists for ResultWriter (IAM policies for ResultWriter): large result files
    // are multipart uploads.
    const statements = [
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        resources: [this.#bucket.arnForObjects(mapKeyPatterns(this.#area).results)],
      }),
    ];
    const key = this.#bucket.encryptionKey;
    if (key)
      statements.push(
        new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }),
      );
    return statements;
  }
}

/** The ItemReader and ResultWriter of a Map whose pointer (MapStorage) is at `pointerPath` in the state. */
export function storedMapIo(
  bucket: s3.IBucket,
  area: MapArea,
  pointerPath: string,
): { itemReader: sfn.IItemReader; resultWriterV2: sfn.ResultWriterV2 } {
  return {
    itemReader: new StoredItemsReader(bucket, area, pointerPath),
    resultWriterV2: new StoredResultsWriter(bucket, area, pointerPath),
  };
}
