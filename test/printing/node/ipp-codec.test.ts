import { describe, expect, it } from 'vitest';
import { decodeIppResponse, encodeIppRequest, ippStatusName } from '../../../src/printing/node/ipp-codec.js';

/** One attribute as RFC 8010 lays it out: tag, name length, name, value length, value. */
function attribute(tag: number, name: string, value: Buffer | string): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const valueBytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const head = Buffer.alloc(3);
  head.writeUInt8(tag, 0);
  head.writeUInt16BE(nameBytes.length, 1);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(valueBytes.length);
  return Buffer.concat([head, nameBytes, length, valueBytes]);
}
const int32 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes;
};
const header = (status: number, requestId: number) => {
  const bytes = Buffer.alloc(8);
  bytes.writeUInt8(1, 0);
  bytes.writeUInt8(1, 1);
  bytes.writeUInt16BE(status, 2);
  bytes.writeUInt32BE(requestId, 4);
  return bytes;
};

describe('IPP requests', () => {
  it('encode the header, the groups in order, repeated values with empty names, the end tag and the document', () => {
    const document = Buffer.from('%PDF-1.7 …');
    const bytes = encodeIppRequest({
      operation: 'Print-Job',
      requestId: 7,
      operationAttributes: [
        { name: 'attributes-charset', tag: 'charset', values: ['utf-8'] },
        { name: 'job-name', tag: 'nameWithoutLanguage', values: ['驻大阪总领事'] },
        { name: 'requested-attributes', tag: 'keyword', values: ['job-state', 'job-uri'] },
      ],
      jobAttributes: [{ name: 'copies', tag: 'integer', values: [2] }],
      document,
    });
    const expected = Buffer.concat([
      Buffer.from([1, 1, 0x00, 0x02, 0, 0, 0, 7]),
      Buffer.from([0x01]),
      attribute(0x47, 'attributes-charset', 'utf-8'),
      attribute(0x42, 'job-name', '驻大阪总领事'),
      attribute(0x44, 'requested-attributes', 'job-state'),
      attribute(0x44, '', 'job-uri'),
      Buffer.from([0x02]),
      attribute(0x21, 'copies', int32(2)),
      Buffer.from([0x03]),
      document,
    ]);
    expect(bytes.equals(expected)).toBe(true);
  });

  it('refuse an attribute without a value or too long to encode', () => {
    const request = (values: string[]) => () =>
      encodeIppRequest({ operation: 'Get-Job-Attributes', requestId: 1, operationAttributes: [{ name: 'job-uri', tag: 'uri', values }] });
    expect(request([])).toThrow(RangeError);
    expect(request(['x'.repeat(70_000)])).toThrow(RangeError);
  });
});

describe('IPP responses', () => {
  it('decode status, groups, numbers, text, repeated values, and keep unknown value types as bytes', () => {
    const dateTime = Buffer.from([0x07, 0xeb, 9, 22, 9, 0, 0, 0, 0x2b, 9, 0]);
    const bytes = Buffer.concat([
      header(0x0000, 7),
      Buffer.from([0x01]),
      attribute(0x47, 'attributes-charset', 'utf-8'),
      attribute(0x41, 'status-message', 'successful-ok'),
      Buffer.from([0x02]),
      attribute(0x45, 'job-uri', 'ipp://127.0.0.1:631/jobs/12'),
      attribute(0x21, 'job-id', int32(12)),
      attribute(0x23, 'job-state', int32(5)),
      attribute(0x44, 'job-state-reasons', 'job-printing'),
      attribute(0x44, '', 'job-queued'),
      attribute(0x31, 'date-time-at-creation', dateTime),
      attribute(0x22, 'job-printer-state-changed', Buffer.from([1])),
      // A second job group: read and dropped.
      Buffer.from([0x02]),
      attribute(0x21, 'job-id', int32(13)),
      Buffer.from([0x03]),
    ]);
    const response = decodeIppResponse(bytes);
    expect(response).toMatchObject({ statusCode: 0, statusName: 'successful-ok', requestId: 7 });
    expect(response.groups.operation).toEqual({ 'attributes-charset': 'utf-8', 'status-message': 'successful-ok' });
    expect(response.groups.job).toEqual({
      'job-uri': 'ipp://127.0.0.1:631/jobs/12',
      'job-id': 12,
      'job-state': 5,
      'job-state-reasons': ['job-printing', 'job-queued'],
      'date-time-at-creation': dateTime,
      'job-printer-state-changed': true,
    });
  });

  it('name error statuses, and unknown ones by their code', () => {
    expect(decodeIppResponse(Buffer.concat([header(0x0406, 1), Buffer.from([0x01, 0x03])])).statusName).toBe('client-error-not-found');
    expect(ippStatusName(0x040a)).toBe('client-error-document-format-not-supported');
    expect(ippStatusName(0x0777)).toBe('0x0777');
  });

  it('refuse answers that end inside an attribute, lack the end tag, or put an attribute outside a group', () => {
    const whole = Buffer.concat([header(0, 1), Buffer.from([0x01]), attribute(0x45, 'job-uri', 'ipp://x/jobs/1'), Buffer.from([0x03])]);
    expect(() => decodeIppResponse(whole.subarray(0, whole.length - 5))).toThrow(RangeError);
    expect(() => decodeIppResponse(whole.subarray(0, whole.length - 1))).toThrow(RangeError);
    expect(() => decodeIppResponse(Buffer.concat([header(0, 1), attribute(0x45, 'job-uri', 'x'), Buffer.from([0x03])]))).toThrow(/outside any group/);
    expect(() => decodeIppResponse(Buffer.from('<html>'))).toThrow(RangeError);
  });
});
