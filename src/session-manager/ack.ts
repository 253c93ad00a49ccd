// Acknowledge messages: header seq 0, flags 3, PayloadType 0, JSON payload. Senders match by sequence only.
import { FrameError } from './errors.js';
import { encodeMessage } from './frame.js';
import {
  HeaderFlag,
  MessageType,
  PayloadType,
  type AcknowledgeContent,
  type ClientMessage,
} from './types.js';

export function buildAckContent(msg: ClientMessage): AcknowledgeContent {
  return {
    AcknowledgedMessageType: msg.messageType,
    AcknowledgedMessageId: msg.messageId.toLowerCase(),
    AcknowledgedMessageSequenceNumber: msg.sequenceNumber,
    IsSequentialMessage: true,
  };
}

export function encodeAck(msg: ClientMessage, now: number): Buffer {
  return encodeMessage({
    messageType: MessageType.Acknowledge,
    sequenceNumber: 0,
    flags: HeaderFlag.Ack,
    payloadType: PayloadType.Undefined,
    payload: Buffer.from(JSON.stringify(buildAckContent(msg))),
    createdDate: now,
  });
}

export function parseAckContent(payload: Buffer): AcknowledgeContent {
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new FrameError('acknowledge payload is not JSON');
  }
  const o = v as Partial<AcknowledgeContent> | null;
  if (!o || typeof o.AcknowledgedMessageSequenceNumber !== 'number') {
    throw new FrameError('acknowledge payload lacks AcknowledgedMessageSequenceNumber');
  }
  return {
    AcknowledgedMessageType: String(o.AcknowledgedMessageType ?? ''),
    AcknowledgedMessageId: String(o.AcknowledgedMessageId ?? ''),
    AcknowledgedMessageSequenceNumber: o.AcknowledgedMessageSequenceNumber,
    IsSequentialMessage: o.IsSequentialMessage !== false,
  };
}
