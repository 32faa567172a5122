/** `aiko@example.org` → `a***@example.org`: enough to tell supporters apart in a list, not to write to them. */
export function maskAddress(address: string): string {
  const trimmed = address.trim();
  const at = trimmed.lastIndexOf('@');
  if (at < 1) return '***';
  return `${trimmed[0]}***${trimmed.slice(at)}`;
}

// Loose on purpose: whatever a mail server quotes back that looks like an address gets masked.
const addressInText = /[^\s<>()[\]"',;:]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/**
 * Error texts from mail servers quote the recipient ("550 <aiko@example.org>:
 * unknown user"). Masked before they are stored or logged, so a list of
 * failures or a log line never holds a supporter's address.
 */
export function maskAddressesIn(text: string): string {
  return text.replace(addressInText, (address) => maskAddress(address));
}
