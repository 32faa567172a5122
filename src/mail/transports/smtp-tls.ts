/**
 * How a connection to an SMTP relay is protected:
 * - `implicit`: `smtps://`, TLS from the first byte;
 * - `starttls-required`: `smtp://` to any host but the loopback; STARTTLS or no mail;
 * - `opportunistic`: `smtp://` to the loopback, or with `?tls=optional`: STARTTLS when the server offers it.
 */
export type SmtpTlsMode = 'implicit' | 'starttls-required' | 'opportunistic';

export type SmtpConnectionPlan = {
  tls: SmtpTlsMode;
  /** The URL for nodemailer: without our `tls` parameter, which nodemailer would read as its own option. */
  url: string;
  host: string;
};

/**
 * The explicit opt-out: `?tls=optional`. Named for what it does (STARTTLS is
 * still used when the relay offers it; only its absence stops being an error)
 * rather than `tls=off`, which would suggest that encryption is switched off.
 */
export const SMTP_TLS_OPT_OUT = 'optional';

/** nodemailer reads these from the URL's query, after (and over) the options we give it. */
const NODEMAILER_TLS_OPTIONS = ['secure', 'ignoretls', 'requiretls', 'opportunistictls'];

export class SmtpUrlError extends TypeError {
  override name = 'SmtpUrlError';
}

/** 127.0.0.0/8, ::1 and `localhost`: the only hosts where mail may travel without TLS by default. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host === '[::1]' || host === '::1') return true;
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return octets !== null && octets.slice(1).every((octet) => Number(octet) <= 255) && octets[1] === '127';
}

/**
 * Decides how to reach the relay named by an SMTP URL (the SMTP_URL setting),
 * or throws a SmtpUrlError saying what to change. Read at start (settings
 * validation) and by the transport, so both agree.
 */
export function planSmtpConnection(smtpUrl: string): SmtpConnectionPlan {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    throw new SmtpUrlError('must be a URL such as smtps://user:pass@host:465 or smtp://user:pass@host:587');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new SmtpUrlError('must start with smtp:// or smtps://');
  if (!url.hostname) throw new SmtpUrlError('must name a host');
  for (const key of url.searchParams.keys()) {
    if (NODEMAILER_TLS_OPTIONS.includes(key.toLowerCase())) {
      throw new SmtpUrlError(`must not set "${key}": TLS follows from the scheme (smtps:// or smtp:// with STARTTLS), and ?tls=${SMTP_TLS_OPT_OUT} is the only way to relax it`);
    }
  }
  const tlsValues = url.searchParams.getAll('tls');
  if (tlsValues.some((value) => value !== SMTP_TLS_OPT_OUT)) throw new SmtpUrlError(`?tls= takes only "${SMTP_TLS_OPT_OUT}"`);
  const optOut = tlsValues.length > 0;
  if (optOut && url.protocol === 'smtps:') throw new SmtpUrlError(`?tls=${SMTP_TLS_OPT_OUT} applies to smtp:// only; smtps:// always uses TLS`);
  if (optOut) url.searchParams.delete('tls');

  const tls: SmtpTlsMode =
    url.protocol === 'smtps:' ? 'implicit' : optOut || isLoopbackHost(url.hostname) ? 'opportunistic' : 'starttls-required';
  return { tls, url: optOut ? url.toString() : smtpUrl, host: url.hostname };
}
