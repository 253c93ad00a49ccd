// Encode/decode of the data-channel message: 116-byte header (big-endian) then PayloadLength and payload.
import { createHash, randomFillSync } from 'node:crypto';
import { FrameError } from './errors.js';
import { MessageType, type ClientMessage, type NewMessage } from './types.js';

export const HEADER_LENGTH = 116;
const TYPE_LENGTH = 32;

const OFF = {
  headerLength: 0,
  messageType: 4,
  schemaVersion: 36,
  createdDate: 40,
  sequenceNumber: 48,
  flags: 56,
  messageId: 64,
  payloadDigest: 80,
  payloadType: 112,
} as const;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Canonical UUID bytes -> wire order: bytes 8..15 first, then 0..7 (the reference client's quirk). */
function writeMessageId(buf: Buffer, uuid: string): void {
  if (!UUID_RE.test(uuid)) throw new FrameError(`invalid MessageId ${uuid}`);
  const canonical = Buffer.from(uuid.replace(/-/g, ''), 'hex');
  canonical.copy(buf, OFF.messageId, 8, 16);
  canonical.copy(buf, OFF.messageId + 8, 0, 8);
}

/** A random (version 4) MessageId written straight into the header: no UUID string per message. */
function writeRandomMessageId(buf: Buffer): void {
  randomFillSync(buf, OFF.messageId, 16);
  // Wire offset 8 + canonical byte 6 holds the version; wire offset 0 is canonical byte 8 (the variant).
  buf[OFF.messageId + 14] = (buf[OFF.messageId + 14]! & 0x0f) | 0x40;
  buf[OFF.messageId] = (buf[OFF.messageId]! & 0x3f) | 0x80;
}

function readMessageId(buf: Buffer): string {
  const hex =
    buf.toString('hex', OFF.messageId + 8, OFF.messageId + 16) +
    buf.toString('hex', OFF.messageId, OFF.messageId + 8);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Readers trim trailing spaces and NULs from the type field. */
function trimTypeField(s: string): string {
  let end = s.length;
  while (end > 0 && (s[end - 1] === ' ' || s.charCodeAt(end - 1) === 0)) end--;
  return s.slice(0, end);
}

export function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

const EMPTY = Buffer.alloc(0);

/** Size of the encoded message for a payload of `payloadLength` bytes. */
export function encodedLength(payloadLength: number): number {
  return HEADER_LENGTH + 4 + payloadLength;
}

/**
 * Encodes one message into a single buffer: `into` when it has exactly the encoded length (a buffer the
 * caller reuses), else a new one. The payload may come in parts (a smux header and its data) so that callers
 * do not concatenate them first: the payload is copied exactly once.
 */
export function encodeMessage(msg: NewMessage, into?: Buffer): Buffer {
  const parts: readonly Buffer[] =
    msg.payload === undefined ? [] : Buffer.isBuffer(msg.payload) ? [msg.payload] : msg.payload;
  if (Buffer.byteLength(msg.messageType, 'ascii') > TYPE_LENGTH) throw new FrameError('MessageType too long');
  let length = 0;
  for (const p of parts) length += p.length;
  // Every header byte is written below, so the buffer needs no zero-fill.
  const size = encodedLength(length);
  const buf = into?.length === size ? into : Buffer.allocUnsafe(size);
  buf.writeUInt32BE(HEADER_LENGTH, OFF.headerLength);
  buf.write(msg.messageType.padEnd(TYPE_LENGTH, ' '), OFF.messageType, TYPE_LENGTH, 'ascii');
  buf.writeUInt32BE(msg.schemaVersion ?? 1, OFF.schemaVersion);
  buf.writeBigUInt64BE(BigInt(msg.createdDate ?? Date.now()), OFF.createdDate);
  buf.writeBigInt64BE(BigInt(msg.sequenceNumber), OFF.sequenceNumber);
  buf.writeBigUInt64BE(BigInt(msg.flags ?? 0), OFF.flags);
  if (msg.messageId === undefined) writeRandomMessageId(buf);
  else writeMessageId(buf, msg.messageId);
  const hash = createHash('sha256');
  if (parts.length === 0) hash.update(EMPTY);
  let off = HEADER_LENGTH + 4;
  for (const p of parts) {
    hash.update(p);
    off += p.copy(buf, off);
  }
  hash.digest().copy(buf, OFF.payloadDigest);
  buf.writeUInt32BE(msg.payloadType, OFF.payloadType);
  buf.writeUInt32BE(length, HEADER_LENGTH);
  return buf;
}

/** Decodes and validates like the reference client. Throws FrameError on rejection. */
export function decodeMessage(buf: Buffer): ClientMessage {
  if (buf.length < HEADER_LENGTH + 4) throw new FrameError(`message too short (${buf.length} bytes)`);
  const headerLength = buf.readUInt32BE(OFF.headerLength);
  const messageType = trimTypeField(buf.toString('ascii', OFF.messageType, OFF.messageType + TYPE_LENGTH));
  const skipChecks =
    messageType === MessageType.StartPublication || messageType === MessageType.PausePublication;
  if (!skipChecks) {
    if (headerLength === 0) throw new FrameError('HeaderLength is 0');
    if (messageType === '') throw new FrameError('MessageType is empty');
  }
  // The payload is everything after HeaderLength+4; PayloadLength sits at HeaderLength.
  const hl = headerLength === 0 ? HEADER_LENGTH : headerLength;
  if (hl + 4 > buf.length) throw new FrameError(`HeaderLength ${headerLength} beyond message end`);
  const createdDate = Number(buf.readBigUInt64BE(OFF.createdDate));
  const payloadLength = buf.readUInt32BE(hl);
  const payload = buf.subarray(hl + 4);
  const payloadDigest = buf.subarray(OFF.payloadDigest, OFF.payloadDigest + 32);
  if (!skipChecks) {
    if (createdDate === 0) throw new FrameError('CreatedDate is 0');
    if (payloadLength > 0 && !sha256(payload).equals(payloadDigest))
      throw new FrameError('payload digest mismatch');
  }
  return {
    headerLength,
    messageType,
    schemaVersion: buf.readUInt32BE(OFF.schemaVersion),
    createdDate,
    sequenceNumber: Number(buf.readBigInt64BE(OFF.sequenceNumber)),
    flags: Number(buf.readBigUInt64BE(OFF.flags)),
    messageId: readMessageId(buf),
    payloadDigest,
    payloadType: buf.readUInt32BE(OFF.payloadType),
    payloadLength,
    payload,
  };
}
