/** The GraphQL documents the client sends, and the shapes it reads back. */

import type { Modalities } from "./modalities";
import type { Parameter } from "./params";
import type { Permissions } from "./permissions";
import type { Schema } from "./schema";

export type RunMode = "TRAIN" | "INFER" | "BOTH" | "NONE";
export type InstanceStatus = "PENDING" | "STARTING" | "RUNNING" | "PAUSED" | "STOPPING" | "TERMINATED" | "FAILED";

export const VIEWER = "{ username roles permissions }";
export const ME = `query Me { me ${VIEWER} }`;

export interface ModelSpec {
  name: string;
  kind: string;
  description: string | null;
  parameters: Parameter[];
  inputModalities: Modalities | null;
  outputModalities: Modalities | null;
  trainable: boolean;
  modes: RunMode[];
  checkpointable: boolean;
  error: string | null;
}

export interface EnvSpec {
  name: string;
  kind: string;
  description: string | null;
  parameters: Parameter[];
  observationModalities: Modalities | null;
  actionModalities: Modalities | null;
  error: string | null;
}

const PARAMETER = "name type default description range choices display";
export const CATALOG = `query Catalog {
  models { name kind description trainable modes checkpointable error inputModalities outputModalities parameters { ${PARAMETER} } }
  environments { name kind description error observationModalities actionModalities parameters { ${PARAMETER} } }
}`;

export interface InstanceSummary {
  id: string;
  status: InstanceStatus;
  mode: RunMode;
  step: number;
  episode: number;
  metrics: Record<string, unknown> | null;
  owner: string | null;
  createdAt: string;
  error: string | null;
  public?: boolean | null;
  /** What the viewer may do to this instance, when the server says (it then decides, not `can`). */
  permissions?: string[] | null;
  model: { name: string };
  environment: { name: string } | null;
  /** From "Leave it running", when the server has them. */
  pace?: number | null;
  stepsPerSecond?: number | null;
  waitingFor?: string | null;
  stopReason?: string | null;
}

/** Instance fields a server may not have yet: asked for only when present. */
const RUN_FIELDS = ["public", "permissions", "pace", "stepsPerSecond", "waitingFor", "stopReason"];

/** Optional fields a server may add (marking instances public): asked for only when present. */
function optional(schema: Schema, type: string, fields: string[]): string {
  return fields.filter((f) => schema.has(type, f)).join(" ");
}

export function instancesQuery(schema: Schema): string {
  return `query Instances { instances {
    id status mode step episode metrics owner createdAt error ${optional(schema, "Instance", RUN_FIELDS)}
    model { name } environment { name } } }`;
}

export interface Checkpoint {
  id: string;
  tag: string;
  step: number;
  episode?: number;
  createdAt: string;
  metrics: Record<string, unknown> | null;
  sizeBytes: number | null;
  parent: { id: string } | null;
  instance?: string;
}

export interface Recording {
  id: string;
  instance: string;
  streams: string[];
  status: string;
  steps: number;
  sizeBytes: number | null;
  startedAt: string;
  stoppedAt: string | null;
  chunks?: number;
  cutShort?: boolean;
  checkpoint?: string | null;
  replayOf?: string | null;
  downloadUrl?: string;
  minariUrl?: string;
  error?: string | null;
}

export interface Override {
  id: string;
  target: string;
  value: unknown;
  mode: string;
  takeover?: string | null;
  active?: boolean;
  setBy: string | null;
  createdAt: string;
  /** Takeover leases, when the server has them. */
  holder?: string | null;
  leaseExpiresAt?: string | null;
  holdSeconds?: number | null;
}

export interface Layer {
  name: string;
  type: string;
  parameters: number;
  shapes: Record<string, number[]>;
  output_shape?: number[] | null;
}

export interface Architecture {
  framework?: string | null;
  parameters?: number | null;
  layers?: Layer[];
  inputModalities?: Modalities | null;
  outputModalities?: Modalities | null;
}

export interface InstanceDetail extends InstanceSummary {
  modes: RunMode[];
  parameters: Record<string, unknown> | null;
  seed?: number | null;
  architecture: Architecture | null;
  state: unknown;
  model: { name: string; kind: string; trainable: boolean; checkpointable: boolean; modes: RunMode[] };
  environment: { name: string; observationModalities: Modalities | null; actionModalities: Modalities | null } | null;
  checkpoints: Checkpoint[];
  recordings: Recording[];
  overrides: Override[];
  headCheckpoint?: { id: string } | null;
  parentCheckpoint?: { id: string } | null;
}

const CHECKPOINT = "id tag step episode createdAt metrics sizeBytes parent { id }";
const RECORDING =
  "id instance streams status steps sizeBytes startedAt stoppedAt chunks cutShort checkpoint replayOf downloadUrl minariUrl error";

export function instanceQuery(schema: Schema): string {
  return `query Instance($id: ID!) { instance(id: $id) {
    id status mode modes step episode metrics owner createdAt error parameters seed architecture
    ${optional(schema, "Instance", RUN_FIELDS)}
    model { name kind trainable checkpointable modes }
    environment { name observationModalities actionModalities }
    checkpoints { ${CHECKPOINT} }
    recordings { ${RECORDING} }
    overrides { id target value mode takeover active setBy createdAt ${optional(schema, "Override", ["holder", "leaseExpiresAt", "holdSeconds"])} }
    headCheckpoint { id } parentCheckpoint { id } } }`;
}

export const INSTANCE_EVENTS = `subscription Events($id: ID) {
  instanceEvents(id: $id) { instance kind status mode message time } }`;

export interface InstanceEvent {
  instance: string;
  kind: string;
  status: InstanceStatus | null;
  mode: RunMode | null;
  message: string | null;
  time: number;
}

export const TELEMETRY = `subscription Telemetry($id: ID!, $streams: [String!], $maxHz: Float) {
  telemetry(id: $id, streams: $streams, maxHz: $maxHz) { instance step time episode dropped streams } }`;

export const LAUNCH = `mutation Launch($input: LaunchInput!) { launch(input: $input) { id status } }`;

const BRIEF = "{ id status mode step episode }";
export const PAUSE = `mutation Pause($id: ID!) { pause(id: $id) ${BRIEF} }`;
export const RESUME = `mutation Resume($id: ID!) { resume(id: $id) ${BRIEF} }`;
export const TERMINATE = `mutation Terminate($id: ID!) { terminate(id: $id) ${BRIEF} }`;
export const SET_MODE = `mutation SetMode($id: ID!, $mode: RunMode!) { setMode(id: $id, mode: $mode) ${BRIEF} }`;
export const SAVE_CHECKPOINT = `mutation Save($id: ID!, $tag: String) { saveCheckpoint(id: $id, tag: $tag) { ${CHECKPOINT} } }`;
export const RESTORE_CHECKPOINT = `mutation Restore($id: ID!, $checkpoint: ID!) {
  restoreCheckpoint(id: $id, checkpoint: $checkpoint) ${BRIEF} }`;
export const SET_PUBLIC = `mutation SetPublic($id: ID!, $public: Boolean!) { setPublic(id: $id, public: $public) { id } }`;

export const OVERRIDE = `mutation Override($id: ID!, $input: OverrideInput!) {
  override(id: $id, input: $input) { id target takeover active } }`;
export const CLEAR_OVERRIDE = `mutation Clear($id: ID!, $override: ID!) { clearOverride(id: $id, override: $override) }`;
export const ACT = `mutation Act($id: ID!, $value: JSON, $target: String) { act(id: $id, value: $value, target: $target) }`;

export const START_RECORDING = `mutation StartRecording($id: ID!, $streams: [String!]) {
  startRecording(id: $id, streams: $streams) { ${RECORDING} } }`;
export const STOP_RECORDING = `mutation StopRecording($recording: ID!) { stopRecording(recording: $recording) { ${RECORDING} } }`;

export interface Replay {
  id: string;
  recording: string;
  instance: string;
  status: string;
  steps: number;
  mode?: string;
  totalSteps?: number | null;
  checkpoint?: string | null;
  error?: string | null;
  outputRecording?: { id: string } | null;
}
const REPLAY = "id recording instance status steps mode totalSteps checkpoint error outputRecording { id }";
export const REPLAY_OPEN = `mutation Replay($id: ID!, $recording: ID!) { replay(id: $id, recording: $recording) { ${REPLAY} } }`;
export const REPLAY_CLOSED = `mutation ReplayClosed($id: ID!, $recording: ID!) {
  replayClosedLoop(id: $id, recording: $recording) { ${REPLAY} } }`;
export const REPLAY_STATUS = `query ReplayStatus($id: ID!) { replay(id: $id) { ${REPLAY} } }`;
export const COMPARE = `query Compare($recorded: ID!, $replayed: ID!, $streams: [String!], $limit: Int) {
  compareRecordings(recorded: $recorded, replayed: $replayed, streams: $streams, limit: $limit) }`;

export interface Session {
  token: string;
  expiresAt: string;
  viewer: { username: string | null; roles: string[]; permissions: Permissions };
}
export const LOGIN = `mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) { token expiresAt viewer ${VIEWER} } }`;

export const EMERGENCY_STOP = `mutation EmergencyStop($id: ID!) { emergencyStop(id: $id) ${BRIEF} }`;
export const SET_PACE = `mutation SetPace($id: ID!, $pace: Float, $realtime: Boolean) {
  setPace(id: $id, pace: $pace, realtime: $realtime) { id pace } }`;
