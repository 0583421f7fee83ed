// The alert threshold the panel and the popup suggest, and how today's price compares with
// the all-time low. Pure, so both views and the unit tests share one rule.

/**
 * The suggested alert price: the all-time low when today's price is above it (a price the
 * product has really reached), else 10 % below today's price (today is the low, or there is
 * no history yet). `current` and `lowest` are minor units or null. Null when neither is known.
 */
export function suggestThreshold({ current = null, lowest = null } = {}) {
  if (lowest != null && lowest > 0 && (current == null || lowest < current)) {
    return { minor: lowest, reason: 'all_time_low' };
  }
  if (current != null && current > 0) {
    return { minor: Math.max(1, Math.floor((current * 9) / 10)), reason: 'ten_percent_below' };
  }
  return null;
}

/** Words for why a threshold was suggested. */
export const REASON_TEXT = {
  all_time_low: 'the all-time low',
  ten_percent_below: '10% below today',
};

/**
 * How today's price stands against the all-time low: `{kind: 'above', percent}`,
 * `{kind: 'at_low'}`, `{kind: 'new_low'}` (below every price seen), or null without both.
 */
export function versusLow(current, lowest) {
  if (current == null || lowest == null || lowest <= 0) return null;
  if (current < lowest) return { kind: 'new_low' };
  if (current === lowest) return { kind: 'at_low' };
  return { kind: 'above', percent: ((current - lowest) / lowest) * 100 };
}
