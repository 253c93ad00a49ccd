import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildAckContent, encodeAck, parseAckContent } from '../../src/session-manager/ack.js';
import { FrameError } from '../../src/session-manager/errors.js';
import { decodeFlag, encodeFlag } from '../../src/session-manager/flags.js';
import { decodeMessage, encodeMessage, sha256 } from '../../src/session-manager/frame.js';
import {
  buildHandshakeComplete,
  buildHandshakeRequest,
  buildHandshakeResponse,
  parseHandshakeComplete,
  parseHandshakeRequest,
  parseHandshakeResponse,
  readSessionTypeParameters,
} from '../../src/session-manager/handshake.js';
import { MessageType, PortFlag } from '../../src/session-manager/types.js';
import {
  agentSmuxKeepAlive,
  agentUsesMux,
  CLIENT_VERSION,
  clientSmuxKeepAlive,
  clientUsesMux,
  compareVersions,
  referenceClientSmuxKeepAlive,
} from '../../src/session-manager/versions.js';

const VECTOR_HEX = `
00 00 00 74 69 6e 70 75 74 5f 73 74 72 65 61 6d
5f 64 61 74 61 20 20 20 20 20 20 20 20 20 20 20
20 20 20 20 00 00 00 01 00 00 01 5e 0b aa 78 84
00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 00
a5 08 b5 f0 73 f3 1b 16 dd 01 e5 6b ff 48 48 3e
23 9f 59 ed 55 e7 37 c7 71 47 cf 55 ad 0c 1b 03
0b 6d 7e e7 48 a7 42 69 52 f9 b8 52 d5 a9 35 e5
00 00 00 01 00 00 00 07 70 61 79 6c 6f 61 64`;
const VECTOR = Buffer.from(VECTOR_HEX.replace(/\s+/g, ''), 'hex');

const vectorMessage = {
  messageType: 'input_stream_data',
  schemaVersion: 1,
  createdDate: 1503434274948,
  sequenceNumber: 2,
  flags: 0,
  messageId: 'dd01e56b-ff48-483e-a508-b5f073f31b16',
  payloadType: 1,
  payload: Buffer.from('payload'),
};

test('test vector: encode is byte-exact', () => {
  assert.is(VECTOR.length, 127);
  const enc = encodeMessage(vectorMessage);
  assert.is(enc.toString('hex'), VECTOR.toString('hex'));
});

test('test vector: decode yields every field', () => {
  const m = decodeMessage(VECTOR);
  assert.is(m.headerLength, 116);
  assert.is(m.messageType, 'input_stream_data');
  assert.is(m.schemaVersion, 1);
  assert.is(m.createdDate, 1503434274948);
  assert.is(m.sequenceNumber, 2);
  assert.is(m.flags, 0);
  assert.is(m.messageId, 'dd01e56b-ff48-483e-a508-b5f073f31b16');
  assert.is(m.payloadDigest.toString('hex'), sha256(Buffer.from('payload')).toString('hex'));
  assert.is(m.payloadType, 1);
  assert.is(m.payloadLength, 7);
  assert.is(m.payload.toString(), 'payload');
});

test('round trips: large seq, flags, empty payload, big payload, all types', () => {
  const cases = [
    { ...vectorMessage, sequenceNumber: 2 ** 40 + 7, flags: 3, payload: Buffer.alloc(0), payloadType: 0 },
    { ...vectorMessage, messageType: MessageType.OutputStreamData, payload: Buffer.alloc(70_000, 0xab) },
    { ...vectorMessage, messageType: MessageType.Acknowledge, sequenceNumber: 0 },
  ];
  for (const c of cases) {
    const d = decodeMessage(encodeMessage(c));
    assert.is(d.messageType, c.messageType);
    assert.is(d.sequenceNumber, c.sequenceNumber);
    assert.is(d.flags, c.flags);
    assert.is(d.messageId, c.messageId);
    assert.is(d.payloadType, c.payloadType);
    assert.ok(d.payload.equals(c.payload));
    assert.is(d.payloadLength, c.payload.length);
  }
});

test('payload is everything after HeaderLength+4, not sliced by PayloadLength', () => {
  const b = Buffer.from(VECTOR);
  b.writeUInt32BE(3, 116); // lie about the length; digest still covers all 7 bytes
  const m = decodeMessage(b);
  assert.is(m.payload.toString(), 'payload');
  assert.is(m.payloadLength, 3);
});

test('type is trimmed of spaces and NULs', () => {
  const b = Buffer.from(VECTOR);
  b.fill(0, 4 + 'input_stream_data'.length, 36);
  assert.is(decodeMessage(b).messageType, 'input_stream_data');
});

function rejects(b: Buffer, why: RegExp): void {
  try {
    decodeMessage(b);
  } catch (err) {
    assert.instance(err, FrameError);
    assert.match((err as Error).message, why);
    return;
  }
  assert.unreachable(`accepted: expected ${why}`);
}

test('rejects HeaderLength 0', () => {
  const b = Buffer.from(VECTOR);
  b.writeUInt32BE(0, 0);
  rejects(b, /HeaderLength is 0/);
});

test('rejects empty MessageType', () => {
  const b = Buffer.from(VECTOR);
  b.fill(0x20, 4, 36);
  rejects(b, /MessageType is empty/);
});

test('rejects CreatedDate 0', () => {
  const b = Buffer.from(VECTOR);
  b.fill(0, 40, 48);
  rejects(b, /CreatedDate is 0/);
});

test('rejects a bad digest when PayloadLength > 0, accepts it when PayloadLength is 0', () => {
  const b = Buffer.from(VECTOR);
  b[80] = (b[80] ?? 0) ^ 1;
  rejects(b, /digest/);
  const p = Buffer.from(VECTOR);
  p[120] = 0x71; // payload changed, digest stale
  rejects(p, /digest/);
  const z = Buffer.from(b);
  z.writeUInt32BE(0, 116);
  assert.is(decodeMessage(z).payloadLength, 0);
});

test('rejects truncated messages', () => {
  rejects(VECTOR.subarray(0, 100), /too short/);
  const b = Buffer.from(VECTOR);
  b.writeUInt32BE(200, 0);
  rejects(b, /beyond/);
});

test('start/pause_publication skip validation', () => {
  for (const t of [MessageType.StartPublication, MessageType.PausePublication]) {
    const b = encodeMessage({ messageType: t, sequenceNumber: 0, payloadType: 0, payload: Buffer.from('x') });
    b.fill(0, 40, 48); // CreatedDate 0
    b[80] = (b[80] ?? 0) ^ 1; // bad digest
    assert.is(decodeMessage(b).messageType, t);
  }
});

test('ack: build, encode, parse', () => {
  const m = decodeMessage(VECTOR);
  const c = buildAckContent(m);
  assert.equal(c, {
    AcknowledgedMessageType: 'input_stream_data',
    AcknowledgedMessageId: 'dd01e56b-ff48-483e-a508-b5f073f31b16',
    AcknowledgedMessageSequenceNumber: 2,
    IsSequentialMessage: true,
  });
  const a = decodeMessage(encodeAck(m, 1234));
  assert.is(a.messageType, 'acknowledge');
  assert.is(a.sequenceNumber, 0);
  assert.is(a.flags, 3);
  assert.is(a.payloadType, 0);
  assert.equal(parseAckContent(a.payload), c);
  assert.throws(() => parseAckContent(Buffer.from('{}')), /AcknowledgedMessageSequenceNumber/);
  assert.throws(() => parseAckContent(Buffer.from('nope')), /not JSON/);
});

test('flags', () => {
  assert.is(encodeFlag(PortFlag.ConnectToPortError).toString('hex'), '00000003');
  assert.is(decodeFlag(encodeFlag(PortFlag.TerminateSession)), 2);
  assert.throws(() => decodeFlag(Buffer.alloc(2)), /too short/);
});

test('handshake payloads', () => {
  const req = parseHandshakeRequest(
    buildHandshakeRequest('3.3.1802.0', { portNumber: '22', type: 'LocalPortForwarding', host: 'db' }),
  );
  assert.is(req.AgentVersion, '3.3.1802.0');
  assert.is(req.RequestedClientActions[0]?.ActionType, 'SessionType');
  const p = readSessionTypeParameters(req.RequestedClientActions[0]?.ActionParameters);
  assert.equal(p, {
    SessionType: 'Port',
    Properties: { portNumber: '22', type: 'LocalPortForwarding', host: 'db' },
  });
  const res = parseHandshakeResponse(
    buildHandshakeResponse('1.2.707.0', [
      { ActionType: 'SessionType', ActionStatus: 1, ActionResult: null, Error: '' },
    ]),
  );
  assert.is(res.ClientVersion, '1.2.707.0');
  assert.is(res.ProcessedClientActions[0]?.ActionStatus, 1);
  assert.equal(res.Errors, []);
  assert.equal(parseHandshakeComplete(buildHandshakeComplete(1.5e9, 'hi')), {
    HandshakeTimeToComplete: 1500000000,
    CustomerMessage: 'hi',
  });
  assert.throws(() => parseHandshakeRequest(Buffer.from('[]')), /not an object/);
  assert.throws(() => parseHandshakeResponse(Buffer.from('{}')), /ClientVersion/);
});

test('versions: four-part comparison and mode rules', () => {
  assert.is(compareVersions('3.0.196.0', '3.0.196.0'), 0);
  assert.is(compareVersions('3.0.196.1', '3.0.196.0'), 1);
  assert.is(compareVersions('3.0.1000.0', '3.0.196.0'), 1); // numeric, not lexical
  assert.is(compareVersions('1.1.70', '1.1.70.0'), 0);
  assert.is(compareVersions('1.2.0.0', '1.2.331.0'), -1);
  assert.ok(clientUsesMux('3.0.196.1', 'LocalPortForwarding'));
  assert.not.ok(clientUsesMux('3.0.196.0', 'LocalPortForwarding'));
  assert.not.ok(clientUsesMux('3.3.1802.0', 'Other'));
  assert.ok(agentUsesMux('3.3.1802.0', '1.1.70.0'));
  assert.not.ok(agentUsesMux('3.3.1802.0', '1.1.69.9'));
  assert.not.ok(agentUsesMux('3.0.161.0', '1.2.707.0'));
  // keepalive: new agent + new client off; any old side on.
  assert.not.ok(agentSmuxKeepAlive('3.3.1802.0', '1.2.331.1'));
  assert.ok(agentSmuxKeepAlive('3.3.1802.0', '1.2.331.0'));
  assert.ok(agentSmuxKeepAlive('3.1.1511.0', '1.2.707.0'));
  assert.ok(referenceClientSmuxKeepAlive('3.1.1511.0'));
  assert.not.ok(referenceClientSmuxKeepAlive('3.1.1511.1'));
  // The source-build mismatch the reference has (client 1.2.0.0) cannot happen with our rule.
  assert.is(clientSmuxKeepAlive('3.3.1802.0', '1.2.0.0'), agentSmuxKeepAlive('3.3.1802.0', '1.2.0.0'));
  // Our reported version: mux and no keepalive with a modern agent.
  assert.ok(agentUsesMux('3.3.1802.0', CLIENT_VERSION));
  assert.not.ok(agentSmuxKeepAlive('3.3.1802.0', CLIENT_VERSION));
});

test.run();
