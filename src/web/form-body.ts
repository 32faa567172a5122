import type { Context } from 'hono';

/** A posted HTML form's text fields (file parts are dropped; a repeated name keeps its last value). */
export type FormFields = Record<string, string>;

/**
 * Reads a form post, or null when the body is not a form this site sends
 * (another content type, or a multipart body that does not parse): pages
 * answer that with their own 4xx page instead of a 500.
 */
export async function readFormFields(c: Context): Promise<FormFields | null> {
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type)) return null;
  const fields: FormFields = {};
  if (/^application\/x-www-form-urlencoded\b/i.test(type)) {
    // What every form of this site sends: parsed from the text, which the Node adapter reads
    // straight from the socket (parseBody would build a Request, a stream and a FormData).
    let text: string;
    try {
      text = await c.req.text();
    } catch {
      // A body cut off mid-way (the visitor went away) is no form either.
      return null;
    }
    for (const [name, value] of new URLSearchParams(text)) fields[name] = value;
    return fields;
  }
  let body: Record<string, unknown>;
  try {
    body = await c.req.parseBody();
  } catch {
    return null;
  }
  for (const [name, value] of Object.entries(body)) if (typeof value === 'string') fields[name] = value;
  return fields;
}
