/**
 * List prices (on-demand, USD, no free tier, no Savings Plans) of what a backup run uses, per region. Dated and
 * named by source: prices change, and the estimate says which table it used.
 *
 * Sources (the public pricing pages):
 * - S3: https://aws.amazon.com/s3/pricing/ (S3 Standard requests: PUT, COPY, POST, LIST per 1,000; GET, SELECT
 *   and all other requests — HEAD among them — per 1,000; DELETE is free)
 * - Lambda: https://aws.amazon.com/lambda/pricing/ (x86, first pricing tier: per GB-second; per 1M requests)
 * - Fargate: https://aws.amazon.com/fargate/pricing/ (Linux/x86: per vCPU-hour, per GB-hour)
 * - Step Functions: https://aws.amazon.com/step-functions/pricing/ (Standard workflows: per 1,000 state
 *   transitions)
 *
 * These are list prices as written down on PRICES_AS_OF, not checked against the live pages when this table was
 * made (the machine it was written on had no access to them): the Step Functions column was taken from a stored
 * copy of its page; the us-east-1 rows are the widely quoted figures; the other regions' S3, Lambda and Fargate
 * rows are the best known figures and may be off by some percent. Check the pages before relying on a price.
 */
export const PRICES_AS_OF = '2026-12-02';

export const PRICE_SOURCES = [
  'https://aws.amazon.com/s3/pricing/',
  'https://aws.amazon.com/lambda/pricing/',
  'https://aws.amazon.com/fargate/pricing/',
  'https://aws.amazon.com/step-functions/pricing/',
] as const;

export interface RegionPrices {
  /** S3 Standard, per 1,000 requests. */
  s3_put_copy_post_list_per_1000: number;
  s3_get_and_other_per_1000: number;
  /** Lambda, x86, first tier. */
  lambda_gb_second: number;
  lambda_per_million_requests: number;
  /** Fargate, Linux/x86. */
  fargate_vcpu_hour: number;
  fargate_gb_hour: number;
  /** Step Functions Standard. */
  sfn_per_1000_transitions: number;
}

const row = (
  put: number,
  get: number,
  gbs: number,
  vcpuHour: number,
  gbHour: number,
  sfn: number,
): RegionPrices => ({
  s3_put_copy_post_list_per_1000: put,
  s3_get_and_other_per_1000: get,
  lambda_gb_second: gbs,
  lambda_per_million_requests: 0.2,
  fargate_vcpu_hour: vcpuHour,
  fargate_gb_hour: gbHour,
  sfn_per_1000_transitions: sfn,
});

/** Per region: S3 PUT, S3 GET, Lambda GB-s, Fargate vCPU-h, Fargate GB-h, Step Functions per 1,000. */
export const PRICES: Readonly<Record<string, RegionPrices>> = {
  'us-east-1': row(0.005, 0.0004, 0.0000166667, 0.04048, 0.004445, 0.025),
  'us-east-2': row(0.005, 0.0004, 0.0000166667, 0.04048, 0.004445, 0.025),
  'us-west-1': row(0.0055, 0.00044, 0.0000166667, 0.04656, 0.00511, 0.0279),
  'us-west-2': row(0.005, 0.0004, 0.0000166667, 0.04048, 0.004445, 0.025),
  'ca-central-1': row(0.0055, 0.00044, 0.0000166667, 0.04456, 0.00489, 0.025),
  'sa-east-1': row(0.007, 0.00056, 0.0000166667, 0.0696, 0.0076, 0.0375),
  'eu-west-1': row(0.005, 0.0004, 0.0000166667, 0.04048, 0.004445, 0.025),
  'eu-west-2': row(0.0053, 0.00042, 0.0000166667, 0.04656, 0.00511, 0.025),
  'eu-west-3': row(0.0053, 0.00042, 0.0000166667, 0.04656, 0.00511, 0.0297),
  'eu-central-1': row(0.0054, 0.00043, 0.0000166667, 0.04656, 0.00511, 0.025),
  'eu-north-1': row(0.005, 0.0004, 0.0000166667, 0.04048, 0.004445, 0.025),
  'ap-south-1': row(0.005, 0.0004, 0.0000166667, 0.04256, 0.00467, 0.0285),
  'ap-southeast-1': row(0.005, 0.0004, 0.0000166667, 0.05056, 0.00553, 0.025),
  'ap-southeast-2': row(0.0055, 0.00044, 0.0000166667, 0.04856, 0.00532, 0.025),
  'ap-northeast-1': row(0.0047, 0.00037, 0.0000166667, 0.05056, 0.00553, 0.025),
  'ap-northeast-2': row(0.0045, 0.00035, 0.0000166667, 0.04656, 0.00511, 0.0271),
};

/** The region whose prices stand in for a region missing from the table. */
export const FALLBACK_PRICE_REGION = 'us-east-1';

/** The table's row for `region`, or us-east-1's (with `fallback` set) when the table lacks it. */
export function pricesFor(region: string | undefined): {
  region: string;
  prices: RegionPrices;
  fallback: boolean;
} {
  const wanted = region ?? FALLBACK_PRICE_REGION;
  const prices = PRICES[wanted];
  if (prices) return { region: wanted, prices, fallback: false };
  return { region: FALLBACK_PRICE_REGION, prices: PRICES[FALLBACK_PRICE_REGION]!, fallback: true };
}
