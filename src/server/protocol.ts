/**
 * The WebSocket protocol, version 2: JSON text messages, validated on both sides with these
 * schemas; binary messages from a client carry one JPEG or PNG camera frame each, binary messages
 * from the server one preview frame each (preview-frame.ts). Version 2 added previews: a version-1
 * client never asks for them and sees no other change.
 * Documented in the README ("WebSocket protocol"); bump PROTOCOL_VERSION on breaking changes.
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 2;

export { MIN_TOKEN_LENGTH } from './limits.ts';

const box = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });
const probs = z.array(z.number().min(0).max(1));

export const faceSchema = z.object({
  id: z.number().int().positive(),
  box,
  /** Detection score. */
  score: z.number().min(0).max(1),
  probs,
  smoothed: probs,
  label: z.string(),
  smoothedLabel: z.string(),
  consensus: z.number().min(0).max(1),
});

export const sourceInfoSchema = z.object({
  id: z.string(),
  kind: z.enum(['file', 'url', 'webcam', 'push']),
  live: z.boolean(),
});

const sourceStatsSchema = z.object({
  source: z.string(),
  framesIn: z.number(),
  framesAnalysed: z.number(),
  framesDropped: z.number(),
  faces: z.number(),
  fps: z.number(),
  latencyMs: z.object({ p50: z.number(), p95: z.number(), max: z.number() }),
  ended: z.boolean(),
});

/** Largest pushed timestamp (seconds, ~31 years) and frame number a client may announce. */
export const MAX_PUSH_PTS = 1e9;
export const MAX_PUSH_FRAME = 2 ** 31 - 1;

export const ERROR_CODES = [
  'bad_json',
  'bad_message',
  'unknown_type',
  'too_large',
  'rate_limited',
  'unknown_source',
  'bad_image',
  'bad_timestamp',
  'source_failed',
  'internal',
] as const;

export const serverMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    protocol: z.literal(PROTOCOL_VERSION),
    clientId: z.string(),
    model: z.object({
      name: z.string(),
      classes: z.array(z.string()),
      members: z.number().int().positive(),
      engine: z.string(),
    }),
    sources: z.array(sourceInfoSchema),
    limits: z.object({
      maxMessageBytes: z.number(),
      maxImageBytes: z.number(),
      messagesPerSecond: z.number(),
    }),
  }),
  z.object({
    type: z.literal('frame'),
    source: z.string(),
    frame: z.number().int().nonnegative(),
    /** Presentation time of the frame in its source, seconds. */
    pts: z.number(),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    faces: z.array(faceSchema),
    /** Frames of this source dropped so far (latest-wins), and the frames dropped for this client. */
    dropped: z.number().int().nonnegative(),
    clientDropped: z.number().int().nonnegative(),
    /** Server wall-clock ms when the frame entered the pipeline, and frame-to-result latency. */
    t: z.number(),
    latencyMs: z.number(),
  }),
  z.object({
    type: z.literal('stats'),
    sources: z.array(sourceStatsSchema),
    clients: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal('error'),
    code: z.enum(ERROR_CODES),
    message: z.string(),
    source: z.string().optional(),
  }),
  z.object({
    type: z.literal('end'),
    source: z.string(),
    reason: z.enum(['eof', 'error', 'closed']),
    frames: z.number().int().nonnegative(),
    dropped: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal('sources'), sources: z.array(sourceInfoSchema) }),
  z.object({ type: z.literal('pong'), id: z.union([z.string(), z.number()]).optional() }),
]);

const sourceList = z.array(z.string().min(1).max(256)).min(1).max(64);

/** Preview limits: the server never sends larger or more frequent previews than these. */
export const PREVIEW_MAX_WIDTH = 640;
export const PREVIEW_MAX_FPS = 15;

/** A subscriber's request for preview frames (JPEG) of the sources it subscribes to. */
export const previewRequestSchema = z
  .object({
    maxWidth: z.number().int().min(64).max(PREVIEW_MAX_WIDTH).default(PREVIEW_MAX_WIDTH),
    fps: z.number().positive().max(PREVIEW_MAX_FPS).default(PREVIEW_MAX_FPS),
  })
  .strict();

/** The JSON header of a binary preview message (see preview-frame.ts for the framing). */
export const previewHeaderSchema = z.object({
  type: z.literal('preview'),
  source: z.string(),
  /** The analysed frame this picture belongs to (matches the `frame` message's `frame`). */
  frame: z.number().int().nonnegative(),
  pts: z.number(),
  /** Size of the JPEG, and of the analysed frame its boxes refer to. */
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  frameWidth: z.number().int().positive(),
  frameHeight: z.number().int().positive(),
});

export const clientMessageSchema = z.discriminatedUnion('type', [
  /** Receive `frame`/`end` messages of these sources ('*': all, including ones added later). */
  z
    .object({
      type: z.literal('subscribe'),
      sources: sourceList,
      /** Also send preview frames of these sources (protocol 2). */
      preview: previewRequestSchema.optional(),
    })
    .strict(),
  z.object({ type: z.literal('unsubscribe'), sources: sourceList }).strict(),
  z
    .object({ type: z.literal('ping'), id: z.union([z.string().max(64), z.number()]).optional() })
    .strict(),
  z.object({ type: z.literal('stats') }).strict(),
  /** Announces the next binary message: its frame number and/or timestamp (seconds). */
  z
    .object({
      type: z.literal('push'),
      frame: z.number().int().nonnegative().max(MAX_PUSH_FRAME).optional(),
      // Finite and bounded, so that timestamps a millisecond apart stay distinct numbers.
      pts: z.number().finite().nonnegative().max(MAX_PUSH_PTS).optional(),
    })
    .strict(),
]);

export type ServerMessage = z.infer<typeof serverMessageSchema>;
/** A message as a client writes it (optional fields may be left out). */
export type ClientMessage = z.input<typeof clientMessageSchema>;
/** A client message as the server reads it, defaults filled in. */
export type ParsedClientMessage = z.infer<typeof clientMessageSchema>;
export type FaceMessage = z.infer<typeof faceSchema>;
export type SourceInfo = z.infer<typeof sourceInfoSchema>;
export type ErrorCode = (typeof ERROR_CODES)[number];
export type FrameMessage = Extract<ServerMessage, { type: 'frame' }>;
export type HelloMessage = Extract<ServerMessage, { type: 'hello' }>;
export type PreviewRequest = z.infer<typeof previewRequestSchema>;
export type PreviewHeader = z.infer<typeof previewHeaderSchema>;

export const CLIENT_TYPES = clientMessageSchema.options.map((o) => o.shape.type.value);

/** Parses a client text message; returns the message or the error to send back. */
export function parseClientMessage(
  text: string,
):
  | { ok: true; message: ParsedClientMessage }
  | { ok: false; code: ErrorCode; message: string; type?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: 'bad_json', message: 'message is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return {
      ok: false,
      code: 'bad_message',
      message: 'message must be a JSON object with a "type"',
    };
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !(CLIENT_TYPES as string[]).includes(type))
    return {
      ok: false,
      code: 'unknown_type',
      message: `unknown message type ${JSON.stringify(type)?.slice(0, 40)}; expected one of ${CLIENT_TYPES.join(', ')}`,
    };
  const parsed = clientMessageSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      code: 'bad_message',
      message: `'${type}' message: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
      type,
    };
  }
  return { ok: true, message: parsed.data };
}

/** Rounds for the wire: 4 decimals for probabilities, 1 for pixels (keeps frames ~1 KB). */
export function round(v: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}
