import { FORMAT_VERSION, type Manifest } from '../../lib/format/manifest.ts';

/**
 * A complete backup's manifest with no topics, for tests of what reads manifests (catalog walks, readiness,
 * metrics): the fields a test cares about given in `fields`.
 */
export function emptyManifest(
  fields: Pick<Manifest, 'backup_id' | 'completed_at'> & Partial<Manifest>,
): Manifest {
  return {
    format_version: FORMAT_VERSION,
    tool_version: 'test',
    source_cluster_id: 'prod',
    kafka_cluster_id: 'kc',
    started_at: fields.completed_at,
    isolation_level: 'read_committed',
    compression: { codec: 'zstd', level: 3 },
    based_on: null,
    include_offset_headers: true,
    topics: [],
    consumer_groups: [],
    stats: {
      records: 0,
      stored_bytes: 0,
      uploaded_bytes: 0,
      segments_uploaded: 0,
      segments_reused: 0,
      duration_ms: 0,
    },
    ...fields,
  };
}
