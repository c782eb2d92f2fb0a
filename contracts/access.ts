import type { Agreement } from './agreement.js';

export type AccessDecision = 'Accepted' | 'Invalid';

/**
 * Whether a driver's id tag may charge under the agreement's access mode: `free` and `public`
 * chargers accept every tag (public ones are paid at the charger or by app); `whitelist` accepts
 * only the listed tags and voucher codes. A charger no agreement covers accepts every tag: a
 * contract gap must not strand a driver.
 */
export function authorizeIdTag(agreement: Agreement | null, idTag: string): AccessDecision {
  if (!agreement || agreement.pricing.access !== 'whitelist') return 'Accepted';
  const tag = idTag.toUpperCase();
  const allowed = agreement.pricing.authorizedIdTags.some((t) => t.toUpperCase() === tag) || agreement.pricing.voucherCodes.some((v) => v.code.toUpperCase() === tag);
  return allowed ? 'Accepted' : 'Invalid';
}
