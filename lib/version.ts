// A JSON import, not a runtime require of a relative path: esbuild inlines it into the Lambda bundle, where
// ../package.json does not exist.
import pkg from '../package.json' with { type: 'json' };

/** This tool's version, recorded in every manifest. */
export const TOOL_VERSION: string = pkg.version;
