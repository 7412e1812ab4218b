export { type EnvSubstitutionOptions, formatRunTimestamp, substituteEnv } from './env-substitution.ts';
export {
  type ConfigLoadOptions,
  type ConfigParseOptions,
  loadBackupConfig,
  loadConfig,
  loadRestoreConfig,
  parseBackupConfig,
  parseConfig,
  parseRestoreConfig,
} from './load.ts';
export { REDACTED, redactConfig, SECRET_KEYS } from './redact.ts';
export * from './schema.ts';
export { parseIsoTime, TimePoint } from './time-point.ts';
export {
  hasWildcard,
  isInternalTopic,
  matchesGlob,
  selectTopics,
  type TopicSelection,
} from './topic-selector.ts';
