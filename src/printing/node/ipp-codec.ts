/**
 * The IPP/1.1 message encoding (RFC 8010 §3) for the few operations Signet
 * sends: a request is a header, attribute groups and the document; a
 * response is read back into groups of attributes. Written here rather than
 * taken from npm because the one package for it (`ipp`, last released for
 * Node < 4) patched its parser globally to stay quiet about tags it did not
 * know; this codec keeps such values as raw bytes instead.
 */

export const ippOperations = { 'Print-Job': 0x0002, 'Get-Job-Attributes': 0x0009, 'Get-Printer-Attributes': 0x000b } as const;
export type IppOperation = keyof typeof ippOperations;

/** Value tags (RFC 8010 §3.5.2) of the attributes Signet sends, and those it reads as text or numbers. */
const valueTags = {
  integer: 0x21,
  boolean: 0x22,
  enum: 0x23,
  textWithoutLanguage: 0x41,
  nameWithoutLanguage: 0x42,
  keyword: 0x44,
  uri: 0x45,
  uriScheme: 0x46,
  charset: 0x47,
  naturalLanguage: 0x48,
  mimeMediaType: 0x49,
} as const;
export type IppValueTag = keyof typeof valueTags;

/** Delimiter tags (§3.5.1): a group's start, and the end of the attributes. */
const groupTags = { operation: 0x01, job: 0x02, end: 0x03, printer: 0x04, unsupported: 0x05 } as const;
type GroupName = Exclude<keyof typeof groupTags, 'end'>;
const groupNames = new Map<number, GroupName>(Object.entries(groupTags).filter(([name]) => name !== 'end').map(([name, tag]) => [tag, name as GroupName]));

export type IppAttribute = { name: string; tag: IppValueTag; values: (string | number)[] };
export type IppRequest = {
  operation: IppOperation;
  requestId: number;
  /** In order: attributes-charset, attributes-natural-language and the target come first (RFC 8011 §4.1.4). */
  operationAttributes: IppAttribute[];
  jobAttributes?: IppAttribute[];
  document?: Uint8Array;
};

export type IppValue = string | number | boolean | Buffer;
export type IppResponse = {
  statusCode: number;
  statusName: string;
  requestId: number;
  /** Attributes by group; an attribute with several values is an array. A group sent twice keeps its first. */
  groups: Partial<Record<GroupName, Record<string, IppValue | IppValue[]>>>;
};

const statusNames: Record<number, string> = {
  0x0000: 'successful-ok',
  0x0001: 'successful-ok-ignored-or-substituted-attributes',
  0x0002: 'successful-ok-conflicting-attributes',
  0x0400: 'client-error-bad-request',
  0x0401: 'client-error-forbidden',
  0x0402: 'client-error-not-authenticated',
  0x0403: 'client-error-not-authorized',
  0x0404: 'client-error-not-possible',
  0x0405: 'client-error-timeout',
  0x0406: 'client-error-not-found',
  0x0407: 'client-error-gone',
  0x0408: 'client-error-request-entity-too-large',
  0x0409: 'client-error-request-value-too-long',
  0x040a: 'client-error-document-format-not-supported',
  0x040b: 'client-error-attributes-or-values-not-supported',
  0x040c: 'client-error-uri-scheme-not-supported',
  0x040d: 'client-error-charset-not-supported',
  0x040e: 'client-error-conflicting-attributes',
  0x040f: 'client-error-compression-not-supported',
  0x0410: 'client-error-compression-error',
  0x0411: 'client-error-document-format-error',
  0x0412: 'client-error-document-access-error',
  0x041b: 'client-error-document-unprintable-error',
  0x0500: 'server-error-internal-error',
  0x0501: 'server-error-operation-not-supported',
  0x0502: 'server-error-service-unavailable',
  0x0503: 'server-error-version-not-supported',
  0x0504: 'server-error-device-error',
  0x0505: 'server-error-temporary-error',
  0x0506: 'server-error-not-accepting-jobs',
  0x0507: 'server-error-busy',
  0x0508: 'server-error-job-canceled',
  0x0509: 'server-error-multiple-document-jobs-not-supported',
};

/** `client-error-not-found` for 0x0406; unknown codes as `0x…`. */
export function ippStatusName(code: number): string {
  return statusNames[code] ?? `0x${code.toString(16).padStart(4, '0')}`;
}

function encodeValue(tag: IppValueTag, value: string | number): Buffer {
  if (tag === 'integer' || tag === 'enum') {
    const bytes = Buffer.alloc(4);
    bytes.writeInt32BE(Number(value));
    return bytes;
  }
  if (tag === 'boolean') return Buffer.from([value ? 1 : 0]);
  return Buffer.from(String(value), 'utf8');
}

function encodeAttribute(attribute: IppAttribute): Buffer[] {
  if (attribute.values.length === 0) throw new RangeError(`IPP attribute ${attribute.name} has no value`);
  const tag = valueTags[attribute.tag];
  // Each further value repeats the tag with an empty name (RFC 8010 §3.1.5).
  return attribute.values.flatMap((value, index) => {
    const name = Buffer.from(index === 0 ? attribute.name : '', 'utf8');
    const encoded = encodeValue(attribute.tag, value);
    if (name.length > 0xffff || encoded.length > 0xffff) throw new RangeError(`IPP attribute ${attribute.name} is too long`);
    const head = Buffer.alloc(3);
    head.writeUInt8(tag, 0);
    head.writeUInt16BE(name.length, 1);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(encoded.length);
    return [head, name, length, encoded];
  });
}

/** An IPP/1.1 request as bytes: header, operation and job groups, end tag, document. */
export function encodeIppRequest(request: IppRequest): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt8(1, 0);
  header.writeUInt8(1, 1);
  header.writeUInt16BE(ippOperations[request.operation], 2);
  header.writeUInt32BE(request.requestId, 4);
  const parts: Buffer[] = [header, Buffer.from([groupTags.operation]), ...request.operationAttributes.flatMap(encodeAttribute)];
  if (request.jobAttributes?.length) parts.push(Buffer.from([groupTags.job]), ...request.jobAttributes.flatMap(encodeAttribute));
  parts.push(Buffer.from([groupTags.end]));
  if (request.document) parts.push(Buffer.from(request.document.buffer, request.document.byteOffset, request.document.byteLength));
  return Buffer.concat(parts);
}

const textTags = new Set<number>([0x41, 0x42, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49]);

function decodeValue(tag: number, bytes: Buffer): IppValue {
  if ((tag === valueTags.integer || tag === valueTags.enum) && bytes.length === 4) return bytes.readInt32BE(0);
  if (tag === valueTags.boolean && bytes.length === 1) return bytes[0] !== 0;
  if (textTags.has(tag)) return bytes.toString('utf8');
  // Dates, resolutions, ranges, collections, out-of-band values: kept as they came.
  return Buffer.from(bytes);
}

/**
 * Reads an IPP response. Throws a RangeError when the bytes end inside an
 * attribute or lack the end tag: a truncated or foreign answer.
 */
export function decodeIppResponse(bytes: Buffer): IppResponse {
  if (bytes.length < 9) throw new RangeError('not an IPP response: too short');
  const statusCode = bytes.readUInt16BE(2);
  const response: IppResponse = { statusCode, statusName: ippStatusName(statusCode), requestId: bytes.readUInt32BE(4), groups: {} };
  const need = (offset: number, length: number) => {
    if (offset + length > bytes.length) throw new RangeError('not an IPP response: it ends inside an attribute');
  };
  let offset = 8;
  let group: Record<string, IppValue | IppValue[]> | undefined;
  let lastName: string | undefined;
  for (;;) {
    need(offset, 1);
    const tag = bytes[offset++]!;
    if (tag === groupTags.end) return response;
    if (tag < 0x10) {
      const name = groupNames.get(tag);
      // A group seen twice (several jobs or printers) keeps its first; later ones are read and dropped.
      group = name && !response.groups[name] ? (response.groups[name] = {}) : {};
      lastName = undefined;
      continue;
    }
    if (!group) throw new RangeError('not an IPP response: an attribute outside any group');
    // An extension tag carries its real tag in the next four bytes.
    const valueTag = tag === 0x7f ? (need(offset, 4), bytes.readUInt32BE((offset += 4) - 4)) : tag;
    need(offset, 2);
    const nameLength = bytes.readUInt16BE(offset);
    offset += 2;
    need(offset, nameLength);
    const name = bytes.toString('utf8', offset, offset + nameLength);
    offset += nameLength;
    need(offset, 2);
    const valueLength = bytes.readUInt16BE(offset);
    offset += 2;
    need(offset, valueLength);
    const value = decodeValue(valueTag, bytes.subarray(offset, offset + valueLength));
    offset += valueLength;
    if (name) {
      group[name] = value;
      lastName = name;
    } else if (lastName !== undefined) {
      const previous = group[lastName]!;
      group[lastName] = Array.isArray(previous) ? [...previous, value] : [previous, value];
    }
  }
}
